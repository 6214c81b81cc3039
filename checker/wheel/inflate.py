"""Streaming a zip member's bytes with the fastest inflate at hand.

zlib inflates ~250 MB/s on one core; python-isal (``isal.isal_zlib``, Intel's ISA-L) and
zlib-ng (``zlib_ng.zlib_ng``) are drop-in replacements several times faster. Whichever is
importable is used, zlib otherwise; the bytes are the same (each is checked against the
member's CRC-32 and size from the central directory, as zipfile checks them). Only the
inflate is replaced: a member that is not stored or deflated, or is encrypted, is read by
zipfile as before.
"""

from __future__ import annotations

import functools
import importlib
import struct
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

CHUNK = 1 << 20
_LOCAL_HEADER = 30  # fixed part of a zip local file header
_BACKENDS = ("isal.isal_zlib", "zlib_ng.zlib_ng")


@functools.cache
def backend() -> ModuleType:
    """The fastest importable zlib-compatible module (zlib when neither is installed)."""
    for name in _BACKENDS:
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    return zlib


def backend_name() -> str:
    return backend().__name__


def _streamable(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bool:
    return (
        isinstance(archive.filename, str)
        and info.compress_type in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
        and not info.flag_bits & 0x1  # encrypted
    )


def stream_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> Iterator[bytes]:
    """The member's bytes in chunks of at most CHUNK; zipfile.BadZipFile when they do not
    match its CRC-32 or size, or the archive is damaged."""
    if not _streamable(archive, info):
        with archive.open(info) as handle:
            while chunk := handle.read(CHUNK):
                yield chunk
        return
    module = backend()
    assert archive.filename is not None
    with Path(archive.filename).open("rb") as raw:
        raw.seek(info.header_offset)
        header = raw.read(_LOCAL_HEADER)
        if len(header) != _LOCAL_HEADER or header[:4] != b"PK\x03\x04":
            raise zipfile.BadZipFile(f"bad local file header of member {info.filename!r}")
        name_length, extra_length = struct.unpack("<HH", header[26:30])
        raw.seek(info.header_offset + _LOCAL_HEADER + name_length + extra_length)
        inflater = module.decompressobj(-15) if info.compress_type else None
        crc, size, left = 0, 0, info.compress_size
        try:
            while left > 0 or (inflater is not None and inflater.unconsumed_tail):
                pending = inflater.unconsumed_tail if inflater is not None else b""
                if not pending:
                    pending = raw.read(min(CHUNK, left))
                    if not pending:
                        raise zipfile.BadZipFile(f"member {info.filename!r} is truncated")
                    left -= len(pending)
                chunk = inflater.decompress(pending, CHUNK) if inflater is not None else pending
                if chunk:
                    crc, size = module.crc32(chunk, crc), size + len(chunk)
                    if size > info.file_size:  # never inflate past the declared size
                        break
                    yield chunk
            if inflater is not None and (tail := inflater.flush()):
                crc, size = module.crc32(tail, crc), size + len(tail)
                yield tail
        except module.error as exc:
            raise zipfile.BadZipFile(f"member {info.filename!r}: {exc}") from None
    if crc != info.CRC or size != info.file_size:
        raise zipfile.BadZipFile(f"Bad CRC-32 or size for member {info.filename!r}")
