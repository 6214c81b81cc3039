"""ELF shared objects (Linux, *BSD): dynamic section, .dynsym and GNU symbol versions.

pyelftools parses the headers, the dynamic tags and the version-needed table; the
dynamic symbol table and its version array are decoded here with ``struct``/``array``
because walking tens of thousands of symbols through pyelftools' per-entry parser costs
about a second on a 100 MB library. Nothing else of the file is touched: no .symtab,
no DWARF, no disassembly.
"""

from __future__ import annotations

import logging
import struct
import sys
from array import array
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
from checker.binary.elf_segments import executable_stack, x86_isa_needed

logger = logging.getLogger(__name__)

ELF_MAGIC = b"\x7fELF"

_STB_EXPORTED = frozenset({1, 2, 10})  # GLOBAL, WEAK, GNU_UNIQUE
_STT_NOT_SYMBOLS = frozenset({3, 4})  # SECTION, FILE
_STV_INVISIBLE = frozenset({1, 2})  # INTERNAL, HIDDEN
_VERSYM_HIDDEN = 0x8000
_VER_NDX_LOCAL = 0

_ARCHES = {
    "EM_X86_64": "x86_64",
    "EM_386": "i686",
    "EM_AARCH64": "aarch64",
    "EM_ARM": "armv7l",
    "EM_PPC": "ppc",
    "EM_LOONGARCH": "loongarch64",
    "EM_SPARCV9": "sparc64",
    "EM_IA_64": "ia64",
}


@dataclass(frozen=True)
class _Dynamic:
    needed: tuple[str, ...]
    rpaths: tuple[str, ...]
    runpaths: tuple[str, ...]
    soname: str | None


@dataclass(frozen=True)
class _Tables:
    """Raw bytes of the tables the symbol walk needs (empty when absent)."""

    dynsym: bytes
    dynstr: bytes
    entsize: int
    versym: bytes
    verneed: dict[int, tuple[str, str]]  # version index -> (version name, file)


class ElfReader:
    """Reads ELF shared objects of either class and byte order."""

    format = "elf"

    def matches(self, head: bytes) -> bool:
        return head[:4] == ELF_MAGIC

    def read(self, data: Buffer, name: str) -> BinaryInfo:
        if not self.matches(bytes(data[:4])):
            raise format_error(name, "ELF", "no ELF magic number")
        try:
            slice_ = _read_slice(data)
        except Exception as exc:  # pyelftools raises ELFError, struct.error, ValueError...
            raise format_error(name, "ELF", exc) from exc
        return BinaryInfo(format="elf", name=name, slices=(slice_,))


def _read_slice(data: Buffer) -> ArchSlice:
    # pyelftools is imported on first use: a run whose static facts are cached never needs it.
    from elftools.elf.elffile import ELFFile  # type: ignore[import-untyped, unused-ignore]

    elf = ELFFile(as_stream(data))
    is64 = elf.elfclass == 64
    little = bool(elf.little_endian)
    arch = _arch(elf["e_machine"], is64, little)
    # pyelftools makes a new object per section each time they are iterated: once here.
    sections = list(elf.iter_sections())
    if sections:
        dynamic, tables = _from_sections(elf, data, sections)
    else:
        logger.debug("ELF file without section headers: using PT_DYNAMIC")
        dynamic, tables = _from_segment(elf, data)
    exports, imports = _walk_symbols(tables, is64, little)
    return ArchSlice(
        arch=arch,
        exports=exports,
        needed=dynamic.needed,
        rpaths=dynamic.rpaths,
        runpaths=dynamic.runpaths,
        imported_symbols=imports,
        soname=dynamic.soname,
        min_os=None,
        sdk=None,
        executable_stack=executable_stack(elf),
        x86_isa_needed=x86_isa_needed(elf, data, sections),
    )


def _arch(machine: object, is64: bool, little: bool) -> str:
    if machine == "EM_PPC64":
        return "ppc64le" if little else "ppc64"
    if machine == "EM_S390":
        return "s390x" if is64 else "s390"
    if machine == "EM_RISCV":
        return "riscv64" if is64 else "riscv32"
    if machine == "EM_MIPS":
        base = "mips64" if is64 else "mips"
        return base + ("el" if little else "")
    if isinstance(machine, str):
        return _ARCHES.get(machine, machine.lower().removeprefix("em_"))
    return f"em_{machine}"


def _file_bytes(data: Buffer, offset: int, size: int, what: str) -> bytes:
    if offset < 0 or size < 0 or offset + size > len(data):
        raise ValueError(f"{what} (offset {offset}, size {size}) runs past the end of the file")
    return data[offset : offset + size]


def _section_bytes(data: Buffer, section: Any, what: str) -> bytes:
    if section["sh_type"] == "SHT_NOBITS":
        return b""
    return _file_bytes(data, int(section["sh_offset"]), int(section["sh_size"]), what)


def _read_dynamic(dyn: Any) -> _Dynamic:
    """DT_NEEDED/RPATH/RUNPATH/SONAME of a pyelftools DynamicSection or DynamicSegment."""
    needed: list[str] = []
    rpaths: list[str] = []
    runpaths: list[str] = []
    soname: str | None = None
    for tag in dyn.iter_tags():
        kind = str(tag.entry.d_tag)
        if kind not in ("DT_NEEDED", "DT_RPATH", "DT_RUNPATH", "DT_SONAME"):
            continue
        value = str(getattr(tag, kind[3:].lower()))
        if kind == "DT_NEEDED":
            needed.append(value)
        elif kind == "DT_RPATH":
            rpaths.extend(p for p in value.split(":") if p)
        elif kind == "DT_RUNPATH":
            runpaths.extend(p for p in value.split(":") if p)
        else:
            soname = value
    return _Dynamic(tuple(needed), tuple(rpaths), tuple(runpaths), soname)


