"""The same set on every platform through the real nox: ``nox -s audit`` with
NATIVE_CHECK_PLATFORM writes two platforms' reports of one variant on this machine, and
``nox -s across`` compares them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.support.noxrun import ROOT, nox_run
from tests.support.wheelbuild import make_wheel

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    """A project (noxfile + checker) and the audit reports of linux-x64 and macosx-aarch64:
    pyarrow is in the linux-x64 folder only."""
    root = tmp_path_factory.mktemp("across")
    project = root / "project"
    project.mkdir()
    shutil.copy(ROOT / "noxfile.py", project / "noxfile.py")
    (project / "checker").symlink_to(ROOT / "checker")
    (project / "pyproject.toml").write_text('[project]\nname = "x"\n', encoding="utf-8")
    found = []
    for platform, projects in (
        ("linux-x64", ["numpy", "pyarrow"]), ("macosx-aarch64", ["numpy"]),
    ):  # fmt: skip
        folder = root / platform / "packages"
        for name in projects:
            make_wheel(folder, name, "1.0", {f"{name}/__init__.py": ""})
        run = nox_run(
            root / platform, folder, "-s", "audit", noxfile=project / "noxfile.py",
            env={"NATIVE_CHECK_PLATFORM": platform},
        )  # fmt: skip
        assert run.code == 0, run.output
        assert run.report is not None and run.report["platform"] == platform
        found.append(run.report_dir)
    return project, found


def test_a_project_one_platform_lacks_fails_with_platform_gap(
    reports: tuple[Path, list[Path]], tmp_path: Path
) -> None:
    project, paths = reports
    run = nox_run(
        tmp_path, tmp_path / "unused", "-s", "across", "--", *map(str, paths),
        noxfile=project / "noxfile.py",
    )  # fmt: skip
    assert run.code == 1, run.output
    assert "[platform-gap] pyarrow is on linux-x64, not on macosx-aarch64" in run.output
    written = json.loads((run.report_dir / "across.json").read_text(encoding="utf-8"))
    (variant,) = written["variants"]
    assert [(f["kind"], f["project"]) for f in variant["findings"]] == [("platform-gap", "pyarrow")]
    assert written["exit_code"] == 1


def test_declared_platform_specific_passes(
    reports: tuple[Path, list[Path]], tmp_path: Path
) -> None:
    project, _paths = reports
    declared = project.parent / "declared"
    declared.mkdir()
    shutil.copy(project / "noxfile.py", declared / "noxfile.py")
    (declared / "checker").symlink_to(ROOT / "checker")
    (declared / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.native-check]\n'
        'platform-specific = { pyarrow = ["linux-x64"] }\n',
        encoding="utf-8",
    )
    # The parent folder: every report.json below it, as CI downloads the artifacts.
    run = nox_run(
        tmp_path, tmp_path / "unused", "-s", "across", "--", str(project.parent),
        noxfile=declared / "noxfile.py",
    )  # fmt: skip
    assert run.code == 0, run.output
    assert "platform-specific as declared: pyarrow" in run.output


def test_no_paths_is_a_usage_error(reports: tuple[Path, list[Path]], tmp_path: Path) -> None:
    project, _paths = reports
    run = nox_run(tmp_path, tmp_path, "-s", "across", noxfile=project / "noxfile.py")
    assert run.code == 2, run.output
    assert "usage: nox -s across -- PATH" in run.output
