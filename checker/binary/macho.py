"""Mach-O images (macOS): thin or fat/universal2, 32- or 64-bit.

macholib parses the (fat) header and the load commands, straight from memory; the symbol
table (nlist entries) and, when the symbol table has no exports, the dyld export trie are
decoded here with ``struct``.
"""

from __future__ import annotations

import logging
import struct
from dataclasses import dataclass
from typing import Any

from checker.binary.base import (
    ArchSlice,
    BinaryInfo,
    Buffer,
    ImportedSymbol,
    as_stream,
    c_string,
    format_error,
)

logger = logging.getLogger(__name__)

_THIN_MAGICS = frozenset(
    {b"\xfe\xed\xfa\xce", b"\xce\xfa\xed\xfe", b"\xfe\xed\xfa\xcf", b"\xcf\xfa\xed\xfe"}
)
_FAT_MAGIC = b"\xca\xfe\xba\xbe"  # also the magic of Java class files
_FAT_MAGIC_64 = b"\xca\xfe\xba\xbf"
_MAX_FAT_ARCHS = 30  # Java class files have their major version (>= 45) here

_LC_REQ_DYLD = 0x80000000
LC_SEGMENTS = frozenset({0x1, 0x19})  # LC_SEGMENT, LC_SEGMENT_64
LC_SYMTAB = 0x2
LC_ID_DYLIB = 0xD
LC_DYLIB_LOADS = frozenset(
    {
        0xC,  # LC_LOAD_DYLIB
        0x18 | _LC_REQ_DYLD,  # LC_LOAD_WEAK_DYLIB
        0x1F | _LC_REQ_DYLD,  # LC_REEXPORT_DYLIB
        0x20,  # LC_LAZY_LOAD_DYLIB
        0x23 | _LC_REQ_DYLD,  # LC_LOAD_UPWARD_DYLIB
    }
)
LC_RPATH = 0x1C | _LC_REQ_DYLD
LC_DYLD_INFO = frozenset({0x22, 0x22 | _LC_REQ_DYLD})
LC_VERSION_MIN = frozenset({0x24, 0x25, 0x2F, 0x30})  # MACOSX, IPHONEOS, TVOS, WATCHOS
LC_BUILD_VERSION = 0x32
LC_DYLD_EXPORTS_TRIE = 0x33 | _LC_REQ_DYLD

_MH_TWOLEVEL = 0x80
_N_STAB, _N_PEXT, _N_TYPE, _N_EXT = 0xE0, 0x10, 0x0E, 0x01
_N_UNDF, _N_PBUD = 0x0, 0xC
_SPECIAL_ORDINALS = frozenset({0, 0xFE, 0xFF})  # self, dynamic lookup, executable

_CPU_ABI64 = 0x01000000
_CPU_ABI64_32 = 0x02000000
_ARCHES = {
    7: "i386",
    7 | _CPU_ABI64: "x86_64",
    12: "arm",
    12 | _CPU_ABI64: "arm64",
    12 | _CPU_ABI64_32: "arm64_32",
    18: "ppc",
    18 | _CPU_ABI64: "ppc64",
}


@dataclass(frozen=True)
class _Command:
    cmd: int
    values: dict[str, int]
    strings: dict[str, str]


@dataclass(frozen=True)
class _Header:
    offset: int
    size: int
    little: bool
    is64: bool
    cputype: int
    cpusubtype: int
    flags: int
    commands: tuple[_Command, ...]


class MachOReader:
    """Reads thin and fat (universal2) Mach-O files."""

    format = "macho"

    def matches(self, head: bytes) -> bool:
        magic = head[:4]
        if magic in _THIN_MAGICS or magic == _FAT_MAGIC_64:
            return True
        if magic == _FAT_MAGIC:
            return len(head) < 8 or 0 < struct.unpack(">I", head[4:8])[0] <= _MAX_FAT_ARCHS
        return False

    def read(self, data: Buffer, name: str) -> BinaryInfo:
        if not self.matches(data[:8]):
            raise format_error(name, "Mach-O", "no Mach-O magic number")
        try:
            slices = tuple(_read_slice(data, header) for header in _load_headers(data, name))
        except Exception as exc:  # macholib raises ValueError, IOError, struct.error...
            raise format_error(name, "Mach-O", exc) from exc
        if not slices:
            raise format_error(name, "Mach-O", "fat file without architectures")
        return BinaryInfo(format="macho", name=name, slices=slices)


