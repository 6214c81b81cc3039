"""A configured environment (``env``) through the real nox and uv: a gcc-built module whose
init needs a variable imports under the variant's (or the run's) ``env`` and fails without it;
the check key includes the environment, so the two variants never share a result."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from checker.config.variants import this_platform
from tests.support.noxrun import ROOT, NoxRun, nox_run
from tests.support.wheelbuild import extension_wheel, module_source, python_build

pytestmark = pytest.mark.integration

OTHER = "windows-x64" if this_platform() != "windows-x64" else "linux-x64"

NEEDS_ENV = module_source(
    "_needs",
    prelude="#include <stdlib.h>\n#include <string.h>",
    body="""const char *v = getenv("NIC_NEEDED");
    if (v == NULL || strcmp(v, "yes-outer") != 0) {
        PyErr_SetString(PyExc_ImportError, "nicenv needs NIC_NEEDED=yes-outer");
        return NULL;
    }""",
)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("runenv")
    packages = root / "packages"
    extension_wheel(
        packages, python_build(Path(sys.executable)), "nicenv", {"nicenv/_needs": NEEDS_ENV},
        workdir=root / "build", pure={"nicenv/__init__.py": ""},
    )  # fmt: skip
    proj = root / "project"
    proj.mkdir()
    shutil.copy(ROOT / "noxfile.py", proj / "noxfile.py")
    (proj / "checker").symlink_to(ROOT / "checker")
    # "with" and "without": one interpreter, one folder; only the environment differs.
    (proj / "pyproject.toml").write_text(
        f'[project]\nname = "x"\n\n'
        f'[tool.native-check.variants.with]\npython = "{sys.executable}"\n'
        f'packages = "{packages}"\nenv = {{ NIC_NEEDED = "yes-$NIC_OUTER" }}\n\n'
        f'[tool.native-check.variants.without]\npython = "{sys.executable}"\n'
        f'packages = "{packages}"\n\n'
        # Built for another platform only: its interpreter is not looked for here, it has no
        # sessions and is not reported (missing or otherwise).
        f'[tool.native-check.variants.elsewhere]\npython = "nowhere/bin/python3"\n'
        f'platforms = ["{OTHER}"]\n',
        encoding="utf-8",
    )
    return proj


def _variant(run: NoxRun, name: str) -> dict[str, Any]:
    assert run.report is not None, run.output
    return next(v for v in run.report["variants"] if v["variant"] == name)


def test_variant_env_makes_the_import_pass_and_its_absence_fails(
    project: Path, tmp_path: Path
) -> None:
    run = nox_run(
        tmp_path, project / "unused", "-s", "check_native", "--", "--jobs", "1",
        env={"NIC_OUTER": "outer"}, noxfile=project / "noxfile.py",
    )  # fmt: skip
    assert run.code == 1, run.output
    assert run.report is not None
    assert [v["variant"] for v in run.report["variants"]] == ["with", "without"]
    assert "elsewhere" not in run.output
    (good,) = _variant(run, "with")["wheels"]
    (bad,) = _variant(run, "without")["wheels"]
    assert good["status"] == "passed", good
    assert bad["status"] == "failed", bad
    (module,) = [m for m in bad["modules"] if m["module"] == "nicenv._needs"]
    assert "NIC_NEEDED=yes-outer" in module["error"]
    # The environment is part of the check key: "without" is a check of its own.
    assert "shared_from" not in bad.get("details", {})
    # The set check imports under the variant's environment too.
    assert _variant(run, "with")["set"] == []


def test_run_env_without_variants(project: Path, tmp_path: Path) -> None:
    single = tmp_path / "single"
    single.mkdir()
    shutil.copy(ROOT / "noxfile.py", single / "noxfile.py")
    (single / "checker").symlink_to(ROOT / "checker")
    packages = project.parent / "packages"
    body = '[project]\nname = "x"\n\n[tool.native-check]\nenv = {{ NIC_NEEDED = "{}" }}\n'
    for value, code in (("yes-outer", 0), ("no", 1)):
        (single / "pyproject.toml").write_text(body.format(value), encoding="utf-8")
        run = nox_run(
            tmp_path / value, packages, "-s", "check_native", "-P", sys.executable,
            noxfile=single / "noxfile.py",
        )  # fmt: skip
        assert run.code == code, run.output
