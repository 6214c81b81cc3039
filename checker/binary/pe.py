"""PE/COFF DLLs and .pyd files (Windows).

pefile loads the headers with ``fast_load=True``; then only the import, delay-import and
export data directories are parsed (no resources, relocations, debug or TLS data).
"""

from __future__ import annotations

import logging
import struct
from typing import Any

from checker.binary.base import ArchSlice, BinaryInfo, Buffer, ImportedSymbol, format_error

logger = logging.getLogger(__name__)

_MZ = b"MZ"
_PE_SIGNATURE = b"PE\0\0"

_ARCHES = {
    0x8664: "x86_64",  # IMAGE_FILE_MACHINE_AMD64
    0x014C: "x86",  # IMAGE_FILE_MACHINE_I386
    0xAA64: "arm64",  # IMAGE_FILE_MACHINE_ARM64
    0xA641: "arm64ec",  # IMAGE_FILE_MACHINE_ARM64EC
    0x01C4: "arm",  # IMAGE_FILE_MACHINE_ARMNT
    0x0200: "ia64",  # IMAGE_FILE_MACHINE_IA64
}

_DIRECTORIES = (
    "IMAGE_DIRECTORY_ENTRY_IMPORT",
    "IMAGE_DIRECTORY_ENTRY_DELAY_IMPORT",
    "IMAGE_DIRECTORY_ENTRY_EXPORT",
)


class PeReader:
    """Reads PE images (DLL, .pyd, EXE) of any machine type."""

    format = "pe"

    def matches(self, head: bytes) -> bool:
        if head[:2] != _MZ:
            return False
        if len(head) < 0x40:
            return True  # too little to see more than the DOS magic
        (pe_offset,) = struct.unpack_from("<I", head, 0x3C)
        if pe_offset + 4 > len(head):
            return True  # the PE header is past what we were shown
        return head[pe_offset : pe_offset + 4] == _PE_SIGNATURE

    def read(self, data: Buffer, name: str) -> BinaryInfo:
        if data[:2] != _MZ:
            raise format_error(name, "PE", "no MZ magic number")
        try:
            slice_ = _read_slice(data, name)
        except Exception as exc:  # pefile raises PEFormatError, struct.error, IndexError...
            raise format_error(name, "PE", exc) from exc
        return BinaryInfo(format="pe", name=name, slices=(slice_,))


def _text(value: bytes | str) -> str:
    return value.decode("ascii", errors="replace") if isinstance(value, bytes) else value


def _arch(machine: int) -> str:
    if machine in _ARCHES:
        return _ARCHES[machine]
    import pefile  # type: ignore[import-untyped, unused-ignore]

    known = pefile.MACHINE_TYPE.get(machine)
    if isinstance(known, str):
        return known.removeprefix("IMAGE_FILE_MACHINE_").lower()
    return f"machine_{machine:#06x}"


def _imports(entries: list[Any]) -> tuple[list[str], list[ImportedSymbol]]:
    dlls: list[str] = []
    symbols: list[ImportedSymbol] = []
    for entry in entries:
        dll = _text(entry.dll)
        dlls.append(dll)
        for imported in entry.imports:
            symbol = _text(imported.name) if imported.name else f"#{imported.ordinal}"
            symbols.append(ImportedSymbol(name=symbol, library=dll))
    return dlls, symbols


def _check_complete(pe: Any, size: int) -> None:
    """pefile shrugs at truncation (it just finds less): refuse what Windows would refuse."""
    if len(pe.sections) != int(pe.FILE_HEADER.NumberOfSections):
        raise ValueError("the section table is truncated")
    for section in pe.sections:
        end = int(section.PointerToRawData) + int(section.SizeOfRawData)
        if section.SizeOfRawData and end > size:
            name = _text(section.Name).rstrip("\0")
            raise ValueError(f"section {name!r} ends at byte {end} past the end of the file")


def _read_slice(data: Buffer, name: str) -> ArchSlice:
    # pefile is imported on first use (a run whose static facts are cached never needs it).
    import pefile  # type: ignore[import-untyped, unused-ignore]

    pe = pefile.PE(data=data, fast_load=True)
    try:
        _check_complete(pe, len(data))
        pe.parse_data_directories(
            directories=[pefile.DIRECTORY_ENTRY[entry] for entry in _DIRECTORIES]
        )
        for warning in pe.get_warnings():
            logger.debug("%s: pefile: %s", name, warning)
        dlls, symbols = _imports(getattr(pe, "DIRECTORY_ENTRY_IMPORT", []))
        delay_dlls, delay_symbols = _imports(getattr(pe, "DIRECTORY_ENTRY_DELAY_IMPORT", []))
        exports: set[str] = set()
        export_directory = getattr(pe, "DIRECTORY_ENTRY_EXPORT", None)
        if export_directory is not None:
            exports = {_text(s.name) for s in export_directory.symbols if s.name}
        needed = tuple(dict.fromkeys(dlls + delay_dlls))
        return ArchSlice(
            arch=_arch(int(pe.FILE_HEADER.Machine)),
            exports=frozenset(exports),
            needed=needed,
            rpaths=(),
            runpaths=(),
            imported_symbols=tuple(symbols + delay_symbols),
            soname=None,
            min_os=None,
            sdk=None,
        )
    finally:
        pe.close()
