"""Format-neutral facts about a shared library or extension module.

The readers in this package turn the bytes of an ELF, Mach-O or PE file (taken out of a
wheel, never from disk) into these frozen dataclasses. They report facts only: deciding
whether a fact is a problem is the job of the callers.
"""

from __future__ import annotations

import io
import logging
import mmap
from dataclasses import dataclass
from typing import IO, Literal, Protocol, Union, cast

logger = logging.getLogger(__name__)

BinaryFormat = Literal["elf", "macho", "pe"]
Buffer = Union[bytes, mmap.mmap]
"""A binary's bytes: in memory, or a read-only mapping of its file (checker.wheel.members)."""


def as_stream(data: Buffer) -> IO[bytes]:
    """A seekable stream over ``data`` for the parser libraries (a mapping is one already:
    wrapping it in BytesIO would copy every byte)."""
    return cast("IO[bytes]", data if isinstance(data, mmap.mmap) else io.BytesIO(data))


class BinaryFormatError(Exception):
    """The bytes are not a readable binary of the expected format (truncated, garbage...).

    The message names the file and the problem, e.g.
    ``"foo/_bar.so: not a valid ELF file: section '.dynsym' runs past the end of the file"``.
    """


@dataclass(frozen=True)
class ImportedSymbol:
    """A symbol the binary needs from somewhere else."""

    name: str
    """C-level name (no Mach-O leading underscore); PE imports by ordinal are ``"#123"``."""
    version: str | None = None
    """ELF symbol version requirement, e.g. ``"GLIBC_2.17"``; None when unversioned."""
    library: str | None = None
    """ELF: the verneed file providing the version (``"libc.so.6"``); PE: the DLL it is
    imported from; Mach-O: the dylib when the two-level namespace ordinal names one."""


@dataclass(frozen=True)
class ArchSlice:
    """One architecture of a binary (ELF/PE: exactly one; Mach-O fat: one per slice)."""

    arch: str
    """Normalized: ``x86_64``, ``aarch64`` (ELF) / ``arm64`` (Mach-O, PE), ``i686`` (ELF),
    ``x86`` (PE), ``i386`` (Mach-O), ``armv7l``, ``ppc64le``, ``s390x``, ``riscv64``..."""
    exports: frozenset[str]
    """Exported (defined, global/weak, dynamic) symbol names, C-level."""
    needed: tuple[str, ...]
    """ELF DT_NEEDED in order; Mach-O dylib load commands; PE imported DLL names."""
    rpaths: tuple[str, ...]
    """ELF DT_RPATH entries; Mach-O LC_RPATH; PE: empty."""
    runpaths: tuple[str, ...]
    """ELF DT_RUNPATH entries; others: empty."""
    imported_symbols: tuple[ImportedSymbol, ...]
    """ELF: undefined dynamic symbols; Mach-O: undefined externals; PE: imported functions."""
    soname: str | None
    """ELF DT_SONAME; Mach-O LC_ID_DYLIB name; PE: None."""
    min_os: str | None
    """Mach-O minimum OS version (``"11.0"``, ``"10.9"``); others: None."""
    sdk: str | None
    """Mach-O SDK version when recorded; others: None."""
    executable_stack: bool | None = None
    """ELF: the loader is asked for an executable stack (PT_GNU_STACK with PF_X, or none);
    None: not an ELF shared object or executable."""
    x86_isa_needed: int | None = None
    """ELF x86: GNU_PROPERTY_X86_ISA_1_NEEDED bits (1 baseline, 2 v2, 4 v3, 8 v4); None: none."""


@dataclass(frozen=True)
class BinaryInfo:
    """Everything the readers know about one binary."""

    format: BinaryFormat
    name: str
    """The path inside the wheel, as given by the caller."""
    slices: tuple[ArchSlice, ...]

    @property
    def architectures(self) -> tuple[str, ...]:
        """The architecture of each slice, in file order."""
        return tuple(s.arch for s in self.slices)

    @property
    def exports(self) -> frozenset[str]:
        """The union of the exports of all slices."""
        result: frozenset[str] = frozenset()
        for s in self.slices:
            result |= s.exports
        return result


class BinaryReader(Protocol):
    """A reader for one binary format."""

    format: str

    def matches(self, head: bytes) -> bool:
        """Whether ``head`` (the first bytes of a file) carries this format's magic number."""
        ...

    def read(self, data: Buffer, name: str) -> BinaryInfo:
        """Parse ``data``; raise BinaryFormatError (naming ``name``) when it is unreadable."""
        ...


def format_error(name: str, kind: str, reason: object) -> BinaryFormatError:
    """The error for ``name`` not being a valid ``kind`` file (``kind`` as "ELF", "PE"...)."""
    text = str(reason) or type(reason).__name__
    return BinaryFormatError(f"{name}: not a valid {kind} file: {text}")


def c_string(table: bytes, offset: int) -> str:
    """The NUL-terminated string at ``offset`` in a string table (decoded leniently)."""
    if offset < 0 or offset >= len(table):
        raise ValueError(f"string offset {offset} outside a table of {len(table)} bytes")
    end = table.find(b"\0", offset)
    if end < 0:
        end = len(table)
    return table[offset:end].decode("utf-8", errors="replace")
