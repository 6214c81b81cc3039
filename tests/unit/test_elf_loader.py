"""The ELF reader's stack request (PT_GNU_STACK) and x86 ISA note, on gcc-built libraries."""

from __future__ import annotations

import platform
import subprocess
from pathlib import Path

import pytest

from checker.binary import read_binary_file
from tests.support.wheelbuild import NEEDS_GCC_ON_LINUX

SOURCE = "int nic_helper(int x) { return x * 3; }\n"


def _build(tmp_path: Path, name: str, *args: str) -> Path:
    src = tmp_path / "nic.c"
    src.write_text(SOURCE)
    out = tmp_path / f"{name}.so"
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(out), str(src), *args], check=True)
    return out


@NEEDS_GCC_ON_LINUX
def test_the_stack_request_is_read(tmp_path: Path) -> None:
    plain = read_binary_file(_build(tmp_path, "plain"), "plain.so").slices[0]
    wants = read_binary_file(_build(tmp_path, "xs", "-Wl,-z,execstack"), "xs.so").slices[0]
    assert (plain.executable_stack, wants.executable_stack) == (False, True)
    assert plain.x86_isa_needed is None


@NEEDS_GCC_ON_LINUX
@pytest.mark.skipif(platform.machine() != "x86_64", reason="x86-64 only")
@pytest.mark.parametrize(("march", "bits"), [("x86-64-v2", 0b11), ("x86-64-v3", 0b111)])
def test_the_x86_isa_needed_note_is_read(tmp_path: Path, march: str, bits: int) -> None:
    path = _build(tmp_path, march, f"-march={march}", "-mneeded")
    assert read_binary_file(path, path.name).slices[0].x86_isa_needed == bits
