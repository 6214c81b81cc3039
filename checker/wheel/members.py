"""Where a wheel's member bytes are read from: each byte once, from disk, never a whole binary
in memory.

When uv has installed the wheel, its files are the wheel's bytes: a member is read from the
installed file (hashed while read, and its CRC-32 and size compared with the archive's
central directory, so a file that is not this wheel's member, say from a stale cache, is
noticed and the member read from the archive instead). Otherwise (``nox -s audit``, a wheel
that is not installed) a member is inflated once, streaming: hashed as it streams, and a
binary (found by its first bytes) written to a temporary file as it streams. Members are
read on several threads at once (inflating and hashing release the GIL). Binaries are
then parsed through ``mmap``: the readers touch only the parts a format needs (ELF headers,
dynamic section and symbols; Mach-O load commands; PE directories).
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import shutil
import tempfile
import threading
import zipfile
from collections.abc import Callable
from pathlib import Path

from checker.binary import SNIFF_SIZE, sniff
from checker.wheel.inflate import backend, stream_member

log = logging.getLogger(__name__)

CHUNK = 1 << 20

Locate = Callable[[str], "Path | None"]
"""Member name -> the file uv installed it to (None: not installed as-is, e.g. a script)."""


class MemberStore:
    """A wheel's member bytes on disk: installed files, or one streaming extraction each."""

    def __init__(self, archive: zipfile.ZipFile) -> None:
        self._zip = archive
        self._locate: Locate | None = None
        self._paths: dict[str, Path] = {}  # member -> installed or extracted file, verified
        self._digests: dict[tuple[str, str], tuple[bytes, int]] = {}
        self._tmp: Path | None = None
        self._lock = threading.Lock()  # members are read from several threads at once
        self._count = itertools.count()
        self.differing: set[str] = set()
        """Members whose installed file is not the archive's member (never trusted)."""

    def use_installed(self, locate: Locate) -> None:
        self._locate = locate

    def close(self) -> None:
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None
        self._paths.clear()

    def digest(self, member: str, algorithm: str) -> tuple[bytes, int]:
        """(digest, size) of a member's bytes, reading them once (see the module doc)."""
        known = self._digests.get((member, algorithm))
        if known is None:
            known = self._read(member, algorithm)
        return known

    def head(self, member: str) -> bytes:
        """The first bytes of a member (for sniffing), without inflating the rest."""
        path = self._paths.get(member)
        if path is not None:
            with path.open("rb") as handle:
                return handle.read(SNIFF_SIZE)
        with self._zip.open(member) as handle:
            return handle.read(SNIFF_SIZE)

    def path(self, member: str) -> Path:
        """A file holding the member's bytes (extracted on first need)."""
        if member not in self._paths:
            self._read(member, "sha256", keep=True)
        if member not in self._paths:  # an empty member: nothing was streamed
            empty = self._temp_file(member)
            empty.touch()
            self._paths[member] = empty
        return self._paths[member]

    def _read(self, member: str, algorithm: str, *, keep: bool = False) -> tuple[bytes, int]:
        info = self._zip.getinfo(member)
        installed = self._locate(member) if self._locate and member not in self.differing else None
        if installed is not None and installed.is_file():
            found = self._from_file(member, installed, info, algorithm)
            if found is not None:
                return found
        return self._from_archive(member, info, algorithm, keep=keep)

    def _from_file(
        self, member: str, path: Path, info: zipfile.ZipInfo, algorithm: str
    ) -> tuple[bytes, int] | None:
        hasher = hashlib.new(algorithm)
        crc32 = backend().crc32  # ISA-L's CRC-32 is ~6x zlib's where python-isal is installed
        crc, size = 0, 0
        with path.open("rb") as handle:
            while chunk := handle.read(CHUNK):
                hasher.update(chunk)
                crc = crc32(chunk, crc)
                size += len(chunk)
        if size != info.file_size or crc != info.CRC:
            log.info("%s: the installed %s is not the archive's member", member, path)
            with self._lock:
                self.differing.add(member)
            return None
        self._paths[member] = path
        result = (hasher.digest(), size)
        self._digests[(member, algorithm)] = result
        return result

    def _from_archive(
        self, member: str, info: zipfile.ZipInfo, algorithm: str, *, keep: bool
    ) -> tuple[bytes, int]:
        hasher = hashlib.new(algorithm)
        size = 0
        out = None
        try:
            for chunk in stream_member(self._zip, info):  # the fastest inflate at hand
                if size == 0 and (keep or sniff(chunk[:SNIFF_SIZE]) is not None):
                    out = self._temp_file(member).open("wb")
                hasher.update(chunk)
                size += len(chunk)
                if out is not None:
                    out.write(chunk)
        finally:
            if out is not None:
                out.close()
        if out is not None:
            self._paths[member] = Path(out.name)
        result = (hasher.digest(), size)
        self._digests[(member, algorithm)] = result
        return result

    def _temp_file(self, member: str) -> Path:
        with self._lock:
            if self._tmp is None:
                self._tmp = Path(tempfile.mkdtemp(prefix="native-check-members-"))
            return self._tmp / f"{next(self._count):06d}-{Path(member).name}"
