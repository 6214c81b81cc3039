"""Declared requirements resolved offline from the folder through the real nox and uv: a
requirement the folder lacks is ``unsatisfiable-requirement`` naming it and uv's reason; the
project's own requirements never judge a folder given with NATIVE_CHECK_PACKAGES."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support.noxrun import ROOT, NoxRun, nox_run
from tests.support.wheelbuild import extension_wheel, make_wheel, module_source, python_build

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("requirements")
    packages = root / "packages"
    extension_wheel(
        packages, python_build(Path(sys.executable)), "nicok", {"nicok/_ok": module_source("_ok")},
        workdir=root / "build", pure={"nicok/__init__.py": ""}, requires_dist=["nicpure>=1"],
    )  # fmt: skip
    make_wheel(packages, "nicpure", "1.0", {"nicpure/__init__.py": ""})
    return packages


def _project(root: Path, body: str) -> Path:
    root.mkdir(parents=True)
    shutil.copy(ROOT / "noxfile.py", root / "noxfile.py")
    (root / "checker").symlink_to(ROOT / "checker")
    (root / "pyproject.toml").write_text(f'[project]\nname = "x"\n\n{body}', encoding="utf-8")
    return root / "noxfile.py"


def _set(run: NoxRun) -> list[dict[str, Any]]:
    assert run.report is not None, run.output
    found: list[dict[str, Any]] = run.report["set"]
    return found


def test_a_declared_requirement_the_folder_lacks(folder: Path, tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("# what users install\nnicok\npyarrow>=15\nnicpure<1\n")
    # The project's own default set names another missing project: a folder given with
    # NATIVE_CHECK_PACKAGES is never judged against it.
    noxfile = _project(tmp_path / "p", '[tool.native-check]\nrequirements = ["notinfolder"]\n')
    run = nox_run(
        tmp_path, folder, "-s", "check_native", "-P", sys.executable, noxfile=noxfile,
        env={"NATIVE_CHECK_REQUIREMENTS_FILE": str(requirements)},
    )  # fmt: skip
    assert run.code == 1, run.output
    found = [f for f in _set(run) if f["kind"] == "unsatisfiable-requirement"]
    errors = sorted(f["error"] for f in found)
    assert len(errors) == 2, errors
    assert "'nicpure<1'" in errors[0] and "'pyarrow>=15'" in errors[1]
    assert "pyarrow" in errors[1] and "requirements.txt" in errors[1]
    assert all("notinfolder" not in e and "Using CPython" not in e for e in errors)
    assert all(f["status"] == "failed" and f["wheels"] == [] for f in found)
    assert "[unsatisfiable-requirement]" in run.output
    # Satisfiable: no finding, the run passes.
    requirements.write_text("nicok\nnicpure>=1\n")
    again = nox_run(
        tmp_path / "again", folder, "-s", "check_native", "-P", sys.executable,
        noxfile=noxfile, env={"NATIVE_CHECK_REQUIREMENTS_FILE": str(requirements)},
    )  # fmt: skip
    assert again.code == 0, again.output
    assert _set(again) == []


def test_a_variants_requirements_in_the_audit_of_another_platform(
    folder: Path, tmp_path: Path
) -> None:
    noxfile = _project(
        tmp_path / "p",
        f'[tool.native-check.variants.base]\npython = "{sys.executable}"\n'
        f'packages = "{folder}"\nrequirements = ["nicok", "pyarrow"]\n',
    )
    run = nox_run(
        tmp_path, folder, "-s", "audit", noxfile=noxfile,
        env={"NATIVE_CHECK_PLATFORM": "macosx-aarch64"},
    )  # fmt: skip
    assert run.report is not None, run.output
    (variant,) = run.report["variants"]
    assert variant["platform"] == "macosx-aarch64"
    # Resolved for macosx-aarch64: the folder's nicok is a linux wheel, so it fails too.
    errors = {f["error"].split("'")[1]: f["error"] for f in variant["set"]}
    assert set(errors) == {"nicok", "pyarrow"}
    assert all(f["kind"] == "unsatisfiable-requirement" for f in variant["set"])
    assert "[tool.native-check.variants.base]" in errors["pyarrow"]
    assert run.code == 1, run.output
    # For this machine's platform, nicok resolves: only pyarrow is named.
    here = nox_run(tmp_path / "here", folder, "-s", "audit", noxfile=noxfile)
    assert here.report is not None, here.output
    assert ["pyarrow" in f["error"] for f in here.report["variants"][0]["set"]] == [True]
