"""Tests for checker.binary: real binaries only (gcc-built ELF, hand-built Mach-O and PE,
and, with NATIVE_CHECK_NETWORK_TESTS=1, extension modules out of real PyPI wheels)."""

from __future__ import annotations

import io
import os
import platform
import random
import shutil
import struct
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from checker.binary import (
    READERS,
    SNIFF_SIZE,
    ArchSlice,
    BinaryFormatError,
    BinaryInfo,
    ImportedSymbol,
    read_binary,
    sniff,
)
from tests.support.wheelbuild import NEEDS_GCC_ON_LINUX

# --------------------------------------------------------------------------- ELF via gcc

C_SOURCE = r"""
#include <math.h>
#include <pthread.h>
#include <string.h>

int foo_counter = 3;
__attribute__((visibility("hidden"))) int hidden_helper(void) { return 1; }
static int local_helper(void) { return 2; }
static void *start(void *arg) { return arg; }

int PyInit_foo(char *dst, const char *src, unsigned long n, double x) {
    pthread_t thread;
    memcpy(dst, src, n);
    pthread_create(&thread, 0, start, 0);
    return (int)cos(x) + hidden_helper() + local_helper() + foo_counter;
}
"""

needs_gcc = NEEDS_GCC_ON_LINUX  # gcc-linked ELF objects: -rpath, --enable-new-dtags, $ORIGIN


def _gcc_shared(directory: Path, name: str, *extra: str) -> bytes:
    source = directory / "foo.c"
    source.write_text(C_SOURCE)
    output = directory / name
    command = ["gcc", "-O0", "-shared", "-fPIC", "-pthread", "-o", str(output), str(source)]
    command += ["-Wl,-rpath,$ORIGIN/../foo.libs", "-Wl,-soname,libfoo.so.1", *extra, "-lm"]
    subprocess.run(command, check=True, capture_output=True)
    return output.read_bytes()


