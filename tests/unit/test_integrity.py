"""Tests for checker.wheel.integrity: RECORD hashes and sizes, unsafe archive paths."""

from __future__ import annotations

import base64
import hashlib
import zipfile
from pathlib import Path

from checker.findings import Finding
from checker.wheel.contents import open_wheel
from checker.wheel.integrity import integrity_findings, unsafe_path_findings
from tests.support.wheelbuild import make_wheel

DIST_INFO = "foo-1.0.dist-info"
FILES: dict[str, bytes | str] = {
    "foo/__init__.py": "from foo._core import x\n",
    "foo/_core.py": "x = 1\n",
}


def _hash(data: bytes, algorithm: str = "sha256") -> str:
    digest = hashlib.new(algorithm, data).digest()
    return f"{algorithm}={base64.urlsafe_b64encode(digest).rstrip(b'=').decode()}"


def _findings(path: Path) -> list[Finding]:
    contents, opened = open_wheel(path)
    assert opened == []
    assert contents is not None
    with contents:
        return integrity_findings(contents)


def _rewrite(path: Path, replace: dict[str, bytes]) -> None:
    """Rewrite members' bytes, keeping every other member (and RECORD) as it was."""
    with zipfile.ZipFile(path) as archive:
        members = [(info.filename, archive.read(info)) for info in archive.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            archive.writestr(name, replace.get(name, data))


def _only(findings: list[Finding]) -> Finding:
    assert len(findings) == 1, findings
    finding = findings[0]
    assert finding.stage == "integrity"
    assert finding.module == "integrity"
    assert finding.kind == "integrity"
    return finding


def test_intact_wheel_has_no_findings(tmp_path: Path) -> None:
    assert _findings(make_wheel(tmp_path, "foo", "1.0", FILES)) == []


def test_intact_wheel_with_data_and_folders(tmp_path: Path) -> None:
    path = make_wheel(
        tmp_path,
        "foo",
        "1.0",
        {**FILES, "foo-1.0.data/scripts/run": "#!/bin/sh\n"},
        extra_members={"foo/": b""},
    )
    assert _findings(path) == []


def test_tampered_member(tmp_path: Path) -> None:
    path = make_wheel(tmp_path, "foo", "1.0", FILES)
    _rewrite(path, {"foo/_core.py": b"x = 2\n"})  # same size, other bytes
    finding = _only(_findings(path))
    assert finding.file == "foo/_core.py"
    assert "foo/_core.py" in finding.error
    assert "RECORD hash" in finding.error


def test_member_missing_from_record(tmp_path: Path) -> None:
    path = make_wheel(tmp_path, "foo", "1.0", FILES, extra_members={"foo/evil.py": b"import os"})
    finding = _only(_findings(path))
    assert finding.file == "foo/evil.py"
    assert "not in RECORD" in finding.error


def test_row_dropped_from_record(tmp_path: Path) -> None:
    path = make_wheel(tmp_path, "foo", "1.0", FILES, record_overrides={"foo/_core.py": None})
    finding = _only(_findings(path))
    assert finding.file == "foo/_core.py"
    assert "not in RECORD" in finding.error


def test_record_line_without_member(tmp_path: Path) -> None:
    path = make_wheel(
        tmp_path, "foo", "1.0", FILES, record_overrides={"foo/gone.py": f"{_hash(b'')},0"}
    )
    finding = _only(_findings(path))
    assert finding.file == "foo/gone.py"
    assert "foo/gone.py" in finding.error
    assert "not in the archive" in finding.error


def test_size_mismatch(tmp_path: Path) -> None:
    data = b"x = 1\n"
    path = make_wheel(
        tmp_path, "foo", "1.0", FILES, record_overrides={"foo/_core.py": f"{_hash(data)},999"}
    )
    finding = _only(_findings(path))
    assert finding.file == "foo/_core.py"
    assert "999" in finding.error
    assert str(len(data)) in finding.error


def test_empty_size_is_accepted(tmp_path: Path) -> None:
    data = b"x = 1\n"
    path = make_wheel(
        tmp_path, "foo", "1.0", FILES, record_overrides={"foo/_core.py": f"{_hash(data)},"}
    )
    assert _findings(path) == []


def test_other_strong_hash_is_accepted(tmp_path: Path) -> None:
    data = b"x = 1\n"
    row = f"{_hash(data, 'sha512')},{len(data)}"
    path = make_wheel(tmp_path, "foo", "1.0", FILES, record_overrides={"foo/_core.py": row})
    assert _findings(path) == []


def test_weak_hash(tmp_path: Path) -> None:
    data = b"x = 1\n"
    row = f"{_hash(data, 'md5')},{len(data)}"
    path = make_wheel(tmp_path, "foo", "1.0", FILES, record_overrides={"foo/_core.py": row})
    finding = _only(_findings(path))
    assert finding.file == "foo/_core.py"
    assert "md5" in finding.error


def test_unknown_hash_algorithm(tmp_path: Path) -> None:
    path = make_wheel(
        tmp_path, "foo", "1.0", FILES, record_overrides={"foo/_core.py": "crc32=abcd,6"}
    )
    assert "crc32" in _only(_findings(path)).error


def test_missing_hash_for_ordinary_file(tmp_path: Path) -> None:
    path = make_wheel(tmp_path, "foo", "1.0", FILES, record_overrides={"foo/_core.py": ","})
    finding = _only(_findings(path))
    assert "no hash" in finding.error
    assert finding.file == "foo/_core.py"


def test_record_itself_without_hash_is_fine(tmp_path: Path) -> None:
    path = make_wheel(tmp_path, "foo", "1.0", FILES)
    with zipfile.ZipFile(path) as archive:
        record = archive.read(f"{DIST_INFO}/RECORD").decode()
    assert f"{DIST_INFO}/RECORD,," in record
    assert _findings(path) == []


def test_unhashed_record_name_outside_dist_info_is_flagged(tmp_path: Path) -> None:
    path = make_wheel(
        tmp_path,
        "foo",
        "1.0",
        {**FILES, "foo/RECORD": "data"},
        record_overrides={"foo/RECORD": ","},
    )
    assert _only(_findings(path)).file == "foo/RECORD"


def test_malformed_record_row(tmp_path: Path) -> None:
    path = make_wheel(tmp_path, "foo", "1.0", FILES)
    with zipfile.ZipFile(path) as archive:
        record = archive.read(f"{DIST_INFO}/RECORD")
    _rewrite(path, {f"{DIST_INFO}/RECORD": record + b"just-one-column\n"})
    finding = _only(_findings(path))
    assert "malformed" in finding.error
    assert "just-one-column" in finding.error


def test_record_not_utf8(tmp_path: Path) -> None:
    path = make_wheel(tmp_path, "foo", "1.0", FILES)
    _rewrite(path, {f"{DIST_INFO}/RECORD": b"\xff\xfe\x00garbage"})
    finding = _only(_findings(path))
    assert "RECORD" in finding.error
    assert "unreadable" in finding.error


def _add_raw(path: Path, name: str, data: bytes = b"payload") -> None:
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr(zipfile.ZipInfo(name), data)


def test_absolute_path(tmp_path: Path) -> None:
    path = make_wheel(tmp_path, "foo", "1.0", FILES)
    _add_raw(path, "/etc/x")
    findings = _findings(path)
    unsafe = [f for f in findings if "absolute" in f.error]
    assert len(unsafe) == 1
    assert unsafe[0].file == "/etc/x"
    assert "/etc/x" in unsafe[0].error


def test_parent_segments(tmp_path: Path) -> None:
    path = make_wheel(tmp_path, "foo", "1.0", FILES)
    _add_raw(path, "../../x")
    escapes = [f for f in _findings(path) if "escapes" in f.error]
    assert [f.file for f in escapes] == ["../../x"]


def test_backslash_path(tmp_path: Path) -> None:
    path = make_wheel(tmp_path, "foo", "1.0", FILES)
    with zipfile.ZipFile(path, "a") as archive:
        info = zipfile.ZipInfo("foo/x.py")
        info.filename = "foo\\..\\..\\x.py"  # bypass ZipInfo's separator normalisation
        archive.writestr(info, b"")
    backslash = [f for f in _findings(path) if "backslash" in f.error]
    assert [f.file for f in backslash] == ["foo\\..\\..\\x.py"]


def test_symlink_member(tmp_path: Path) -> None:
    path = make_wheel(tmp_path, "foo", "1.0", FILES)
    with zipfile.ZipFile(path, "a") as archive:
        info = zipfile.ZipInfo("foo/link")
        info.create_system = 3
        info.external_attr = (0o120777) << 16
        archive.writestr(info, b"/etc/passwd")
    assert any("symbolic link" in f.error and f.file == "foo/link" for f in _findings(path))


def test_unsafe_path_findings_directly() -> None:
    names = ("ok/a.py", "/abs", "C:/win", "a/../../b", "a\\b", "a/./b", "..x/y")
    flagged = {f.file for f in unsafe_path_findings(names)}
    assert flagged == {"/abs", "C:/win", "a/../../b", "a\\b"}


def test_damaged_compressed_data_is_corrupt_wheel(tmp_path: Path) -> None:
    path = make_wheel(tmp_path, "foo", "1.0", {**FILES, "foo/big.py": "y = 2\n" * 5000})
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("foo/big.py")
    data = bytearray(path.read_bytes())
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for offset in range(start + 4, start + min(info.compress_size, 40)):
        data[offset] ^= 0xFF
    path.write_bytes(bytes(data))
    findings = _findings(path)
    assert len(findings) == 1
    assert findings[0].kind == "corrupt-wheel"
    assert path.name in findings[0].error
