"""RECORD and archive-path checks: every byte is what RECORD says, nothing lands outside."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import logging
import posixpath
import stat
import zipfile
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

from checker.cpus import usable_cpus
from checker.findings import Finding
from checker.wheel.contents import WheelContents

log = logging.getLogger(__name__)

# Files that RECORD lists without a hash, or that may be absent from RECORD (PEP 376/491).
_UNHASHED = ("RECORD", "RECORD.jws", "RECORD.p7s")
_WEAK_HASHES = frozenset({"md5", "sha1"})


def _finding(message: str, file: str | None) -> Finding:
    return Finding("integrity", "integrity", "integrity", message, file)


def unsafe_path_findings(names: tuple[str, ...]) -> list[Finding]:
    """Absolute paths, drive letters, backslashes, ``..`` segments and duplicates are refused."""
    findings = []
    seen: set[str] = set()
    for name in names:
        if name in seen:
            findings.append(_finding(f"archive member appears more than once: {name!r}", name))
        seen.add(name)
        if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
            findings.append(_finding(f"absolute archive path: {name!r}", name))
        elif "\\" in name:
            findings.append(_finding(f"archive path with a backslash: {name!r}", name))
        elif ".." in name.split("/") or posixpath.normpath(name).startswith("../"):
            findings.append(_finding(f"archive path escapes the install folder: {name!r}", name))
    return findings


def symlink_findings(contents: WheelContents) -> list[Finding]:
    findings = []
    for info in contents.zip.infolist():
        mode = info.external_attr >> 16
        if info.create_system == 3 and stat.S_ISLNK(mode):
            findings.append(_finding(f"symbolic link in archive: {info.filename!r}", info.filename))
    return findings


def _digests(
    contents: WheelContents, rows: list[tuple[int, list[str]]], members: set[str]
) -> dict[tuple[str, str], tuple[str, int]]:
    """(member, algorithm) -> (digest, size) of every hashed RECORD row, the largest members
    first, on a thread per usable CPU (inflating and hashing release the GIL)."""
    wanted = {
        (row[0], row[1].partition("=")[0])
        for _, row in rows
        if len(row) == 3 and row[0] in members and row[1]
    }
    wanted = {(m, a) for m, a in wanted if a in hashlib.algorithms_guaranteed}
    sizes = {info.filename: info.file_size for info in contents.zip.infolist()}
    order = sorted(wanted, key=lambda item: -sizes.get(item[0], 0))
    with ThreadPoolExecutor(max_workers=min(4, usable_cpus())) as pool:
        results = pool.map(lambda item: _digest(contents, *item), order)
        return dict(zip(order, results))


def _digest(contents: WheelContents, member: str, algorithm: str) -> tuple[str, int]:
    """A member's hash, read once (the installed file, else one streaming extraction that
    keeps a binary on disk for the audit and export checks: checker.wheel.members)."""
    digest, size = contents.store.digest(member, algorithm)
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii"), size


def record_rows(contents: WheelContents) -> Iterator[tuple[int, list[str]]]:
    """(line number, row) of the wheel's RECORD (csv), blank lines left out."""
    text = contents.zip.read(f"{contents.dist_info}/RECORD").decode("utf-8")
    for lineno, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if row:
            yield lineno, row


def record_hashes(contents: WheelContents) -> dict[str, str]:
    """Member -> its RECORD hash field (well-formed rows with a hash only)."""
    return {row[0]: row[1] for _, row in record_rows(contents) if len(row) == 3 and row[1]}


def record_findings(contents: WheelContents) -> list[Finding]:
    """Every member's hash and size against RECORD, and RECORD against the members."""
    record_name = f"{contents.dist_info}/RECORD"
    members = {n for n in contents.names if not n.endswith("/")}
    listed: set[str] = set()
    findings: list[Finding] = []
    rows = list(record_rows(contents))
    digests = _digests(contents, rows, members)
    for lineno, row in rows:
        if len(row) != 3:
            findings.append(_finding(f"{record_name} line {lineno}: malformed row {row!r}", None))
            continue
        path, hash_field, size_field = row
        listed.add(path)
        if path not in members:
            findings.append(
                _finding(f"RECORD lists a file that is not in the archive: {path!r}", path)
            )
            continue
        if not hash_field:
            if posixpath.basename(path) not in _UNHASHED or not path.startswith(
                contents.dist_info + "/"
            ):
                findings.append(_finding(f"RECORD has no hash: {path!r}", path))
            continue
        algorithm, _, expected = hash_field.partition("=")
        if algorithm in _WEAK_HASHES or algorithm not in hashlib.algorithms_guaranteed:
            findings.append(_finding(f"RECORD uses hash {algorithm!r}: {path!r}", path))
            continue
        actual, size = digests[(path, algorithm)]
        if actual != expected:
            findings.append(
                _finding(
                    f"file does not match its RECORD hash (modified after build): {path!r}", path
                )
            )
        elif size_field and size_field != str(size):
            findings.append(
                _finding(
                    f"file size differs from RECORD: {path!r} is {size} bytes, "
                    f"RECORD says {size_field}",
                    path,
                )
            )
    for path in sorted(members - listed):
        if path.startswith(contents.dist_info + "/") and posixpath.basename(path) in _UNHASHED:
            continue
        findings.append(_finding(f"file in the archive is not in RECORD: {path!r}", path))
    return findings


def archive_findings(contents: WheelContents) -> list[Finding]:
    """The checks on names alone (cheap; they decide whether anything may be written)."""
    return unsafe_path_findings(contents.names) + symlink_findings(contents)


def checked_record_findings(contents: WheelContents) -> list[Finding]:
    """record_findings, with an unreadable RECORD or damaged data as findings."""
    try:
        return record_findings(contents)
    except (UnicodeDecodeError, csv.Error) as exc:
        return [_finding(f"{contents.dist_info}/RECORD is unreadable: {exc}", None)]
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
        name = contents.path.name
        return [Finding("integrity", "integrity", "corrupt-wheel", f"{name}: {exc}")]


def integrity_findings(contents: WheelContents) -> list[Finding]:
    """All integrity checks of an opened wheel; empty when it is intact."""
    return archive_findings(contents) + checked_record_findings(contents)
