"""The inflate adapter: the same bytes as zipfile, whichever backend; damage is noticed."""

from __future__ import annotations

import os
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from checker.wheel import inflate

DATA = os.urandom(3 << 20) + b"abc" * 1_000_000  # several chunks, incompressible and not


@pytest.fixture(params=["best", "zlib"])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    inflate.backend.cache_clear()
    if request.param == "zlib":
        monkeypatch.setattr(inflate, "_BACKENDS", ("no_such_inflate_module",))
    yield inflate.backend_name()
    inflate.backend.cache_clear()


def _archive(tmp: Path) -> Path:
    path = tmp / "a.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("deflated.bin", DATA, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("stored.bin", DATA[:1000], compress_type=zipfile.ZIP_STORED)
        archive.writestr("empty", b"", compress_type=zipfile.ZIP_DEFLATED)
    return path


def test_streams_the_same_bytes_as_zipfile(tmp_path: Path, backend: str) -> None:
    path = _archive(tmp_path)
    if backend == "zlib":
        assert inflate.backend() is zlib
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            chunks = list(inflate.stream_member(archive, info))
            assert all(len(c) <= inflate.CHUNK for c in chunks)
            assert b"".join(chunks) == archive.read(info)


def test_damaged_member_is_a_bad_zip(tmp_path: Path, backend: str) -> None:
    path = _archive(tmp_path)
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("deflated.bin")
        offset = info.header_offset + 30 + len(info.filename) + len(info.extra) + 1000
    data = bytearray(path.read_bytes())
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))
    with zipfile.ZipFile(path) as archive, pytest.raises(zipfile.BadZipFile):
        b"".join(inflate.stream_member(archive, archive.getinfo("deflated.bin")))