def _load_headers(data: Buffer, name: str) -> list[_Header]:
    """Parse the headers and load commands of every slice with macholib, from memory."""
    # macholib is imported on first use (a run whose static facts are cached never needs it).
    from macholib.MachO import MachO  # type: ignore[import-untyped, unused-ignore]

    # MachO.__init__ insists on opening a path; set up the same state and feed a BytesIO.
    macho = MachO.__new__(MachO)
    macho.graphident = macho.filename = name
    macho.loader_path = ""
    macho.fat = None
    macho.headers = []
    macho.allow_unknown_load_commands = True
    macho.load(as_stream(data))
    return [_convert_header(h) for h in macho.headers]


def _convert_header(header: Any) -> _Header:
    from macholib.mach_o import lc_str  # type: ignore[import-untyped, unused-ignore]
    from macholib.ptypes import sizeof  # type: ignore[import-untyped, unused-ignore]

    commands: list[_Command] = []
    for load, command, payload in header.commands:
        values: dict[str, int] = {}
        strings: dict[str, str] = {}
        if command is not load:  # a known command (unknown ones come back as the bare header)
            for field, kind in command._fields_:
                value = getattr(command, field)
                if isinstance(kind, type) and issubclass(kind, lc_str):
                    start = int(value) - sizeof(load) - sizeof(command)
                    strings[field] = c_string(bytes(payload), start)
                elif isinstance(value, int):
                    values[field] = int(value)
        commands.append(_Command(int(load.cmd), values, strings))
    return _Header(
        offset=int(header.offset),
        size=int(header.size),
        little=header.endian == "<",
        is64=sizeof(header.mach_header) == 32,
        cputype=int(header.header.cputype),
        cpusubtype=int(header.header.cpusubtype),
        flags=int(header.header.flags),
        commands=tuple(commands),
    )


def _arch(cputype: int, cpusubtype: int) -> str:
    if cputype == 12 | _CPU_ABI64 and cpusubtype & 0x00FFFFFF == 2:
        return "arm64e"
    return _ARCHES.get(cputype, f"cputype_{cputype:#x}")


def _version(encoded: int) -> str | None:
    """xxxx.yy.zz nibble-encoded version as "11.0" / "10.9" / "10.9.5"; None for 0."""
    if not encoded:
        return None
    major, minor, patch = encoded >> 16, (encoded >> 8) & 0xFF, encoded & 0xFF
    return f"{major}.{minor}.{patch}" if patch else f"{major}.{minor}"


