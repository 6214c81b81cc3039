"""Read shared libraries / extension modules (ELF, Mach-O, PE) from bytes and report facts.

Usage::

    kind = sniff(head)            # "elf" / "macho" / "pe" / None, from the first bytes
    info = read_binary(data, "pkg/_ext.cpython-312-x86_64-linux-gnu.so")

``read_binary`` raises :class:`BinaryFormatError` (never a parser library's own exception)
for data of no known format or data that is truncated or corrupt.
"""

from __future__ import annotations

import logging
import mmap
from pathlib import Path

from checker.binary.base import (
    ArchSlice,
    BinaryFormatError,
    BinaryInfo,
    BinaryReader,
    Buffer,
    ImportedSymbol,
)
from checker.binary.elf import ElfReader
from checker.binary.macho import MachOReader
from checker.binary.pe import PeReader

logger = logging.getLogger(__name__)

__all__ = [
    "READERS",
    "SNIFF_SIZE",
    "ArchSlice",
    "BinaryFormatError",
    "BinaryInfo",
    "BinaryReader",
    "ImportedSymbol",
    "read_binary",
    "read_binary_file",
    "sniff",
]

SNIFF_SIZE = 4096
"""How many leading bytes to give :func:`sniff` (fewer work, but PE detection is surer)."""

READERS: dict[str, BinaryReader] = {
    "elf": ElfReader(),
    "macho": MachOReader(),
    "pe": PeReader(),
}


def sniff(head: bytes) -> str | None:
    """The format name ("elf", "macho", "pe") of a file from its first bytes, else None."""
    for name, reader in READERS.items():
        if reader.matches(head):
            return name
    return None


def read_binary_file(path: Path, name: str) -> BinaryInfo:
    """Parse the binary in the file ``path`` through mmap: only the parts its format needs are
    read (the page cache holds them, not the process); ``name`` is for messages."""
    with path.open("rb") as handle:
        if path.stat().st_size < 4:
            raise BinaryFormatError(f"{name}: not a binary: {path.stat().st_size} bytes")
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
            return read_binary(mapped, name)


def read_binary(data: Buffer, name: str) -> BinaryInfo:
    """Parse a binary held in memory; ``name`` (its path inside the wheel) is for messages.

    Raises BinaryFormatError for an unknown format or corrupt data.
    """
    kind = sniff(data[:SNIFF_SIZE])
    if kind is None:
        raise BinaryFormatError(f"{name}: not a binary: no ELF, Mach-O or PE magic number")
    try:
        return READERS[kind].read(data, name)
    except BinaryFormatError:
        raise
    except Exception as exc:  # a reader bug or library surprise must not escape as-is
        logger.debug("%s: unexpected error from the %s reader", name, kind, exc_info=True)
        raise BinaryFormatError(f"{name}: not a valid {kind} file: {exc!r}") from exc
