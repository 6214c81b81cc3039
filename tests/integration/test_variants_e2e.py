"""Many variants in one run, through the real nox and uv: two Pythons, three folders, one
``whitelists/{platform}.json`` found by default, shared checks, stale entries across variants.

The project is a temporary folder holding the noxfile and a link to checker/, so that its
``whitelists/`` is the default lookup without touching the repository's own.
"""

from __future__ import annotations

import json
import platform
import shutil
import sys
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import jsonschema
import pytest

from checker.config.platforms import platform_key
from tests.support import pythons
from tests.support.noxrun import ROOT, NoxRun, nox_run
from tests.support.wheelbuild import extension_wheel, make_wheel, module_source, python_build

pytestmark = pytest.mark.integration

RUNNING = Path(sys.executable)
SCHEMA = json.loads((ROOT / "checker" / "data" / "report.schema.json").read_text())


def fails_on(other: pythons.OtherPython) -> str:
    """Imports on the running X.Y, raises on the other's: one glob key, one variant uses it."""
    major, minor = other.minor
    return module_source(
        "_v",
        body=f"""#if PY_MAJOR_VERSION == {major} && PY_MINOR_VERSION == {minor}
    PyErr_SetString(PyExc_RuntimeError, "nicver does not work on {other.short}"); return NULL;
#endif""",
    )


BROKEN = module_source(
    "_m", body='PyErr_SetString(PyExc_RuntimeError, "nicbroken is broken"); return NULL;'
)


def _wheels(folder: Path, python: Path, work: Path, other: pythons.OtherPython) -> None:
    build = python_build(python)
    extension_wheel(
        folder, build, "nicok", {"nicok/_ok": module_source("_ok")}, workdir=work / "ok",
        pure={"nicok/__init__.py": ""},
    )  # fmt: skip
    extension_wheel(
        folder, build, "nicver", {"nicver/_v": fails_on(other)}, workdir=work / "ver",
        pure={"nicver/__init__.py": ""},
    )  # fmt: skip
    make_wheel(folder, "nicpure", "1.0", {"nicpure/__init__.py": ""})


@pytest.fixture(scope="module")
def other() -> pythons.OtherPython:
    """The second interpreter: the newest CPython of another X.Y than the running one."""
    found = pythons.other_minor()
    if not found:
        pytest.skip(pythons.missing_reason())
    return found[-1]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, other: pythons.OtherPython) -> Path:
    root = tmp_path_factory.mktemp("variants")
    base, extra, newer = root / "base", root / "extra", root / "other"
    _wheels(base, RUNNING, root / "b-running", other)
    shutil.copytree(base, extra)  # the same bytes: shared with base
    extension_wheel(
        extra, python_build(RUNNING), "nicbroken", {"nicbroken/_m": BROKEN},
        workdir=root / "broken", pure={"nicbroken/__init__.py": ""},
    )  # fmt: skip
    _wheels(newer, other.path, root / "b-other", other)
    proj = root / "project"
    proj.mkdir()
    shutil.copy(ROOT / "noxfile.py", proj / "noxfile.py")
    (proj / "checker").symlink_to(ROOT / "checker")
    variants = "".join(
        f'[tool.native-check.variants.{name}]\npython = "{python}"\npackages = "{folder}"\n\n'
        for name, python, folder in (
            ("base", RUNNING, base), ("extra", RUNNING, extra), ("other", other.path, newer),
        )
    )  # fmt: skip
    (proj / "pyproject.toml").write_text(f'[project]\nname = "x"\n\n{variants}', encoding="utf-8")
    whitelist = {
        "nicbroken-*.whl": {"nicbroken._m": "nicbroken is broken"},  # extra only has it
        "nicver-*.whl": {"nicver._v": f"does not work on {other.short}"},  # other uses it
        "nicok-*.whl": {"nicok._ok": "this never happens"},  # all have it, none uses it
    }
    key = platform_key(sys.platform, platform.machine())
    (proj / "whitelists").mkdir()
    (proj / "whitelists" / f"{key}.json").write_text(json.dumps(whitelist), encoding="utf-8")
    return proj


def _run(project: Path, tmp: Path, *args: str, **env: str) -> NoxRun:
    noxfile = project / "noxfile.py"
    return nox_run(tmp, project / "unused", "-s", "check_native", *args, env=env, noxfile=noxfile)


@pytest.fixture(scope="module")
def full(project: Path, tmp_path_factory: pytest.TempPathFactory) -> NoxRun:
    return _run(project, tmp_path_factory.mktemp("full"), "--", "--jobs", "1")


def _variant(report: dict[str, Any], name: str) -> dict[str, Any]:
    return next(v for v in report["variants"] if v["variant"] == name)


