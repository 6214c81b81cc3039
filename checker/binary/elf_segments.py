"""What an ELF file asks of the loader beyond its symbols: the stack it wants (PT_GNU_STACK)
and the x86 ISA level its GNU property note says it needs (GNU_PROPERTY_X86_ISA_1_NEEDED).

Format only; what is acceptable is decided by checker.audit.elf.
"""

from __future__ import annotations

import struct
from typing import Any

_PF_X = 0x1
_PT_GNU_PROPERTY = 0x6474E553
_NT_GNU_PROPERTY_TYPE_0 = 5
# binutils include/elf/common.h: GNU_PROPERTY_X86_UINT32_OR_LO + 2
GNU_PROPERTY_X86_ISA_1_NEEDED = 0xC0008002
_X86_MACHINES = frozenset({"EM_X86_64", "EM_386"})


def executable_stack(elf: Any) -> bool | None:
    """True when the stack is asked to be executable: PT_GNU_STACK with PF_X, or no
    PT_GNU_STACK at all (the loader's default is then executable). None for a file the
    loader does not map (a relocatable object) or one without program headers."""
    if elf["e_type"] not in ("ET_DYN", "ET_EXEC") or elf.num_segments() == 0:
        return None
    for segment in elf.iter_segments():
        if segment["p_type"] == "PT_GNU_STACK":
            return bool(int(segment["p_flags"]) & _PF_X)
    return True


def x86_isa_needed(elf: Any, data: Any, sections: list[Any]) -> int | None:
    """The OR of the GNU_PROPERTY_X86_ISA_1_NEEDED bits (1: baseline, 2: v2, 4: v3, 8: v4)
    of an x86 ELF file's GNU property note; None when it has no such property.
    ``sections``: the file's sections, as pyelftools iterates them."""
    if elf["e_machine"] not in _X86_MACHINES:
        return None
    little = bool(elf.little_endian)
    is64 = elf.elfclass == 64
    needed: int | None = None
    for blob, align in _property_notes(elf, data, sections):
        for value in _isa_needed_values(blob, align, little, is64):
            needed = value if needed is None else needed | value
    return needed


def _property_notes(elf: Any, data: Any, sections: list[Any]) -> list[tuple[bytes, int]]:
    """The bytes of ``.note.gnu.property`` (or of PT_GNU_PROPERTY without sections)."""
    found = []
    for section in sections:
        if section["sh_type"] == "SHT_NOTE" and section.name == ".note.gnu.property":
            start, size = int(section["sh_offset"]), int(section["sh_size"])
            found.append((bytes(data[start : start + size]), int(section["sh_addralign"]) or 4))
    if found or sections:
        return found
    for segment in elf.iter_segments():
        if segment["p_type"] in ("PT_GNU_PROPERTY", _PT_GNU_PROPERTY):
            start, size = int(segment["p_offset"]), int(segment["p_filesz"])
            found.append((bytes(data[start : start + size]), int(segment["p_align"]) or 4))
    return found


def _aligned(value: int, align: int) -> int:
    return (value + align - 1) // align * align


def _isa_needed_values(blob: bytes, align: int, little: bool, is64: bool) -> list[int]:
    order = "<" if little else ">"
    align = 8 if align >= 8 else 4
    values = []
    pos = 0
    while pos + 12 <= len(blob):
        namesz, descsz, note_type = struct.unpack_from(order + "III", blob, pos)
        name = blob[pos + 12 : pos + 12 + namesz]
        desc_start = _aligned(pos + 12 + namesz, align)  # offsets from the aligned start
        desc = blob[desc_start : desc_start + descsz]
        pos = _aligned(desc_start + descsz, align)
        if note_type != _NT_GNU_PROPERTY_TYPE_0 or name.rstrip(b"\0") != b"GNU":
            continue
        at = 0
        while at + 8 <= len(desc):
            pr_type, pr_size = struct.unpack_from(order + "II", desc, at)
            if pr_type == GNU_PROPERTY_X86_ISA_1_NEEDED and pr_size >= 4 and at + 12 <= len(desc):
                values.append(struct.unpack_from(order + "I", desc, at + 8)[0])
            at += 8 + _aligned(pr_size, 8 if is64 else 4)
    return values