def _read_verneed(section: Any) -> dict[int, tuple[str, str]]:
    result: dict[int, tuple[str, str]] = {}
    for verneed, auxiliaries in section.iter_versions():
        for aux in auxiliaries:
            index = int(aux["vna_other"])
            if index > 1:  # 0 and 1 are the special "local"/"global" indices
                result[index] = (str(aux.name), str(verneed.name))
    return result


def _from_sections(elf: Any, data: Buffer, sections: list[Any]) -> tuple[_Dynamic, _Tables]:
    from elftools.elf.dynamic import DynamicSection  # type: ignore[import-untyped, unused-ignore]
    from elftools.elf.gnuversions import (  # type: ignore[import-untyped, unused-ignore]
        GNUVerNeedSection,
    )

    dynamic = _Dynamic((), (), (), None)
    dynsym = dynstr = versym = b""
    entsize = 0
    verneed: dict[int, tuple[str, str]] = {}
    for section in sections:
        kind = section["sh_type"]
        if isinstance(section, DynamicSection) and kind == "SHT_DYNAMIC":
            _section_bytes(data, section, "section '.dynamic'")
            dynamic = _read_dynamic(section)
        elif kind == "SHT_DYNSYM":
            dynsym = _section_bytes(data, section, f"section {section.name!r}")
            entsize = int(section["sh_entsize"])
            strtab = elf.get_section(int(section["sh_link"]))
            dynstr = _section_bytes(data, strtab, f"section {strtab.name!r}")
        elif kind == "SHT_GNU_versym":
            versym = _section_bytes(data, section, f"section {section.name!r}")
        elif isinstance(section, GNUVerNeedSection):
            size = len(_section_bytes(data, section, f"section {section.name!r}"))
            if section.num_versions() * 16 > size:  # each Elf_Verneed entry is 16 bytes
                raise ValueError(f"section {section.name!r} claims more entries than it holds")
            verneed = _read_verneed(section)
    return dynamic, _Tables(dynsym, dynstr, entsize, versym, verneed)


def _from_segment(elf: Any, data: Buffer) -> tuple[_Dynamic, _Tables]:
    """Fallback for files whose section headers were stripped: read via PT_DYNAMIC.

    Symbol versions are not resolved here (every imported symbol gets version None).
    """
    from elftools.elf.dynamic import DynamicSegment  # type: ignore[import-untyped, unused-ignore]

    for segment in elf.iter_segments():
        if isinstance(segment, DynamicSegment):
            break
    else:
        return _Dynamic((), (), (), None), _Tables(b"", b"", 0, b"", {})
    dynamic = _read_dynamic(segment)
    count = int(segment.num_symbols())
    entsize = 24 if elf.elfclass == 64 else 16
    _, symtab_offset = segment.get_table_offset("DT_SYMTAB")
    _, strtab_offset = segment.get_table_offset("DT_STRTAB")
    strsz = [int(t.entry.d_val) for t in segment.iter_tags("DT_STRSZ")]
    if symtab_offset is None or strtab_offset is None or not strsz:
        return dynamic, _Tables(b"", b"", 0, b"", {})
    dynsym = _file_bytes(data, int(symtab_offset), count * entsize, "dynamic symbol table")
    dynstr = _file_bytes(data, int(strtab_offset), strsz[0], "dynamic string table")
    _, versym_offset = segment.get_table_offset("DT_VERSYM")
    versym = b""
    if versym_offset is not None:
        versym = _file_bytes(data, int(versym_offset), count * 2, "symbol version table")
    return dynamic, _Tables(dynsym, dynstr, entsize, versym, {})


def _walk_symbols(
    tables: _Tables, is64: bool, little: bool
) -> tuple[frozenset[str], tuple[ImportedSymbol, ...]]:
    """Split .dynsym into exported names and imported (undefined) symbols with versions."""
    order = "<" if little else ">"
    # Elf64_Sym: name, info, other, shndx, value, size; Elf32_Sym: name, value, size, info...
    if is64:
        layout = struct.Struct(order + "IBBHQQ")
        fields = (0, 1, 2, 3)
    else:
        layout = struct.Struct(order + "IIIBBH")
        fields = (0, 3, 4, 5)
    stride = tables.entsize if tables.entsize >= layout.size else layout.size
    versions = array("H")
    versions.frombytes(tables.versym[: len(tables.versym) // 2 * 2])
    if (sys.byteorder == "little") != little:
        versions.byteswap()

    exports: set[str] = set()
    imports: list[ImportedSymbol] = []
    n_name, n_info, n_other, n_shndx = fields
    strtab = tables.dynstr
    for index in range(1, len(tables.dynsym) // stride):  # entry 0 is the null symbol
        entry = layout.unpack_from(tables.dynsym, index * stride)
        info = entry[n_info]
        if info >> 4 not in _STB_EXPORTED or entry[n_name] == 0:
            continue
        name = c_string(strtab, entry[n_name])
        version_index = versions[index] & ~_VERSYM_HIDDEN if index < len(versions) else 1
        if entry[n_shndx] == 0:  # SHN_UNDEF
            version, library = tables.verneed.get(version_index, (None, None))
            imports.append(ImportedSymbol(name=name, version=version, library=library))
        elif (
            (info & 0xF) not in _STT_NOT_SYMBOLS
            and (entry[n_other] & 0x3) not in _STV_INVISIBLE
            and (index >= len(versions) or versions[index] != _VER_NDX_LOCAL)
        ):
            exports.add(name)
    return frozenset(exports), tuple(imports)
