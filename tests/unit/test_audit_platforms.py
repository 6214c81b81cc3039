"""Static audit of macOS and Windows wheels (and real Pillow wheels of four platforms).

The audit decides from the wheel's tags and bytes only, so this Linux runner audits them.
Offline tests use the hand-made Mach-O/PE builders of test_binary; the network tests
download Pillow 13.0.0 (skipped unless NATIVE_CHECK_NETWORK_TESTS=1).
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from collections.abc import Mapping
from pathlib import Path

import pytest

from checker.audit import AuditResult, audit_wheel
from checker.findings import Finding
from checker.wheel.contents import open_wheel
from tests.support.wheelbuild import make_wheel
from tests.unit.test_binary import CPU_ARM64, CPU_X86_64, build_fat, build_macho, build_pe

PILLOW = "pillow==13.0.0"
MAC_EXT = "tiny/tiny.cpython-312-darwin.so"  # build_macho exports PyInit_tiny
DYLIB = {"tiny/.dylibs/libz.1.dylib": b"only its presence matters"}


def _audit_path(wheel: Path) -> AuditResult:
    contents, findings = open_wheel(wheel)
    assert contents is not None, findings
    with contents:
        return audit_wheel(contents)


def _audit(folder: Path, files: Mapping[str, bytes | str], tag: str) -> AuditResult:
    return _audit_path(make_wheel(folder, "tiny", "1.0", files, tag=tag))


def _kinds(result: AuditResult) -> list[str]:
    return sorted(f.kind for f in result.findings)


def _one(result: AuditResult, kind: str) -> Finding:
    found = [f for f in result.findings if f.kind == kind]
    assert len(found) == 1, result.findings
    return found[0]


# --------------------------------------------------------------------------- Mach-O


def test_macho_rpath_resolution_inside_the_wheel(tmp_path: Path) -> None:
    # build_macho links /usr/lib/libSystem.B.dylib and @rpath/libz.1.dylib, with the
    # rpath @loader_path/../tiny/.dylibs and a minimum macOS of 11.0.
    files: dict[str, bytes | str] = {MAC_EXT: build_macho(CPU_ARM64), **DYLIB}
    result = _audit(tmp_path / "a", files, "cp312-cp312-macosx_11_0_arm64")
    assert result.findings == ()
    (extension,) = result.binaries
    assert extension.module == "tiny.tiny" and extension.min_os == "11.0"
    links = {link.name: (link.resolved, link.how) for link in extension.links}
    assert links == {
        "/usr/lib/libSystem.B.dylib": ("/usr/lib/libSystem.B.dylib", "system"),
        "@rpath/libz.1.dylib": ("tiny/.dylibs/libz.1.dylib", "bundled"),
    }

    alone = {MAC_EXT: build_macho(CPU_ARM64)}
    found = _one(_audit(tmp_path / "b", alone, "cp312-cp312-macosx_11_0_arm64"), "missing-library")
    assert "@rpath/libz.1.dylib" in found.error and "tiny.tiny" in found.error


def test_macho_version_and_architecture_against_the_tag(tmp_path: Path) -> None:
    x86 = build_macho(CPU_X86_64)  # minimum macOS 11.0
    old = _audit(tmp_path / "a", {MAC_EXT: x86, **DYLIB}, "cp312-cp312-macosx_10_9_x86_64")
    error = _one(old, "macos-version").error
    assert "11.0" in error and "macosx_10_9_x86_64" in error and "tiny.tiny" in error
    assert _kinds(old) == ["macos-version"]

    # arm64 only exists from macOS 11: a macosx_10_9 claim cannot be broken by 11.0 there.
    arm = {MAC_EXT: build_macho(CPU_ARM64), **DYLIB}
    assert _audit(tmp_path / "b", arm, "cp312-cp312-macosx_10_9_arm64").findings == ()

    wrong = _audit(tmp_path / "c", arm, "cp312-cp312-macosx_11_0_x86_64")
    assert set(_kinds(wrong)) == {"architecture"}
    assert "x86_64" in wrong.findings[0].error and "arm64" in wrong.findings[0].error

    fat = build_fat((CPU_X86_64, build_macho(CPU_X86_64)), (CPU_ARM64, build_macho(CPU_ARM64)))
    both = {MAC_EXT: fat, **DYLIB}
    universal = _audit(tmp_path / "d", both, "cp312-cp312-macosx_11_0_universal2")
    assert universal.findings == ()
    assert universal.binaries[0].architectures == ("x86_64", "arm64")
    half = _audit(tmp_path / "e", arm, "cp312-cp312-macosx_11_0_universal2")
    assert set(_kinds(half)) == {"architecture"}


# --------------------------------------------------------------------------- PE


def test_pe_resolution_and_architecture(tmp_path: Path) -> None:
    # build_pe imports KERNEL32.dll, python312.dll and (delayed) VCRUNTIME140_1.dll.
    pyd = {"tiny/tiny.cp312-win_amd64.pyd": build_pe(0x8664)}  # exports PyInit_tiny
    result = _audit(tmp_path / "a", pyd, "cp312-cp312-win_amd64")
    assert result.findings == ()
    (binary,) = result.binaries
    assert binary.module == "tiny.tiny" and binary.architectures == ("x86_64",)
    assert {link.name: link.how for link in binary.links} == {
        "KERNEL32.dll": "system",
        "python312.dll": "python",
        "VCRUNTIME140_1.dll": "system",
    }
    assert all(link.resolved for link in binary.links)

    wrong = _audit(tmp_path / "b", pyd, "cp312-cp312-win32")
    found = _one(wrong, "architecture")
    assert "x86_64" in found.error and "win32" in found.error

    x86 = _audit(tmp_path / "c", {"tiny/tiny.pyd": build_pe(0x14C, False)}, "cp312-cp312-win32")
    assert x86.findings == ()

    abi3 = _audit(tmp_path / "d", pyd, "cp312-abi3-win_amd64")
    assert "python312.dll instead of python3.dll" in _one(abi3, "abi3-violation").error


def test_pe_bundled_dlls_case_insensitive(tmp_path: Path) -> None:
    files: dict[str, bytes | str] = {
        "tiny/tiny.pyd": build_pe(0x8664),
        "tiny.libs/Python312.DLL": build_pe(0x8664),  # delvewheel's layout, odd case
    }
    result = _audit(tmp_path / "a", files, "cp312-cp312-win_amd64")
    extension = next(b for b in result.binaries if b.file == "tiny/tiny.pyd")
    link = next(link for link in extension.links if link.name == "python312.dll")
    assert (link.resolved, link.how) == ("tiny.libs/Python312.DLL", "bundled")


# --------------------------------------------------------------------------- real Pillow


def _download(folder: Path, platform: str) -> Path:
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"]
    command += ["--platform", platform, "--python-version", "3.12", PILLOW, "-d", str(folder)]
    subprocess.run(command, check=True, capture_output=True)
    (wheel,) = folder.glob("*.whl")
    return wheel


def _retag(wheel: Path, platform: str, folder: Path) -> Path:
    """The same wheel under another platform tag (file name and WHEEL Tag lines)."""
    name, version, python, abi, _ = wheel.name[: -len(".whl")].split("-")
    target = folder / f"{name}-{version}-{python}-{abi}-{platform}.whl"
    folder.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheel) as source, zipfile.ZipFile(target, "w") as out:
        for info in source.infolist():
            data = source.read(info)
            if info.filename.endswith(".dist-info/WHEEL"):
                lines = [ln for ln in data.decode().splitlines() if not ln.startswith("Tag:")]
                lines.append(f"Tag: {python}-{abi}-{platform}")
                data = ("\n".join(lines) + "\n").encode()
            out.writestr(info, data)
    return target


@pytest.mark.network
@pytest.mark.parametrize(
    ("platform", "policy"),
    [
        ("macosx_11_0_arm64", "macosx_11_0_arm64"),
        ("win_amd64", "win_amd64"),
        ("musllinux_1_2_x86_64", "musllinux_1_2_x86_64"),
        ("manylinux_2_28_aarch64", "manylinux_2_27_aarch64"),
    ],
)
def test_pillow_wheels_are_clean(tmp_path: Path, platform: str, policy: str) -> None:
    result = _audit_path(_download(tmp_path, platform))
    assert result.findings == ()
    assert result.platform == policy
    extensions = [b for b in result.binaries if "." in b.module and "/" not in b.module]
    assert "PIL._imaging" in {b.module for b in extensions}
    for binary in result.binaries:
        for link in binary.links:
            assert link.resolved, (binary.file, link)
            assert link.how in ("bundled", "system", "python")


@pytest.mark.network
def test_pillow_retagged_wheels_break_their_promise(tmp_path: Path) -> None:
    mac = _download(tmp_path / "mac", "macosx_10_13_x86_64")
    assert _audit_path(mac).findings == ()
    older = _audit_path(_retag(mac, "macosx_10_9_x86_64", tmp_path / "older"))
    assert older.findings and {f.kind for f in older.findings} == {"macos-version"}
    assert any("PIL._imaging" in f.error and "10.13" in f.error for f in older.findings)
    arm = _audit_path(_retag(mac, "macosx_11_0_arm64", tmp_path / "arm"))
    assert {f.kind for f in arm.findings} == {"architecture"}

    windows = _download(tmp_path / "win", "win_amd64")
    win32 = _audit_path(_retag(windows, "win32", tmp_path / "win32"))
    assert {f.kind for f in win32.findings} == {"architecture"}
    assert any(f.module == "PIL._imaging" for f in win32.findings)
