"""Issue 6's acceptance, end to end: CI outputs (JUnit, GitHub Actions, HTML) and whitelist
upkeep through the real ``nox`` on real gcc-built wheels.

One folder is built once for the module: a wheel whose extension fails to import (undefined
symbol), a wheel whose extension crashes the interpreter (whitelisted by glob + substring)
and a clean wheel.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from junitparser import Failure, JUnitXml, Skipped

from checker.config.paths import default_whitelist_path
from checker.verdict import upkeep
from checker.wheel.lock import Lock, LockedSet, LockedWheel
from tests.support.noxrun import ROOT, NoxRun
from tests.support.noxrun import nox_run as run_nox
from tests.support.wheelbuild import extension_wheel, module_source, python_build

pytestmark = pytest.mark.integration


FAILING = "nicfail"
CRASHING = "niccrash"
CLEAN = "nicclean"
PROBES = {f"probe-{name}-1.0" for name in (FAILING, CRASHING, CLEAN)}
# Glob wheel key + a case-insensitive substring of the crash error ("...died (SIGABRT)...").
CRASH_WHITELIST = {f"{CRASHING}-*.whl": {f"{CRASHING}._boom": "sigabrt"}}


def snapshot(folder: Path) -> dict[str, tuple[int, str]]:
    """Every file under ``folder``: (mtime in ns, sha256)."""
    return {
        str(path.relative_to(folder)): (
            path.stat().st_mtime_ns,
            hashlib.sha256(path.read_bytes()).hexdigest(),
        )
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def changed(before: Mapping[str, object], after: Mapping[str, object]) -> set[str]:
    return {key for key in before.keys() | after.keys() if before.get(key) != after.get(key)}


def wheel_name(report: Mapping[str, Any], project: str) -> str:
    (name,) = [w["wheel"] for w in report["wheels"] if w["wheel"].startswith(project + "-")]
    assert isinstance(name, str)
    return name


def verdict(report: Mapping[str, Any]) -> list[tuple[str, str, list[tuple[str, str, str]]]]:
    return [
        (
            w["wheel"],
            w["status"],
            [(m["module"], m["status"], m.get("kind") or "") for m in w["modules"]],
        )
        for w in report["wheels"]
    ]


@pytest.fixture(scope="module")
def packages(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("ci-wheels")
    build = python_build(Path(sys.executable))
    folder = root / "packages"
    extension_wheel(
        folder,
        build,
        FAILING,
        {
            f"{FAILING}/_bad": module_source(
                "_bad", "nic_missing_fn();", "extern void nic_missing_fn(void);"
            )
        },
        workdir=root / "build",
        pure={f"{FAILING}/__init__.py": ""},
    )
    extension_wheel(
        folder,
        build,
        CRASHING,
        {f"{CRASHING}/_boom": module_source("_boom", "abort();", "#include <stdlib.h>")},
        workdir=root / "build",
        pure={f"{CRASHING}/__init__.py": ""},
    )
    extension_wheel(
        folder,
        build,
        CLEAN,
        {f"{CLEAN}/_ok": module_source("_ok")},
        workdir=root / "build",
        pure={f"{CLEAN}/__init__.py": ""},
    )
    assert len(list(folder.glob("*.whl"))) == 3
    return folder


@dataclass(frozen=True)
class CiRun:
    run: NoxRun
    report: dict[str, Any]
    report_dir: Path
    summary: Path


@pytest.fixture(scope="module")
def ci_run(packages: Path, tmp_path_factory: pytest.TempPathFactory) -> CiRun:
    """One check_native run as GitHub Actions sees it."""
    tmp = tmp_path_factory.mktemp("ci-run")
    whitelist = tmp / "whitelist.json"
    whitelist.write_text(json.dumps(CRASH_WHITELIST), encoding="utf-8")
    summary = tmp / "step-summary.md"
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_STEP_SUMMARY": str(summary),
        "NATIVE_CHECK_WHITELIST": str(whitelist),
    }
    run = run_nox(tmp, packages, "-s", "check_native", env=env)
    assert run.report is not None, run.output
    return CiRun(run, run.report, tmp / "report", summary)


# --- 1. CI outputs -----------------------------------------------------------------------


def test_ci_run_fails_with_one_failed_one_whitelisted_one_passed(ci_run: CiRun) -> None:
    assert ci_run.run.code == 1, ci_run.run.output
    statuses = {w["wheel"].split("-")[0]: w["status"] for w in ci_run.report["wheels"]}
    assert statuses == {FAILING: "failed", CRASHING: "whitelisted", CLEAN: "passed"}
    (crash,) = [
        m for w in ci_run.report["wheels"] if w["wheel"].startswith(CRASHING) for m in w["modules"]
    ]
    assert crash["kind"] == "crash" and "SIGABRT" in crash["error"]


def test_junit_has_one_suite_per_wheel_with_failure_and_skip(ci_run: CiRun) -> None:
    xml = JUnitXml.fromfile(str(ci_run.report_dir / "junit.xml"))
    suites = {suite.name: suite for suite in xml}
    # One suite per wheel, and the set check's (the folder as one environment).
    assert len(list(xml)) == len(suites) == 4
    assert set(suites) == {w["wheel"] for w in ci_run.report["wheels"]} | {
        "set (the folder as one environment)"
    }

    failed = suites[wheel_name(ci_run.report, FAILING)]
    (case,) = list(failed)
    assert case.name == f"{FAILING}._bad"
    (failure,) = case.result
    assert isinstance(failure, Failure)
    assert failure.type == "undefined-symbol"
    assert failure.message is not None
    assert "undefined symbol: nic_missing_fn" in failure.message
    assert failed.failures == 1

    whitelisted = suites[wheel_name(ci_run.report, CRASHING)]
    (case,) = list(whitelisted)
    assert case.name == f"{CRASHING}._boom"
    (skipped,) = case.result
    assert isinstance(skipped, Skipped)
    assert skipped.message is not None and "whitelisted" in skipped.message
    assert whitelisted.failures == 0 and whitelisted.skipped == 1

    clean = suites[wheel_name(ci_run.report, CLEAN)]
    (case,) = list(clean)
    assert case.name == f"{CLEAN}._ok" and not case.result


def test_github_annotations_and_groups(ci_run: CiRun) -> None:
    lines = ci_run.run.stdout.splitlines()
    errors = [line for line in lines if line.startswith("::error")]
    assert len(errors) == 1, ci_run.run.stdout
    # Property values escape ':' and ',' so that the title ends at the first '::'.
    match = re.fullmatch(r"::error title=([^:,]*)::(.*)", errors[0])
    assert match is not None, errors[0]
    title, message = match.groups()
    assert wheel_name(ci_run.report, FAILING) in title
    assert f"{FAILING}._bad" in title and "undefined-symbol" in title
    assert "nic_missing_fn" in message
    assert not any(CRASHING in line for line in errors)

    # Balanced, never nested: one group per wheel, in report order.
    groups = [line.split("::")[1] for line in lines if line.startswith(("::group::", "::endgroup"))]
    assert groups == ["group", "endgroup"] * len(ci_run.report["wheels"])
    opened = [line for line in lines if line.startswith("::group::")]
    for line, wheel in zip(opened, ci_run.report["wheels"]):
        assert line.startswith(f"::group::{wheel['wheel']}: {wheel['status']}")


def test_step_summary_names_failure_and_carries_snippet(ci_run: CiRun) -> None:
    text = ci_run.summary.read_text(encoding="utf-8")
    assert wheel_name(ci_run.report, FAILING) in text
    assert "FAILED" in text
    blocks = re.findall(r"^(`{3,})json\n(.*?)\n\1$", text, flags=re.MULTILINE | re.DOTALL)
    assert len(blocks) == 1, text
    snippet = ci_run.report["whitelist_snippet"]
    assert json.loads(blocks[0][1]) == snippet
    assert list(snippet) == [f"{FAILING}-*.whl"]


def test_html_report_is_self_contained(ci_run: CiRun) -> None:
    html = (ci_run.report_dir / "report.html").read_text(encoding="utf-8")
    for wheel in ci_run.report["wheels"]:
        assert wheel["wheel"] in html
    assert "http://" not in html and "https://" not in html
    assert "nic_missing_fn" in html


def test_no_workflow_commands_outside_github_actions(packages: Path, tmp_path: Path) -> None:
    summary = tmp_path / "step-summary.md"
    whitelist = tmp_path / "whitelist.json"
    whitelist.write_text(json.dumps(CRASH_WHITELIST), encoding="utf-8")
    env = {"GITHUB_STEP_SUMMARY": str(summary), "NATIVE_CHECK_WHITELIST": str(whitelist)}
    run = run_nox(tmp_path, packages, "-s", "check_native", env=env)
    assert run.code == 1, run.output
    assert "nic_missing_fn" in run.output  # the failure is still reported on the console
    assert not [line for line in run.output.splitlines() if line.startswith("::")]
    assert not summary.exists()
    assert (tmp_path / "report" / "junit.xml").exists()
    assert (tmp_path / "report" / "report.html").exists()


# --- 2. whitelist upkeep -------------------------------------------------------------------


def test_whitelist_update_and_prune_through_nox(packages: Path, tmp_path: Path) -> None:
    whitelist = tmp_path / "whitelist.json"
    # Unsorted keys, no indent: update rewrites the whole file sorted with a 2-space indent.
    whitelist.write_text(
        json.dumps({"zzz_unrelated-*.whl": {"zzz": "kept as is"}, **CRASH_WHITELIST}) + "\n",
        encoding="utf-8",
    )
    env = {"NATIVE_CHECK_WHITELIST": str(whitelist)}
    project_whitelists = snapshot(ROOT / "whitelists")
    project_lock = (ROOT / "packages.lock").read_bytes()

    first = run_nox(tmp_path, packages, "-s", "check_native", env=env)
    assert first.code == 1 and first.report is not None, first.output
    snippet = first.report["whitelist_snippet"]
    assert list(snippet) == [f"{FAILING}-*.whl"]

    before = snapshot(tmp_path)
    update = run_nox(tmp_path, packages, "-s", "whitelist", "--", "update", env=env)
    assert update.code == 0, update.output
    assert changed(before, snapshot(tmp_path)) == {whitelist.name}
    assert snapshot(ROOT / "whitelists") == project_whitelists
    assert f"{whitelist}: added {FAILING}-*.whl / {FAILING}._bad: " in update.output

    text = whitelist.read_text(encoding="utf-8")
    data = json.loads(text)
    assert text == json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    assert list(data) == sorted(data)
    assert data == {
        "zzz_unrelated-*.whl": {"zzz": "kept as is"},
        **CRASH_WHITELIST,
        **snippet,
    }
    for key, modules in data.items():
        assert re.fullmatch(r"[a-z0-9_]+-\*\.whl", key), key
        for pattern in modules.values():
            assert isinstance(pattern, str) and "/" not in pattern and pattern.strip()
    assert "nic_missing_fn" in data[f"{FAILING}-*.whl"][f"{FAILING}._bad"]

    passing = run_nox(tmp_path, packages, "-s", "check_native", env=env)
    assert passing.code == 0, passing.output
    assert passing.report is not None
    assert passing.report["summary"]["failed"] == 0
    assert passing.report["summary"]["whitelisted"] == 2
    assert passing.report["unused_whitelist"] == []
    assert passing.report["whitelist_snippet"] == {}

    # A second update has nothing to add and leaves the file alone.
    before = snapshot(tmp_path)
    again = run_nox(tmp_path, packages, "-s", "whitelist", "--", "update", env=env)
    assert again.code == 0, again.output
    assert "nothing to update" in again.output
    assert changed(before, snapshot(tmp_path)) == set()

    # A stale entry: the wheel key matches a wheel of the run, the module never fails.
    good = json.loads(whitelist.read_text(encoding="utf-8"))
    stale = json.loads(json.dumps(good))
    stale[f"{FAILING}-*.whl"][f"{FAILING}._bogus"] = "never happens"
    whitelist.write_text(json.dumps(stale, indent=2) + "\n", encoding="utf-8")
    flagged = run_nox(tmp_path, packages, "-s", "check_native", env=env)
    assert flagged.code == 0, flagged.output
    assert flagged.report is not None
    assert flagged.report["unused_whitelist"] == [
        {"wheel_key": f"{FAILING}-*.whl", "module": f"{FAILING}._bogus", "pattern": "never happens"}
    ]
    assert f"{FAILING}._bogus" in flagged.output

    before = snapshot(tmp_path)
    pruned = run_nox(tmp_path, packages, "-s", "whitelist", "--", "prune", env=env)
    assert pruned.code == 0, pruned.output
    assert f"{whitelist}: removed {FAILING}-*.whl / {FAILING}._bogus: 'never happens'" in (
        pruned.output
    )
    assert pruned.output.count(": removed ") == 1
    assert changed(before, snapshot(tmp_path)) == {whitelist.name}
    assert json.loads(whitelist.read_text(encoding="utf-8")) == good

    before = snapshot(tmp_path)
    second = run_nox(tmp_path, packages, "-s", "whitelist", "--", "prune", env=env)
    assert second.code == 0, second.output
    assert f"{whitelist}: nothing to prune" in second.output
    assert ": removed " not in second.output
    assert changed(before, snapshot(tmp_path)) == set()

    assert snapshot(ROOT / "whitelists") == project_whitelists
    assert (ROOT / "packages.lock").read_bytes() == project_lock


def test_whitelist_unknown_action_is_a_usage_error(packages: Path, tmp_path: Path) -> None:
    run = run_nox(tmp_path, packages, "-s", "whitelist", "--", "bogus")
    assert run.code == 2, run.output
    assert "usage: nox -s whitelist -- update|prune|check" in run.output
    assert "'bogus'" in run.output
    assert "Traceback" not in run.output


def test_default_whitelist_path_prefers_exact_then_minor(tmp_path: Path) -> None:
    folder = tmp_path / "whitelists"
    exact = folder / "python-3.11.7" / "linux-x64.json"
    minor = folder / "python-3.11" / "linux-x64.json"
    assert default_whitelist_path(tmp_path, "python-3.11.7", "linux-x64") == exact
    minor.parent.mkdir(parents=True)
    minor.write_text("{}", encoding="utf-8")
    assert default_whitelist_path(tmp_path, "python-3.11.7", "linux-x64") == minor
    assert default_whitelist_path(tmp_path, "python-3.11", "linux-x64") == minor
    assert default_whitelist_path(tmp_path, "python-3.11.7", "linux-aarch64") == (
        folder / "python-3.11.7" / "linux-aarch64.json"
    )
    exact.parent.mkdir(parents=True)
    exact.write_text("{}", encoding="utf-8")
    assert default_whitelist_path(tmp_path, "python-3.11.7", "linux-x64") == exact


def _locked(*files: str) -> tuple[LockedWheel, ...]:
    return tuple(
        LockedWheel(name, name.split("-")[0], name.split("-")[1], "0" * 64, 1) for name in files
    )


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_upkeep_check_reports_every_problem(tmp_path: Path) -> None:
    root = tmp_path / "whitelists"
    lock = Lock(
        (),
        (
            LockedSet("python-3.12", "linux-x64", _locked("real-1.0-py3-none-any.whl")),
            LockedSet("python-3.11", "linux-x64", _locked("other-2.0-py3-none-any.whl")),
        ),
    )
    malformed = _write(root / "python-3.11" / "linux-x64.json", '{\n  "a-*.whl": {"m": "e",}\n}\n')
    duplicate = _write(
        root / "python-3.11" / "macosx-x64.json", '{"a-*.whl": {"m": "e"}, "a-*.whl": {}}'
    )
    # Checked against the python-3.12 set (an X.Y.Z folder falls back to its X.Y pin).
    unmatched = _write(
        root / "python-3.12.4" / "linux-x64.json",
        json.dumps({"real-*.whl": {"real._x": "e"}, "ghost-*.whl": {"ghost._y": "e"}}),
    )
    problems = upkeep.check(root, lock)
    assert len(problems) == 3, problems
    assert any(p.startswith(f"{malformed}:2:") for p in problems), problems
    assert any(str(duplicate) in p and "duplicate key" in p for p in problems), problems
    (ghost,) = [p for p in problems if str(unmatched) in p]
    assert "'ghost-*.whl'" in ghost and "real-*.whl" not in ghost


def test_upkeep_check_clean_tree_has_no_problems(tmp_path: Path) -> None:
    root = tmp_path / "whitelists"
    lock = Lock((), (LockedSet("python-3.12", "linux-x64", _locked("real-1.0-py3-none-any.whl")),))
    _write(root / "python-3.12" / "linux-x64.json", json.dumps({"REAL-*.whl": {"real._x": "e"}}))
    _write(root / "python-3.12" / "windows-x64.json", "{}")  # no pin for it: validity only
    _write(root / "python-3.13" / "linux-x64.json", json.dumps({"any-*.whl": {"m": ["a", "b"]}}))
    assert upkeep.check(root, lock) == []
    assert upkeep.check(root, None) == []


# --- 3. nox -l --json ----------------------------------------------------------------------


def test_list_json_names_the_probe_sessions(packages: Path, tmp_path: Path) -> None:
    run = run_nox(tmp_path, packages, "-l", "--json")
    assert run.code == 0, run.output
    sessions = json.loads(run.stdout)  # stdout is JSON and nothing else
    assert isinstance(sessions, list)
    names = [item["session"] for item in sessions]
    assert {name for name in names if name.startswith("probe-")} == PROBES
    assert "check_native" in names
    by_name = {item["session"]: item for item in sessions}
    for name in PROBES:
        assert name.removeprefix("probe-") in by_name[name]["description"]


# --- 4. nox --parallel ---------------------------------------------------------------------


def test_parallel_run_gives_the_sequential_verdict(
    packages: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    record_property: Callable[[str, object], None],
) -> None:
    whitelist = tmp_path / "whitelist.json"
    whitelist.write_text(json.dumps(CRASH_WHITELIST), encoding="utf-8")
    env = {"NATIVE_CHECK_WHITELIST": str(whitelist)}
    sequential = run_nox(tmp_path / "seq", packages, "-s", "check_native", env=env)
    parallel = run_nox(tmp_path / "par", packages, "-s", "check_native", "--parallel", "2", env=env)
    with capsys.disabled():
        print(
            f"\nwall time: sequential {sequential.seconds:.2f} s, "
            f"--parallel 2 {parallel.seconds:.2f} s"
        )
    record_property("sequential_seconds", round(sequential.seconds, 2))
    record_property("parallel_seconds", round(parallel.seconds, 2))

    assert sequential.code == 1 and sequential.report is not None, sequential.output
    assert parallel.code == sequential.code, parallel.output
    assert parallel.report is not None
    # nox really ran the probes as parallel workers ("Starting session ..." is its parallel log).
    assert all(f"Starting session {name}" in parallel.output for name in PROBES), parallel.output
    assert verdict(parallel.report) == verdict(sequential.report)
    assert parallel.report["summary"] == sequential.report["summary"]
    assert parallel.report["summary"] == {"passed": 1, "failed": 1, "whitelisted": 1, "total": 3}
    assert [p.relative_to(tmp_path / "par") for p in (tmp_path / "par").rglob("report.json")] == [
        Path("report") / "report.json"
    ]
    fragments = sorted(p.name for p in (tmp_path / "par" / "report" / "fragments").iterdir())
    assert len(fragments) == 4 and fragments[0] == "_set.json"  # three wheels and the set
