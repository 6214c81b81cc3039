"""A wheel with nothing to import gets no venv of its own (real uv, real nox, gcc-built wheels).

Its requirements are resolved against the folder offline; the set check's one venv proves it
installs and names it when it cannot.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from checker.findings import SetFinding
from checker.setcheck.job import check_set
from checker.wheel.discover import discover
from tests.integration.conftest import build_context, check_in_folder
from tests.support.noxrun import run_nox
from tests.support.wheelbuild import (
    NEEDS_GCC_ON_LINUX,
    compile_shared,
    make_wheel,
    module_source,
    python_build,
)

pytestmark = [pytest.mark.integration, NEEDS_GCC_ON_LINUX]


def _native(folder: Path, tmp: Path) -> Path:
    build = python_build(Path(sys.executable))
    ext = compile_shared(build, module_source("_n"), tmp / "n" / f"_n{build.ext_suffix}")
    files: dict[str, bytes | str] = {"nicnat/__init__.py": "", f"nicnat/_n{build.ext_suffix}": ext}
    return make_wheel(folder, "nicnat", "1.0", files, tag=build.tag)


def _venv_sessions(work: Path) -> set[str]:
    root = work / "venvs"
    return {p.name for p in root.iterdir()} if root.is_dir() else set()


def test_pure_wheels_get_no_venv_and_a_missing_requirement_fails(tmp_path: Path) -> None:
    folder = tmp_path / "packages"
    make_wheel(folder, "nicdep", "1.0", {"nicdep/__init__.py": ""})
    make_wheel(folder, "nicfine", "1.0", {"nicfine/__init__.py": ""}, requires_dist=["nicdep"])
    make_wheel(folder, "niclack", "1.0", {"niclack/__init__.py": ""}, requires_dist=["nicgone"])
    _native(folder, tmp_path)
    code, output, report = run_nox(tmp_path / "run", folder, "-s", "check_native")
    assert report is not None, output
    assert code == 1, output
    wheels = {w["project"]: w for w in report["wheels"]}
    assert wheels["nicfine"]["status"] == "passed" and wheels["nicfine"]["install"] == "resolved"
    assert wheels["nicnat"]["install"] == "ok"
    assert [m["status"] for m in wheels["nicnat"]["modules"]] == ["ok"]
    lack = wheels["niclack"]
    assert (lack["status"], lack["install"]) == ("failed", "failed")
    assert [f["kind"] for f in lack["findings"]] == ["missing-dependency"]
    assert "nicgone" in lack["findings"][0]["error"]
    # Only the native wheel made a venv of its own.
    assert [s.split("-")[0] for s in _venv_sessions(tmp_path / "run" / "work")] == ["nicnat"]


def test_a_pure_wheel_that_cannot_resolve_is_named_by_the_set_check(tmp_path: Path) -> None:
    """nicpin needs a newer Python than the target: the folder walk finds a wheel for each
    requirement, uv's resolver finds no solution. The set check names nicpin alone."""
    folder = tmp_path / "packages"
    make_wheel(folder, "nicdep", "1.0", {"nicdep/__init__.py": ""})
    make_wheel(folder, "nicuser", "1.0", {"nicuser/__init__.py": ""}, requires_dist=["nicdep"])
    pin = make_wheel(
        folder, "nicpin", "1.0", {"nicpin/__init__.py": ""}, requires_dist=["nicdep"],
        requires_python=">=3.99",
    )  # fmt: skip
    ctx = build_context(tmp_path / "set", folder)
    findings = list(check_set(ctx, discover(folder)).findings)
    alone = [f for f in findings if f.kind == "install-error"]
    assert alone == [SetFinding("install-error", (pin.name,), alone[0].error)]
    assert "3.99" in alone[0].error
    # Without a set check (a wheel named after --) uv resolves it in its own check.
    fragment = check_in_folder(build_context(tmp_path / "alone", folder), pin)
    assert fragment.install == "failed"
    assert [f.kind for f in fragment.findings] == ["install-error"]
    # Through nox: the set check's finding is the wheel's own install failure.
    code, output, report = run_nox(tmp_path / "run", folder, "-s", "check_native")
    assert report is not None and code == 1, output
    verdict = next(w for w in report["wheels"] if w["project"] == "nicpin")
    assert (verdict["status"], verdict["install"]) == ("failed", "failed"), verdict
    assert [f["kind"] for f in verdict["findings"]] == ["install-error"]
    assert all(f["kind"] != "install-error" for f in report["set"])
    named = run_nox(tmp_path / "named", folder, "-s", "check_native", "--", "nicpin")
    assert named[2] is not None and named[0] == 1, named[1]
    assert [w["install"] for w in named[2]["wheels"]] == ["failed"]
    assert not _venv_sessions(tmp_path / "named" / "work")