@pytest.fixture(scope="module")
def runpath_so(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    if shutil.which("gcc") is None or not sys.platform.startswith("linux"):
        pytest.skip("needs gcc and Linux (gcc-linked ELF objects)")
    return _gcc_shared(tmp_path_factory.mktemp("elf"), "libfoo.so", "-Wl,--enable-new-dtags")


@pytest.fixture(scope="module")
def rpath_so(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    if shutil.which("gcc") is None or not sys.platform.startswith("linux"):
        pytest.skip("needs gcc and Linux (gcc-linked ELF objects)")
    return _gcc_shared(tmp_path_factory.mktemp("elf"), "libfoo.so", "-Wl,--disable-new-dtags")


def _only_slice(info: BinaryInfo) -> ArchSlice:
    assert len(info.slices) == 1
    return info.slices[0]


@needs_gcc
def test_gcc_elf_facts(runpath_so: bytes) -> None:
    info = read_binary(runpath_so, "foo/_foo.cpython-312-x86_64-linux-gnu.so")
    assert info.format == "elf"
    assert info.name == "foo/_foo.cpython-312-x86_64-linux-gnu.so"
    s = _only_slice(info)
    assert info.architectures == (s.arch,)
    if sys.platform == "linux" and platform.machine() == "x86_64":
        assert s.arch == "x86_64"
    assert {"PyInit_foo", "foo_counter"} <= s.exports
    assert "hidden_helper" not in s.exports
    assert "local_helper" not in s.exports
    assert "memcpy" not in s.exports
    assert info.exports == s.exports
    assert "libm.so.6" in s.needed
    assert "libc.so.6" in s.needed
    assert s.runpaths == ("$ORIGIN/../foo.libs",)
    assert s.rpaths == ()
    assert s.soname == "libfoo.so.1"
    assert s.min_os is None
    assert s.sdk is None
    imported = {sym.name: sym for sym in s.imported_symbols}
    memcpy = imported["memcpy"]
    assert memcpy.version is not None
    assert memcpy.version.startswith("GLIBC_2.")
    assert memcpy.library == "libc.so.6"
    assert imported["pthread_create"].version is not None
    assert imported["cos"].library == "libm.so.6"
    assert "PyInit_foo" not in imported


@needs_gcc
def test_gcc_elf_rpath(rpath_so: bytes) -> None:
    s = _only_slice(read_binary(rpath_so, "libfoo.so"))
    assert s.rpaths == ("$ORIGIN/../foo.libs",)
    assert s.runpaths == ()


@needs_gcc
def test_elf_without_section_headers_uses_dynamic_segment(runpath_so: bytes) -> None:
    data = bytearray(runpath_so)
    struct.pack_into("<Q", data, 0x28, 0)  # e_shoff
    struct.pack_into("<HH", data, 0x3C, 0, 0)  # e_shnum, e_shstrndx
    s = _only_slice(read_binary(bytes(data), "stripped.so"))
    full = _only_slice(read_binary(runpath_so, "full.so"))
    assert s.exports == full.exports
    assert s.needed == full.needed
    assert s.runpaths == full.runpaths
    assert s.soname == full.soname
    assert {sym.name for sym in s.imported_symbols} == {sym.name for sym in full.imported_symbols}


@needs_gcc
@pytest.mark.parametrize("size", [4, 20, 63, 1000, "half", "minus1"])
def test_truncated_elf_raises(runpath_so: bytes, size: int | str) -> None:
    if size == "half":
        cut = len(runpath_so) // 2
    elif size == "minus1":
        cut = len(runpath_so) - 1
    else:
        assert isinstance(size, int)
        cut = size
    with pytest.raises(BinaryFormatError, match=r"pkg/_cut\.so: not a valid ELF file: "):
        read_binary(runpath_so[:cut], "pkg/_cut.so")


def _fuzz(data: bytes, name: str, rounds: int = 150) -> None:
    """Flip random bytes: every outcome must be a BinaryInfo or a BinaryFormatError."""
    rng = random.Random(1234)
    window = min(len(data), 8192)
    for _ in range(rounds):
        mutated = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            mutated[rng.randrange(8 if rng.random() < 0.9 else 0, window)] = rng.randrange(256)
        try:
            assert isinstance(read_binary(bytes(mutated), name), BinaryInfo)
        except BinaryFormatError as exc:
            assert name in str(exc)


@needs_gcc
def test_mutated_elf_only_raises_binary_format_error(runpath_so: bytes) -> None:
    _fuzz(runpath_so, "fuzz.so")


# --------------------------------------------------------------------------- ELF by hand

_ELF_MACHINES = {"x86_64": 62, "ppc64": 21, "i686": 3, "s390x": 22, "armv7l": 40, "aarch64": 183}


def build_elf(is64: bool, little: bool, machine: int) -> bytes:
    """A minimal ET_DYN ELF: .dynstr .dynsym .gnu.version .gnu.version_r .dynamic .text."""
    e = "<" if little else ">"
    strings = bytearray(b"\0")

    def string(text: str) -> int:
        strings.extend(text.encode() + b"\0")
        return len(strings) - len(text) - 1

    # (name, info, other, shndx, versym)
    symbols = [
        (0, 0, 0, 0, 0),
        (string("PyInit_tiny"), 0x12, 0, 6, 1),  # GLOBAL FUNC, defined
        (string("tiny_data"), 0x21, 0, 6, 1),  # WEAK OBJECT, defined
        (string("hidden_fn"), 0x12, 2, 6, 1),  # STV_HIDDEN
        (string("local_fn"), 0x02, 0, 6, 1),  # LOCAL
        (string("versym_local"), 0x12, 0, 6, 0),  # version index 0: local
        (string("memcpy"), 0x12, 0, 0, 2),  # undefined, GLIBC_2.14 from libc.so.6
        (string("weak_undef"), 0x20, 0, 0, 1),  # undefined weak, unversioned
    ]
    libc, libm, glibc = string("libc.so.6"), string("libm.so.6"), string("GLIBC_2.14")
    soname, runpath, rpath = string("libtiny.so.1"), string("$ORIGIN/a:$ORIGIN/b"), string("/x")
    if is64:
        dynsym = b"".join(struct.pack(e + "IBBHQQ", n, i, o, x, 0, 0) for n, i, o, x, _ in symbols)
        dyn_fmt, sym_size = e + "qQ", 24
    else:
        dynsym = b"".join(struct.pack(e + "IIIBBH", n, 0, 0, i, o, x) for n, i, o, x, _ in symbols)
        dyn_fmt, sym_size = e + "iI", 16
    versym = b"".join(struct.pack(e + "H", s[4]) for s in symbols)
    verneed = struct.pack(e + "HHIII", 1, 1, libc, 16, 0)
    verneed += struct.pack(e + "IHHII", 0x0696_91B4, 0, 2, glibc, 0)
    tags = [(1, libc), (1, libm), (14, soname), (29, runpath), (15, rpath), (0x6FFFFFFF, 1)]
    dynamic = b"".join(struct.pack(dyn_fmt, t, v) for t, v in [*tags, (0, 0)])
    shstrtab = b"\0.dynstr\0.dynsym\0.gnu.version\0.gnu.version_r\0.dynamic\0.text\0.shstrtab\0"
    # (name offset in shstrtab, type, link, info, entsize, data)
    sections = [
        (1, 3, 0, 0, 0, bytes(strings)),
        (9, 11, 1, 1, sym_size, dynsym),
        (17, 0x6FFFFFFF, 2, 0, 2, versym),
        (30, 0x6FFFFFFE, 1, 1, 0, verneed),
        (45, 6, 1, 0, len(dynamic) // (len(tags) + 1), dynamic),
        (54, 1, 0, 0, 0, b"\xc3" * 16),
        (60, 3, 0, 0, 0, shstrtab),
    ]
    header_size, sh_size = (64, 64) if is64 else (52, 40)
    body = bytearray()
    headers = [b"\0" * sh_size]
    for name, kind, link, info, entsize, blob in sections:
        body.extend(b"\0" * (-(header_size + len(body)) % 8))
        offset = header_size + len(body)
        body.extend(blob)
        if is64:
            headers.append(
                struct.pack(
                    e + "IIQQQQIIQQ", name, kind, 2, 0, offset, len(blob), link, info, 8, entsize
                )
            )
        else:
            headers.append(
                struct.pack(
                    e + "IIIIIIIIII", name, kind, 2, 0, offset, len(blob), link, info, 4, entsize
                )
            )
    body.extend(b"\0" * (-(header_size + len(body)) % 8))
    shoff = header_size + len(body)
    ident = b"\x7fELF" + bytes([2 if is64 else 1, 1 if little else 2, 1]) + b"\0" * 9
    fmt = e + ("16sHHIQQQIHHHHHH" if is64 else "16sHHIIIIIHHHHHH")
    count = len(sections) + 1
    header = struct.pack(
        fmt, ident, 3, machine, 1, 0, 0, shoff, 0, header_size, 0, 0, sh_size, count, count - 1
    )
    return header + bytes(body) + b"".join(headers)


@pytest.mark.parametrize(
    ("is64", "little", "arch"),
    [
        (True, True, "x86_64"),
        (True, True, "aarch64"),
        (True, False, "ppc64"),
        (True, True, "ppc64le"),
        (True, False, "s390x"),
        (False, True, "i686"),
        (False, True, "armv7l"),
    ],
)
def test_handmade_elf_classes_and_byte_orders(is64: bool, little: bool, arch: str) -> None:
    machine = _ELF_MACHINES["ppc64" if arch == "ppc64le" else arch]
    data = build_elf(is64, little, machine)
    assert sniff(data[:SNIFF_SIZE]) == "elf"
    s = _only_slice(read_binary(data, "tiny.so"))
    assert s.arch == arch
    assert s.exports == frozenset({"PyInit_tiny", "tiny_data"})
    assert s.needed == ("libc.so.6", "libm.so.6")
    assert s.soname == "libtiny.so.1"
    assert s.runpaths == ("$ORIGIN/a", "$ORIGIN/b")
    assert s.rpaths == ("/x",)
    assert s.imported_symbols == (
        ImportedSymbol("memcpy", "GLIBC_2.14", "libc.so.6"),
        ImportedSymbol("weak_undef", None, None),
    )


# --------------------------------------------------------------------------- Mach-O by hand

CPU_X86_64, CPU_ARM64, CPU_I386 = 0x01000007, 0x0100000C, 7


def _lc_str_command(cmd: int, fixed: bytes, text: str) -> bytes:
    """A load command whose last field is an lc_str pointing right after ``fixed``."""
    offset = 8 + len(fixed) + 4
    payload = fixed + struct.pack("<I", offset) + text.encode() + b"\0"
    payload += b"\0" * (-(8 + len(payload)) % 8)
    return struct.pack("<II", cmd, 8 + len(payload)) + payload


def _dylib_command(cmd: int, path: str) -> bytes:
    offset = 24
    payload = struct.pack("<IIII", offset, 2, 0x10000, 0x10000) + path.encode() + b"\0"
    payload += b"\0" * (-(8 + len(payload)) % 8)
    return struct.pack("<II", cmd, 8 + len(payload)) + payload


def _export_trie() -> bytes:
    """root -"_PyInit_"-> B; B -"tiny"-> C (terminal), B -"other"-> D (terminal)."""
    root = b"\x00\x01_PyInit_\x00" + bytes([12])
    node_b = b"\x00\x02tiny\x00" + bytes([27]) + b"other\x00" + bytes([31])
    assert len(root) == 12 and len(root + node_b) == 27
    return root + node_b + b"\x02\x00\x10\x00" + b"\x02\x00\x20\x00"


def build_macho(cputype: int = CPU_ARM64, is64: bool = True, trie_only: bool = False) -> bytes:
    """A little-endian MH_BUNDLE with an id, two dylibs, an rpath, a build version and a
    symbol table; with ``trie_only`` the exports are only in an LC_DYLD_EXPORTS_TRIE."""
    names = b"\0_PyInit_tiny\0_malloc\0_inflate\0_local\0_private\0_lookup\0"

    def strx(name: str) -> int:
        return names.index(b"\0" + name.encode() + b"\0") + 1

    nlist = struct.Struct("<IBBHQ" if is64 else "<IBBHI")
    # (name, n_type, n_desc)
    entries = [
        ("_PyInit_tiny", 0x0E if trie_only else 0x0F, 0),  # N_SECT (| N_EXT)
        ("_malloc", 0x01, 1 << 8),  # undefined, ordinal 1: libSystem
        ("_inflate", 0x01, 2 << 8),  # undefined, ordinal 2: libz
        ("_local", 0x0E, 0),  # N_SECT, not external
        ("_private", 0x1F, 0),  # N_PEXT | N_SECT | N_EXT: not exported
        ("_lookup", 0x01, 0xFE << 8),  # dynamic lookup: library unknown
    ]
    commands = [
        _dylib_command(0xD, "@rpath/libtiny.dylib"),
        _dylib_command(0xC, "/usr/lib/libSystem.B.dylib"),
        _dylib_command(0x80000018, "@rpath/libz.1.dylib"),
        _lc_str_command(0x8000001C, b"", "@loader_path/../tiny/.dylibs"),
        struct.pack("<IIIIII", 0x32, 24, 1, 0x000B0000, 0x000E0200, 0),  # macOS 11.0, SDK 14.2
    ]
    header_size = 32 if is64 else 28
    symtab_size, trie_size = 24, 16
    commands_size = sum(map(len, commands)) + symtab_size + (trie_size if trie_only else 0)
    symoff = header_size + commands_size
    symbols = b"".join(
        nlist.pack(strx(name), kind, 1 if kind & 0x0E else 0, desc, 0x4000)
        for name, kind, desc in entries
    )
    stroff = symoff + len(symbols)
    trie = _export_trie() if trie_only else b""
    trie_off = stroff + len(names)
    commands.append(
        struct.pack("<IIIIII", 0x2, symtab_size, symoff, len(entries), stroff, len(names))
    )
    if trie_only:
        commands.append(struct.pack("<IIII", 0x80000033, trie_size, trie_off, len(trie)))
    magic = 0xFEEDFACF if is64 else 0xFEEDFACE
    header = struct.pack("<IiiIIII", magic, cputype, 0, 8, len(commands), commands_size, 0x85)
    header += b"\0\0\0\0" if is64 else b""
    return header + b"".join(commands) + symbols + names + trie


def build_fat(*slices: tuple[int, bytes]) -> bytes:
    out = bytearray(struct.pack(">II", 0xCAFEBABE, len(slices)))
    offset = 4096
    table = []
    for cputype, blob in slices:
        table.append(struct.pack(">iiIII", cputype, 0, offset, len(blob), 12))
        offset += (len(blob) + 4095) // 4096 * 4096
    out += b"".join(table)
    for blob in (blob for _, blob in slices):
        out += b"\0" * (-len(out) % 4096) + blob
    return bytes(out)


def _check_macho_slice(s: ArchSlice, arch: str) -> None:
    assert s.arch == arch
    assert s.exports == frozenset({"PyInit_tiny"})
    assert s.needed == ("/usr/lib/libSystem.B.dylib", "@rpath/libz.1.dylib")
    assert s.rpaths == ("@loader_path/../tiny/.dylibs",)
    assert s.runpaths == ()
    assert s.soname == "@rpath/libtiny.dylib"
    assert s.min_os == "11.0"
    assert s.sdk == "14.2"
    assert s.imported_symbols == (
        ImportedSymbol("malloc", None, "/usr/lib/libSystem.B.dylib"),
        ImportedSymbol("inflate", None, "@rpath/libz.1.dylib"),
        ImportedSymbol("lookup", None, None),
    )


@pytest.mark.parametrize(
    ("cputype", "is64", "arch"), [(CPU_ARM64, True, "arm64"), (CPU_I386, False, "i386")]
)
def test_handmade_thin_macho(cputype: int, is64: bool, arch: str) -> None:
    data = build_macho(cputype, is64)
    assert sniff(data) == "macho"
    info = read_binary(data, "tiny/_tiny.cpython-312-darwin.so")
    assert info.format == "macho"
    _check_macho_slice(_only_slice(info), arch)


def test_handmade_fat_macho() -> None:
    data = build_fat((CPU_X86_64, build_macho(CPU_X86_64)), (CPU_ARM64, build_macho(CPU_ARM64)))
    assert sniff(data) == "macho"
    info = read_binary(data, "tiny/_tiny.so")
    assert info.architectures == ("x86_64", "arm64")
    for s, arch in zip(info.slices, ("x86_64", "arm64")):
        _check_macho_slice(s, arch)
    assert info.exports == frozenset({"PyInit_tiny"})


def test_macho_export_trie_when_symtab_has_no_exports() -> None:
    s = _only_slice(read_binary(build_macho(trie_only=True), "tiny.so"))
    assert s.exports == frozenset({"PyInit_tiny", "PyInit_other"})


def test_truncated_and_mutated_macho_raise_binary_format_error() -> None:
    data = build_fat((CPU_X86_64, build_macho(CPU_X86_64)), (CPU_ARM64, build_macho(CPU_ARM64)))
    for cut in (4, 8, 30, 4096 + 40, len(data) - 1):
        with pytest.raises(BinaryFormatError, match=r"cut\.so: not a valid Mach-O file: "):
            read_binary(data[:cut], "cut.so")
    _fuzz(data, "fuzz.so")
    _fuzz(build_macho(trie_only=True), "fuzz.so")


# --------------------------------------------------------------------------- PE by hand


class _Section:
    """Bytes of one section, handing out the RVA of each piece as it is appended."""

    def __init__(self, rva: int) -> None:
        self.rva = rva
        self.data = bytearray()

    def add(self, blob: bytes, align: int = 4) -> int:
        self.data.extend(b"\0" * (-len(self.data) % align))
        self.data.extend(blob)
        return self.rva + len(self.data) - len(blob)


def _pe_thunks(section: _Section, imports: list[str | int], is64: bool) -> bytes:
    flag, fmt = (1 << 63, "<Q") if is64 else (1 << 31, "<I")
    values = []
    for item in imports:
        if isinstance(item, int):
            values.append(flag | item)
        else:
            values.append(section.add(struct.pack("<H", 0) + item.encode() + b"\0", 2))
    return b"".join(struct.pack(fmt, v) for v in [*values, 0])


def build_pe(machine: int = 0x8664, is64: bool = True) -> bytes:
    """A DLL with one .rdata section holding imports, delay imports and exports."""
    sec = _Section(0x1000)
    code = sec.add(b"\xc3" * 16)
    descriptors = b""
    imports: list[tuple[str, list[str | int]]] = [
        ("KERNEL32.dll", ["GetProcAddress", 17]),
        ("python312.dll", ["PyLong_FromLong"]),
    ]
    for dll, names in imports:
        name_rva = sec.add(dll.encode() + b"\0", 2)
        thunks = _pe_thunks(sec, names, is64)
        ilt, iat = sec.add(thunks, 8), sec.add(thunks, 8)
        descriptors += struct.pack("<IIIII", ilt, 0, 0, name_rva, iat)
    import_rva = sec.add(descriptors + b"\0" * 20)
    delay_name = sec.add(b"VCRUNTIME140_1.dll\0", 2)
    thunks = _pe_thunks(sec, ["__CxxFrameHandler4"], is64)
    handle, dint, diat = sec.add(b"\0" * 8, 8), sec.add(thunks, 8), sec.add(thunks, 8)
    delay = struct.pack("<8I", 1, delay_name, handle, diat, dint, 0, 0, 0) + b"\0" * 32
    delay_rva = sec.add(delay)
    export_names = ["PyInit_tiny", "tiny_helper"]
    dll_name = sec.add(b"tiny.pyd\0", 2)
    name_rvas = [sec.add(n.encode() + b"\0", 2) for n in export_names]
    functions = sec.add(struct.pack("<II", code, code + 8))
    names_table = sec.add(struct.pack("<II", *name_rvas))
    ordinals = sec.add(struct.pack("<HH", 0, 1))
    export = struct.pack(
        "<IIHHIIIIIII", 0, 0, 0, 0, dll_name, 1, 2, 2, functions, names_table, ordinals
    )
    export_rva = sec.add(export)
    directories = [(0, 0)] * 16
    directories[0] = (export_rva, len(export))
    directories[1] = (import_rva, len(descriptors) + 20)
    directories[13] = (delay_rva, len(delay))
    raw_size = (len(sec.data) + 0x1FF) // 0x200 * 0x200
    image_size = 0x1000 + (len(sec.data) + 0xFFF) // 0x1000 * 0x1000
    if is64:
        optional = struct.pack(
            "<HBBIIIIIQIIHHHHHHIIIIHHQQQQII", 0x20B, 14, 0, 0, raw_size, 0, 0, 0x1000,
            0x180000000, 0x1000, 0x200, 6, 0, 0, 0, 6, 0, 0, image_size, 0x200, 0, 2, 0x160,
            0x100000, 0x1000, 0x100000, 0x1000, 0, 16,
        )  # fmt: skip
    else:
        optional = struct.pack(
            "<HBBIIIIIIIIIHHHHHHIIIIHHIIIIII", 0x10B, 14, 0, 0, raw_size, 0, 0, 0x1000, 0x1000,
            0x10000000, 0x1000, 0x200, 6, 0, 0, 0, 6, 0, 0, image_size, 0x200, 0, 2, 0x140,
            0x100000, 0x1000, 0x100000, 0x1000, 0, 16,
        )  # fmt: skip
    optional += b"".join(struct.pack("<II", rva, size) for rva, size in directories)
    characteristics = 0x2022 if is64 else 0x2102
    coff = struct.pack("<HHIIIHH", machine, 1, 0, 0, 0, len(optional), characteristics)
    section_header = struct.pack(
        "<8sIIIIIIHHI", b".rdata", len(sec.data), 0x1000, raw_size, 0x200, 0, 0, 0, 0, 0x40000040
    )
    dos = b"MZ" + b"\0" * 0x3A + struct.pack("<I", 0x40)
    headers = dos + b"PE\0\0" + coff + optional + section_header
    assert len(headers) <= 0x200
    return headers.ljust(0x200, b"\0") + bytes(sec.data).ljust(raw_size, b"\0")


@pytest.mark.parametrize(
    ("machine", "is64", "arch"),
    [(0x8664, True, "x86_64"), (0xAA64, True, "arm64"), (0x14C, False, "x86")],
)
def test_handmade_pe(machine: int, is64: bool, arch: str) -> None:
    data = build_pe(machine, is64)
    assert sniff(data[:SNIFF_SIZE]) == "pe"
    info = read_binary(data, "tiny/_tiny.cp312-win_amd64.pyd")
    assert info.format == "pe"
    s = _only_slice(info)
    assert s.arch == arch
    assert s.exports == frozenset({"PyInit_tiny", "tiny_helper"})
    assert s.needed == ("KERNEL32.dll", "python312.dll", "VCRUNTIME140_1.dll")
    assert s.imported_symbols == (
        ImportedSymbol("GetProcAddress", None, "KERNEL32.dll"),
        ImportedSymbol("#17", None, "KERNEL32.dll"),
        ImportedSymbol("PyLong_FromLong", None, "python312.dll"),
        ImportedSymbol("__CxxFrameHandler4", None, "VCRUNTIME140_1.dll"),
    )
    assert (s.rpaths, s.runpaths, s.soname, s.min_os, s.sdk) == ((), (), None, None, None)


def test_truncated_and_mutated_pe_raise_binary_format_error() -> None:
    data = build_pe()
    for cut in (2, 0x3C, 0x50, 0x100):
        with pytest.raises(BinaryFormatError, match=r"cut\.pyd: not a valid PE file: "):
            read_binary(data[:cut], "cut.pyd")
    _fuzz(data, "fuzz.pyd")


# --------------------------------------------------------------------------- dispatch


def _zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.txt", "hello")
    return buffer.getvalue()


JAVA_CLASS = b"\xca\xfe\xba\xbe\x00\x00\x00\x34" + b"\0" * 32


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x7fEL",
        b"hello world\n",
        b"#!/bin/sh\n",
        b"!<arch>\n",
        b"MZ" + b"\0" * 0x3A + b"\x40\0\0\0XXXX",
        JAVA_CLASS,
        _zip_bytes(),
    ],
    ids=["empty", "short", "text", "script", "ar", "mz-not-pe", "java", "zip"],
)
def test_sniff_rejects_non_binaries(data: bytes) -> None:
    assert sniff(data) is None
    with pytest.raises(BinaryFormatError, match=r"^pkg/data\.bin: not a binary"):
        read_binary(data, "pkg/data.bin")


def test_sniff_and_readers() -> None:
    assert set(READERS) == {"elf", "macho", "pe"}
    assert all(reader.format == kind for kind, reader in READERS.items())
    assert sniff(b"\x7fELF\x02\x01\x01") == "elf"
    assert sniff(b"\xcf\xfa\xed\xfe") == "macho"
    assert sniff(b"\xca\xfe\xba\xbe\x00\x00\x00\x02") == "macho"
    assert sniff(b"MZ") == "pe"


def test_garbage_with_magic_raises_binary_format_error() -> None:
    for magic, kind in ((b"\x7fELF", "ELF"), (b"\xcf\xfa\xed\xfe", "Mach-O"), (b"MZ", "PE")):
        garbage = magic + bytes(random.Random(7).randrange(256) for _ in range(500))
        with pytest.raises(BinaryFormatError, match=rf"^junk\.so: not a valid {kind} file: "):
            read_binary(garbage, "junk.so")


def test_reading_is_fast_on_a_large_library() -> None:
    candidates = [Path("/usr/lib/x86_64-linux-gnu/libLLVM-15.so.1"), Path(sys.executable)]
    path = next((p for p in candidates if p.is_file() and p.read_bytes()[:4] == b"\x7fELF"), None)
    if path is None:
        pytest.skip("no large ELF file here")
    data = path.read_bytes()
    start = time.perf_counter()
    info = read_binary(data, str(path))
    assert time.perf_counter() - start < 5.0
    assert info.format == "elf"


# --------------------------------------------------------------------------- real wheels

network = pytest.mark.skipif(
    os.environ.get("NATIVE_CHECK_NETWORK_TESTS") != "1",
    reason="downloads from PyPI; set NATIVE_CHECK_NETWORK_TESTS=1",
)


def _wheel_extension(directory: Path, platform: str, suffix: str) -> tuple[str, bytes]:
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"]
    command += ["--platform", platform, "--python-version", "3.12", "markupsafe==3.0.2"]
    subprocess.run([*command, "-d", str(directory)], check=True, capture_output=True)
    (wheel,) = directory.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if "_speedups" in n and n.endswith(suffix)]
        return name, archive.read(name)


