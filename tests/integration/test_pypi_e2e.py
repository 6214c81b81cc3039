"""End to end on real PyPI wheels for this interpreter (downloads; marked ``network``)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.noxrun import run_nox
from tests.support.wheelbuild import with_broken_wheel

pytestmark = [pytest.mark.integration, pytest.mark.network]

# Real wheels with native code of every flavour: C API modules, cffi, ctypes libraries
# (pycryptodome), Cython with import cycles (scipy), a large package (pandas).
PROJECTS = (
    "numpy", "pyyaml", "cffi", "markupsafe", "charset-normalizer", "pycryptodome",
    "scipy", "pandas",
)  # fmt: skip


def _pip() -> list[str]:
    """A pip to download with: this venv may be made by uv and have none."""
    for python in (sys.executable, getattr(sys, "_base_executable", ""), shutil.which("python3")):
        if (
            python
            and subprocess.run(
                [python, "-m", "pip", "--version"], capture_output=True, check=False
            ).returncode
            == 0
        ):
            return [python, "-m", "pip"]
    pytest.skip("no pip available to download wheels")


@pytest.fixture(scope="module")
def pypi_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("pypi") / "packages"
    subprocess.run(
        [*_pip(), "download", "--quiet", "--only-binary=:all:", "--dest", str(folder), *PROJECTS],
        check=True,
    )
    return folder


def test_real_wheels_pass(pypi_folder: Path, tmp_path: Path) -> None:
    # One wheel after another, so that pandas' probe has ended before scipy's venv is made
    # (the other test here runs with the default --jobs).
    env = {"NATIVE_CHECK_JOBS": "1"}
    code, output, report = run_nox(tmp_path, pypi_folder, "-s", "check_native", env=env)
    assert code == 0, output
    assert report is not None
    wheels = {w["project"]: w for w in report["wheels"]}
    assert set(PROJECTS) <= set(wheels)
    modules = {m["module"]: m for w in report["wheels"] for m in w["modules"]}
    assert not [m for m in modules.values() if m["status"] == "failed"]
    assert modules["_cffi_backend"]["status"] == "ok"
    assert modules["yaml._yaml"]["status"] == "ok"
    crypto = wheels["pycryptodome"]["modules"]
    assert crypto and {m["kind"] for m in crypto if m["status"] == "skipped"} == {"not-a-module"}
    assert any(m["status"] == "skipped" and m["module"] == "Crypto.Cipher._raw_aes" for m in crypto)
    assert len([m for m in wheels["scipy"]["modules"] if m["status"] == "ok"]) > 50
    # numpy is a dependency in the venvs of scipy and pandas, hard-linked by uv from one
    # cache entry: compiled in the first of them, its bytecode then shared with the second.
    # (The set check's venv of the whole folder, checked at the same time, compiles its own.)
    inodes = {}
    for pyc in (tmp_path / "work" / "pycache").rglob("site-packages/numpy/__init__.*.pyc"):
        parts = pyc.parts
        if "venvs" in parts:
            inodes[parts[parts.index("venvs") + 1].split("-")[0]] = pyc.stat().st_ino
    assert inodes["pandas"] == inodes["scipy"]
    assert report["set"] == [], report["set"]  # these real wheels are fine together


def test_broken_wheel_among_real_ones_fails_and_is_named(pypi_folder: Path, tmp_path: Path) -> None:
    packages = with_broken_wheel(pypi_folder, tmp_path, "_crash", "abort();", "#include <stdlib.h>")
    code, output, report = run_nox(tmp_path, packages, "-s", "check_native")
    assert code == 1, output
    assert report is not None
    failed = [w["wheel"] for w in report["wheels"] if w["status"] == "failed"]
    assert len(failed) == 1 and failed[0].startswith("nicbroken-1.0-")
    assert "nicbroken._crash: [crash]" in output and "SIGABRT" in output