def _wheel(variant: dict[str, Any], project: str) -> dict[str, Any]:
    return next(w for w in variant["wheels"] if w["project"] == project)


def test_every_variant_judged_against_the_shared_platform_whitelist(
    full: NoxRun, project: Path, other: pythons.OtherPython
) -> None:
    report = full.report
    assert report is not None, full.output
    jsonschema.validate(report, SCHEMA)
    assert full.code == 0, full.output
    assert [v["variant"] for v in report["variants"]] == ["base", "extra", "other"]
    for variant in report["variants"]:
        assert variant["whitelist_path"].startswith(str(project / "whitelists"))
    assert _variant(report, "other")["python"] == other.version
    assert _variant(report, "base")["python"] == platform.python_version()
    assert _wheel(_variant(report, "extra"), "nicbroken")["status"] == "whitelisted"
    assert _wheel(_variant(report, "other"), "nicver")["status"] == "whitelisted"
    assert _wheel(_variant(report, "base"), "nicver")["status"] == "passed"
    assert report["summary"]["total"] == 10


def test_stale_only_when_no_variant_used_the_entry(full: NoxRun) -> None:
    report = full.report
    assert report is not None, full.output
    stale = {(e["wheel_key"], e["module"]) for e in report["unused_whitelist"]}
    assert stale == {("nicok-*.whl", "nicok._ok")}
    # base and extra have nicver and did not use its entry: other did, so it is not stale.
    for variant in report["variants"]:
        assert [e["wheel_key"] for e in variant["unused_whitelist"]] == ["nicok-*.whl"]


def test_same_bytes_same_interpreter_checked_once(full: NoxRun) -> None:
    report = full.report
    assert report is not None, full.output
    extra = _variant(report, "extra")
    shared = {w["project"]: w.get("details", {}).get("shared_from") for w in extra["wheels"]}
    assert shared == {"nicok": "base", "nicver": "base", "nicpure": "base", "nicbroken": None}
    # Another interpreter is another check, whatever the bytes.
    assert all(
        "shared_from" not in w.get("details", {}) for w in _variant(report, "other")["wheels"]
    )
    assert report["summary"]["shared"] == 3
    assert "shared: checked for base" in full.output


def test_strict_mode_fails_on_the_stale_entry_alone(project: Path, tmp_path: Path) -> None:
    run = _run(project, tmp_path, "--", "--jobs", "2", NATIVE_CHECK_STRICT_WHITELIST="1")
    assert run.code == 1, run.output
    assert run.report is not None
    assert run.report["summary"]["failed"] == 0
    assert "nicok-*.whl / nicok._ok" in run.output


def test_variant_selection(project: Path, tmp_path: Path) -> None:
    run = _run(project, tmp_path, "--", "--variant", "OTH*", "nicver")
    assert run.report is not None, run.output
    assert [v["variant"] for v in run.report["variants"]] == ["other"]
    assert [w["project"] for w in run.report["variants"][0]["wheels"]] == ["nicver"]
    missing = _run(project, tmp_path / "none", "--", "--variant", "nosuch")
    assert missing.code == 2, missing.output
    assert "nosuch" in missing.output and "matches no configured variant" in missing.output


def test_junit_html_and_console_show_each_variant(full: NoxRun) -> None:
    report = full.report
    assert report is not None, full.output
    report_dir = full.report_dir
    suites = ElementTree.parse(report_dir / "junit.xml").getroot().findall("testsuite")
    assert [s.get("name") for s in suites] == ["base", "extra", "other"]
    extra = next(s for s in suites if s.get("name") == "extra")
    assert {c.get("classname") for c in extra.iter("testcase")} >= {
        w["wheel"] for w in _variant(report, "extra")["wheels"]
    }
    page = (report_dir / "report.html").read_text(encoding="utf-8")
    assert "Wheels x variants" in page and page.count('id="v-') == 3
    assert "shared with base" in page
    for name in ("base", "extra", "other"):
        assert f"=== variant {name} ===" in full.output
    assert "3 variant(s)" in full.output and "shared with another variant" in full.output


def test_audit_covers_every_variant(project: Path, tmp_path: Path) -> None:
    noxfile = project / "noxfile.py"
    run = nox_run(tmp_path, project / "unused", "-s", "audit", noxfile=noxfile)
    assert run.report is not None, run.output
    jsonschema.validate(run.report, SCHEMA)
    assert [v["variant"] for v in run.report["variants"]] == ["base", "extra", "other"]
    assert all(
        v["interpreter"] == "static audit: nothing installed" for v in run.report["variants"]
    )
    assert run.code == 0, run.output  # gcc-built linux_* wheels: nothing the audit can fault
