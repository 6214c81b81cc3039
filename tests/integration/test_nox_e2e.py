"""End to end: the real ``nox -s check_native`` over folders of real gcc-built wheels."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.support import pythons
from tests.support.noxrun import ROOT
from tests.support.noxrun import run_nox as _run_nox
from tests.support.wheelbuild import (
    extension_wheel,
    make_wheel,
    module_source,
    python_build,
    with_broken_wheel,
)

pytestmark = pytest.mark.integration

SCHEMA = json.loads((ROOT / "checker" / "data" / "report.schema.json").read_text())


def run_nox(
    tmp: Path, packages: Path, *args: str, env: dict[str, str] | None = None
) -> tuple[int, str, dict[str, Any] | None]:
    """The per-wheel path, without the set check: these folders hold two versions of one
    project on purpose (unique session names), which as one environment is not
    co-installable (tests/integration/test_set_check.py covers that)."""
    return _run_nox(tmp, packages, *args, env={"NATIVE_CHECK_SET_CHECK": "0", **(env or {})})


@pytest.fixture(scope="module")
def clean_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two clean extension wheels (two versions of one project) and a pure-Python wheel."""
    root = tmp_path_factory.mktemp("e2e")
    build = python_build(Path(sys.executable))
    packages = root / "packages"
    for version in ("1.0", "2.0"):
        extension_wheel(
            packages,
            build,
            "nicgood",
            {
                "nicgood/_top": module_source("_top"),
                "nicgood/sub/deep/_leaf": module_source("_leaf"),
            },
            version=version,
            workdir=root / "build" / version,
            pure={"nicgood/__init__.py": "", "nicgood/sub/__init__.py": ""},
        )
    make_wheel(packages, "nicpure", "1.0", {"nicpure/__init__.py": "VALUE = 1\n"})
    return packages