def _read_slice(data: Buffer, header: _Header) -> ArchSlice:
    if header.offset + header.size > len(data):
        raise ValueError(f"the slice at {header.offset} runs past the end of the file")
    needed: list[str] = []
    rpaths: list[str] = []
    soname: str | None = None
    min_os: str | None = None
    sdk: str | None = None
    symtab: _Command | None = None
    trie: tuple[int, int] | None = None
    for command in header.commands:
        if command.cmd in LC_DYLIB_LOADS:
            needed.append(command.strings["name"])
        elif command.cmd == LC_ID_DYLIB:
            soname = command.strings["name"]
        elif command.cmd == LC_RPATH:
            rpaths.append(command.strings["path"])
        elif command.cmd == LC_BUILD_VERSION:
            min_os, sdk = _version(command.values["minos"]), _version(command.values["sdk"])
        elif command.cmd in LC_VERSION_MIN and min_os is None:
            min_os, sdk = _version(command.values["version"]), _version(command.values["sdk"])
        elif command.cmd == LC_SYMTAB:
            symtab = command
        elif command.cmd in LC_DYLD_INFO and command.values["export_size"]:
            trie = (command.values["export_off"], command.values["export_size"])
        elif command.cmd == LC_DYLD_EXPORTS_TRIE and command.values["datasize"]:
            trie = (command.values["dataoff"], command.values["datasize"])
        elif command.cmd in LC_SEGMENTS:
            end = command.values["fileoff"] + command.values["filesize"]
            if end > header.size:
                raise ValueError(f"a segment ends at byte {end} past the end of the file")

    exports: frozenset[str] = frozenset()
    imports: tuple[ImportedSymbol, ...] = ()
    image = memoryview(data)[header.offset : header.offset + header.size]
    if symtab is not None:
        libraries = needed if header.flags & _MH_TWOLEVEL else []
        exports, imports = _read_symtab(image, header, symtab.values, libraries)
    if not exports and trie is not None:
        exports = _walk_export_trie(_image_bytes(image, trie[0], trie[1], "export trie"))
    return ArchSlice(
        arch=_arch(header.cputype, header.cpusubtype),
        exports=exports,
        needed=tuple(needed),
        rpaths=tuple(rpaths),
        runpaths=(),
        imported_symbols=imports,
        soname=soname,
        min_os=min_os,
        sdk=sdk,
    )


def _image_bytes(image: memoryview, offset: int, size: int, what: str) -> bytes:
    if offset < 0 or size < 0 or offset + size > len(image):
        raise ValueError(f"{what} (offset {offset}, size {size}) runs past the end of the file")
    return bytes(image[offset : offset + size])


def _c_name(name: str) -> str:
    return name[1:] if name.startswith("_") else name


def _read_symtab(
    image: memoryview, header: _Header, symtab: dict[str, int], libraries: list[str]
) -> tuple[frozenset[str], tuple[ImportedSymbol, ...]]:
    order = "<" if header.little else ">"
    nlist = struct.Struct(order + ("IBBHQ" if header.is64 else "IBBHI"))
    symbols = _image_bytes(image, symtab["symoff"], symtab["nsyms"] * nlist.size, "symbol table")
    strings = _image_bytes(image, symtab["stroff"], symtab["strsize"], "string table")
    exports: set[str] = set()
    imports: list[ImportedSymbol] = []
    for n_strx, n_type, _sect, n_desc, _value in nlist.iter_unpack(symbols):
        if n_type & _N_STAB or not n_type & _N_EXT or n_type & _N_PEXT or n_strx == 0:
            continue
        name = _c_name(c_string(strings, n_strx))
        if n_type & _N_TYPE in (_N_UNDF, _N_PBUD):
            ordinal = (n_desc >> 8) & 0xFF
            library = None
            if ordinal not in _SPECIAL_ORDINALS and ordinal <= len(libraries):
                library = libraries[ordinal - 1]
            imports.append(ImportedSymbol(name=name, library=library))
        else:
            exports.add(name)
    return frozenset(exports), tuple(imports)


def _uleb128(buffer: bytes, position: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = buffer[position]
        position += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return result, position


def _walk_export_trie(trie: bytes) -> frozenset[str]:
    """The names of the terminal nodes of a dyld export trie (C-level: no leading "_")."""
    exports: set[str] = set()
    stack: list[tuple[int, bytes]] = [(0, b"")]
    visited: set[int] = set()
    while stack:
        node, prefix = stack.pop()
        if node in visited or node >= len(trie):
            raise ValueError(f"export trie node at {node} is looped or out of range")
        visited.add(node)
        terminal_size, position = _uleb128(trie, node)
        if terminal_size:
            exports.add(_c_name(prefix.decode("utf-8", errors="replace")))
        position += terminal_size
        children = trie[position]
        position += 1
        for _ in range(children):
            end = trie.index(b"\0", position)
            edge = trie[position:end]
            child, position = _uleb128(trie, end + 1)
            stack.append((child, prefix + edge))
    return frozenset(exports)
