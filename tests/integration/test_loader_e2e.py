"""What today's Linux loaders refuse, found statically through the real checker (nox -s audit):
an executable stack (glibc 2.41+ dlopen fails) and an x86-64 level above the floor."""

from __future__ import annotations

import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support.noxrun import run_nox
from tests.support.wheelbuild import (
    NEEDS_GCC_ON_LINUX,
    compile_shared,
    make_wheel,
    module_source,
    python_build,
)

pytestmark = [pytest.mark.integration, NEEDS_GCC_ON_LINUX]

X86_64 = platform.machine() == "x86_64"
HELPER = "int nic_helper(int x) { return x * 3; }\n"


def _wheel(folder: Path, work: Path, name: str, args: list[str], lib_args: list[str]) -> None:
    """A manylinux wheel: the module ``{name}._m`` and a bundled ``{name}.libs/lib{name}.so``,
    each built with its own gcc arguments."""
    build = python_build(Path(sys.executable))
    tag = f"cp{build.version}-cp{build.version}-manylinux_2_17_{platform.machine()}"
    source = module_source("_m", body="(void)0;")
    ext = compile_shared(build, source, work / name / f"_m{build.ext_suffix}", args=args)
    lib = compile_shared(
        build, HELPER, work / name / f"lib{name}.so", args=lib_args, python_headers=False
    )
    files: dict[str, bytes | str] = {
        f"{name}/__init__.py": "",
        f"{name}/_m{build.ext_suffix}": ext,
        f"{name}.libs/lib{name}.so": lib,
    }
    make_wheel(folder, name, "1.0", files, tag=tag)


@pytest.fixture(scope="module")
def packages(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("loader")
    folder, work = root / "packages", root / "build"
    execstack = ["-Wl,-z,execstack"]
    _wheel(folder, work, "nicplain", [], [])
    _wheel(folder, work, "nicxsmod", execstack, [])
    _wheel(folder, work, "nicxslib", [], execstack)
    if X86_64:
        v3 = ["-march=x86-64-v3", "-mneeded"]
        _wheel(folder, work, "nicisa", v3, [])
    return folder


def _findings(report: dict[str, Any]) -> dict[str, list[tuple[str, str]]]:
    return {
        str(w["project"]): [(f["kind"], f["error"]) for f in w["findings"]]
        for w in report["wheels"]
    }


def test_an_executable_stack_and_a_v3_binary_fail_the_same_sources_pass(
    packages: Path, tmp_path: Path
) -> None:
    code, output, report = run_nox(tmp_path, packages, "-s", "audit")
    assert report is not None, output
    assert code == 1, output
    found = _findings(report)
    assert found["nicplain"] == []
    ((kind, error),) = found["nicxsmod"]
    assert kind == "exec-stack"
    assert "nicxsmod/_m." in error and "glibc 2.41" in error
    ((kind, error),) = found["nicxslib"]
    assert kind == "exec-stack"
    assert "nicxslib.libs/libnicxslib.so" in error
    if X86_64:
        ((kind, error),) = found["nicisa"]
        assert kind == "isa-level"
        assert "needs x86-64-v3" in error and "floor x86-64-baseline" in error


@pytest.mark.skipif(not X86_64, reason="x86-64 levels are an x86-64 matter")
def test_a_raised_floor_accepts_the_v3_binary(packages: Path, tmp_path: Path) -> None:
    env = {"NATIVE_CHECK_X86_64_LEVEL": "v3"}
    _code, output, report = run_nox(tmp_path, packages, "-s", "audit", env=env)
    assert report is not None, output
    assert _findings(report)["nicisa"] == []
    env = {"NATIVE_CHECK_X86_64_LEVEL": "v2"}
    _code, output, report = run_nox(tmp_path / "v2", packages, "-s", "audit", env=env)
    assert report is not None, output
    ((kind, error),) = _findings(report)["nicisa"]
    assert kind == "isa-level" and "above the configured floor x86-64-v2" in error


@pytest.mark.network
def test_ctranslate2_asks_for_an_executable_stack(tmp_path: Path) -> None:
    """Issue 20's acceptance: ctranslate2 4.5.0's bundled library wants an executable stack."""
    folder = tmp_path / "packages"
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
         "--only-binary=:all:", "--platform", "manylinux2014_x86_64", "--python-version",
         "3.11", "--dest", str(folder), "ctranslate2==4.5.0"],
        check=True,
    )  # fmt: skip
    code, output, report = run_nox(tmp_path, folder, "-s", "audit")
    assert report is not None, output
    assert code == 1, output
    ((wheel, stacks),) = [
        (w["wheel"], [f for f in w["findings"] if f["kind"] == "exec-stack"])
        for w in report["wheels"]
    ]
    assert stacks, wheel
    assert any(".libs/" in f["error"] and "glibc 2.41" in f["error"] for f in stacks), stacks