@pytest.fixture(scope="module")
def broken_folder(clean_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The clean folder plus a wheel whose extension fails to import."""
    root = tmp_path_factory.mktemp("e2e-broken")
    packages = with_broken_wheel(
        clean_folder, root, "_bad", "nic_absent();", "extern void nic_absent(void);"
    )
    return packages


def test_list_shows_unique_readable_session_names(clean_folder: Path, tmp_path: Path) -> None:
    code, output, _ = run_nox(tmp_path, clean_folder, "-l")
    assert code == 0, output
    assert "probe-nicgood-1.0" in output
    assert "probe-nicgood-2.0" in output
    assert "probe-nicpure-1.0" in output


def test_clean_folder_passes_with_schema_valid_report(clean_folder: Path, tmp_path: Path) -> None:
    code, output, report = run_nox(tmp_path, clean_folder, "-s", "check_native")
    assert code == 0, output
    assert report is not None
    jsonschema.validate(report, SCHEMA)
    assert report["summary"] == {"passed": 3, "failed": 0, "whitelisted": 0, "total": 3}
    modules = {m["module"]: m["status"] for w in report["wheels"] for m in w["modules"]}
    assert modules == {"nicgood._top": "ok", "nicgood.sub.deep._leaf": "ok"}
    assert "passed 3" in output


def test_broken_wheel_fails_and_is_named(broken_folder: Path, tmp_path: Path) -> None:
    code, output, report = run_nox(tmp_path, broken_folder, "-s", "check_native")
    assert code == 1, output
    assert report is not None
    jsonschema.validate(report, SCHEMA)
    failed = [w for w in report["wheels"] if w["status"] == "failed"]
    assert len(failed) == 1 and failed[0]["wheel"].startswith("nicbroken-1.0-")
    bad = failed[0]["modules"][0]
    assert (bad["module"], bad["kind"]) == ("nicbroken._bad", "undefined-symbol")
    assert "nic_absent" in bad["error"]
    assert "nicbroken" in output and "undefined-symbol" in output
    snippet = report["whitelist_snippet"]
    assert list(snippet) == ["nicbroken-*.whl"]
    assert list(snippet["nicbroken-*.whl"]) == ["nicbroken._bad"]
    pattern = snippet["nicbroken-*.whl"]["nicbroken._bad"]
    assert "nic_absent" in pattern and pattern.lower() in bad["error"].lower()
    assert "/" not in pattern


def test_glob_whitelist_passes_and_stale_entry_flagged(broken_folder: Path, tmp_path: Path) -> None:
    whitelist = tmp_path / "wl.json"
    whitelist.write_text(
        json.dumps(
            {
                "nicbroken-*.whl": {"nicbroken._bad": "UNDEFINED SYMBOL: nic_absent"},
                "nicgood-2.*.whl": {"nicgood._top": "this never happens"},
            }
        )
    )
    env = {"NATIVE_CHECK_WHITELIST": str(whitelist)}
    code, output, report = run_nox(tmp_path, broken_folder, "-s", "check_native", env=env)
    assert code == 0, output
    assert report is not None
    statuses = {
        w["wheel"].split("-")[0] + "-" + w["version"]: w["status"] for w in report["wheels"]
    }
    assert statuses["nicbroken-1.0"] == "whitelisted"
    assert report["unused_whitelist"] == [
        {"wheel_key": "nicgood-2.*.whl", "module": "nicgood._top", "pattern": "this never happens"}
    ]
    assert "Stale whitelist entries" in output
    strict = {**env, "NATIVE_CHECK_STRICT_WHITELIST": "1"}
    code, output, _ = run_nox(tmp_path, broken_folder, "-s", "check_native", env=strict)
    assert code == 1, output


def test_name_filter_checks_only_matching_wheels(broken_folder: Path, tmp_path: Path) -> None:
    code, output, report = run_nox(tmp_path, broken_folder, "-s", "check_native", "--", "NicGood")
    assert code == 0, output
    assert report is not None
    assert sorted(w["version"] for w in report["wheels"]) == ["1.0", "2.0"]
    code, output, report = run_nox(
        tmp_path, broken_folder, "-s", "check_native", "--", "nicgood-1.*"
    )
    assert code == 0, output
    assert report is not None
    assert [w["version"] for w in report["wheels"]] == ["1.0"]


def test_unknown_name_is_a_usage_error(clean_folder: Path, tmp_path: Path) -> None:
    code, output, _ = run_nox(tmp_path, clean_folder, "-s", "check_native", "--", "nosuchthing")
    assert code == 2, output
    assert "'nosuchthing'" in output


def test_missing_packages_folder_is_a_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    code, output, report = run_nox(tmp_path, missing, "-s", "check_native")
    assert code == 2, output
    assert str(missing) in output and "does not exist" in output
    assert "Traceback" not in output
    assert report is None


def test_malformed_whitelist_names_file_and_line(clean_folder: Path, tmp_path: Path) -> None:
    whitelist = tmp_path / "bad.json"
    whitelist.write_text('{\n  "x-*.whl": {"m": "e",}\n}\n')
    env = {"NATIVE_CHECK_WHITELIST": str(whitelist)}
    code, output, _ = run_nox(tmp_path, clean_folder, "-s", "check_native", env=env)
    assert code == 2, output
    assert f"{whitelist}:2:" in output
    assert "Traceback" not in output


def test_missing_interpreter_is_an_error_not_a_skip(clean_folder: Path, tmp_path: Path) -> None:
    missing = tmp_path / "bin" / "python9"
    code, output, _ = run_nox(tmp_path, clean_folder, "-s", "check_native", "-P", str(missing))
    assert code == 2, output
    assert str(missing) in output


def test_aggregate_refuses_to_pass_without_fresh_fragments(
    clean_folder: Path, tmp_path: Path
) -> None:
    code, output, _ = run_nox(tmp_path, clean_folder, "-s", "check_native")
    assert code == 0, output
    # Same folder, same report dir, but the probe sessions do not run this time: the
    # fragments on disk are from the earlier run and must not be taken for this one.
    code, output, report = run_nox(
        tmp_path, clean_folder, "-s", "check_native", "--no-dependencies"
    )
    assert code == 1, output
    assert report is not None
    kinds = {f["kind"] for w in report["wheels"] for f in w["findings"]}
    assert kinds == {"no-fragment"}
    assert all(w["status"] == "failed" for w in report["wheels"])


def test_other_interpreter_via_force_python(clean_folder: Path, tmp_path: Path) -> None:
    others = pythons.other_minor()
    if not others:
        pytest.skip(pythons.missing_reason())
    found = others[-1].path
    build = python_build(found)
    packages = tmp_path / "packages"
    extension_wheel(
        packages, build, "nicother", {"nicother/_x": module_source("_x")}, workdir=tmp_path / "b"
    )
    make_wheel(packages, "nicpure", "1.0", {"nicpure/__init__.py": ""})
    code, output, report = run_nox(tmp_path, packages, "-s", "check_native", "-P", str(found))
    assert code == 0, output
    assert report is not None
    version = subprocess.run(
        [str(found), "-c", "import platform; print(platform.python_version())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert report["python"] == version
    assert report["variant"] == f"python-{version}"
    assert {m["status"] for w in report["wheels"] for m in w["modules"]} == {"ok"}


def test_two_shards_plus_aggregate_equal_one_full_run(broken_folder: Path, tmp_path: Path) -> None:
    full_code, output, full = run_nox(tmp_path / "full", broken_folder, "-s", "check_native")
    assert full_code == 1 and full is not None, output
    shared = tmp_path / "sharded"  # both shards write their fragments into one report dir
    shard_wheels = []
    for index in (1, 2):
        args = ["-s", "check_native", "--", "--shard", f"{index}/2"]
        code, output, report = run_nox(shared, broken_folder, *args)
        assert report is not None, output
        assert code == (1 if report["summary"]["failed"] else 0), output
        shard_wheels.append({w["wheel"] for w in report["wheels"]})
    assert shard_wheels[0] and shard_wheels[1]
    assert not shard_wheels[0] & shard_wheels[1]
    assert shard_wheels[0] | shard_wheels[1] == {w["wheel"] for w in full["wheels"]}

    env = {"NATIVE_CHECK_AGGREGATE_ONLY": "1"}
    code, output, merged = run_nox(shared, broken_folder, "-s", "check_native", env=env)
    assert merged is not None, output
    assert code == full_code
    assert "Running session probe-" not in output

    def verdict(report: dict[str, Any]) -> list[tuple[str, str, list[tuple[str, str]]]]:
        return [
            (w["wheel"], w["status"], [(m["module"], m["status"]) for m in w["modules"]])
            for w in report["wheels"]
        ]

    assert verdict(merged) == verdict(full)
    assert merged["summary"] == full["summary"]


def test_aggregate_only_without_shard_fragments_fails(clean_folder: Path, tmp_path: Path) -> None:
    env = {"NATIVE_CHECK_AGGREGATE_ONLY": "1"}
    code, output, report = run_nox(tmp_path, clean_folder, "-s", "check_native", env=env)
    assert code == 1, output
    assert report is not None
    assert {f["kind"] for w in report["wheels"] for f in w["findings"]} == {"no-fragment"}