@pytest.mark.network
@network
@pytest.mark.parametrize(
    ("platform", "arches"),
    [("macosx_11_0_arm64", ("arm64",)), ("macosx_10_13_universal2", ("x86_64", "arm64"))],
)
def test_real_macos_wheel(tmp_path: Path, platform: str, arches: tuple[str, ...]) -> None:
    name, data = _wheel_extension(tmp_path, platform, ".so")
    info = read_binary(data, name)
    assert info.format == "macho"
    assert sorted(info.architectures) == sorted(arches)
    for s in info.slices:
        assert "PyInit__speedups" in s.exports
        assert "/usr/lib/libSystem.B.dylib" in s.needed
        assert s.min_os is not None
        assert any(sym.name.startswith("Py") for sym in s.imported_symbols)


@pytest.mark.network
@network
@pytest.mark.parametrize(("platform", "arch"), [("win_amd64", "x86_64"), ("win32", "x86")])
def test_real_windows_wheel(tmp_path: Path, platform: str, arch: str) -> None:
    name, data = _wheel_extension(tmp_path, platform, ".pyd")
    s = _only_slice(read_binary(data, name))
    assert s.arch == arch
    assert "PyInit__speedups" in s.exports
    assert "python312.dll" in s.needed
    assert "KERNEL32.dll" in s.needed
    assert ImportedSymbol("PyUnicode_New", None, "python312.dll") in s.imported_symbols


@pytest.mark.network
@network
def test_real_manylinux_wheel(tmp_path: Path) -> None:
    name, data = _wheel_extension(tmp_path, "manylinux_2_17_x86_64", ".so")
    s = _only_slice(read_binary(data, name))
    assert s.arch == "x86_64"
    assert "PyInit__speedups" in s.exports
    assert "libc.so.6" in s.needed
    assert all(sym.library in (None, "libc.so.6") for sym in s.imported_symbols)
