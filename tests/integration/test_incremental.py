"""Incremental runs: unchanged wheels reuse their fragment, anything changed is checked anew."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from checker.probe.bytecode import mirror
from tests.support.noxrun import run_nox
from tests.support.wheelbuild import extension_wheel, make_wheel, module_source, python_build

pytestmark = pytest.mark.integration

INCREMENTAL = {"NATIVE_CHECK_FRESH": "0"}


def _build(folder: Path, work: Path, body: str = "") -> None:
    build = python_build(Path(sys.executable))
    extension_wheel(
        folder,
        build,
        "nicinc",
        {"nicinc/_ext": module_source("_ext", body)},
        workdir=work,
        pure={"nicinc/__init__.py": ""},
    )


def _reused(report_dir: Path) -> dict[str, bool]:
    fragments = (report_dir / "fragments").glob("*.whl.json")
    return {
        json.loads(p.read_text())["project"]: "reused_from" in json.loads(p.read_text())["extra"]
        for p in fragments
    }


def _statuses(report: dict[str, Any]) -> dict[str, str]:
    return {w["project"]: w["status"] for w in report["wheels"]}


def test_reuse_and_invalidation(tmp_path: Path) -> None:
    folder = tmp_path / "packages"
    _build(folder, tmp_path / "b1")
    make_wheel(folder, "nicpure", "1.0", {"nicpure/__init__.py": ""})
    report_dir = tmp_path / "report"

    code, output, first = run_nox(tmp_path, folder, "-s", "check_native", env=INCREMENTAL)
    assert code == 0 and first is not None, output
    assert _reused(report_dir) == {"nicinc": False, "nicpure": False}

    code, output, second = run_nox(tmp_path, folder, "-s", "check_native", env=INCREMENTAL)
    assert code == 0 and second is not None, output
    assert _reused(report_dir) == {"nicinc": True, "nicpure": True}

    def verdict(report: dict[str, Any]) -> list[dict[str, Any]]:
        return [{k: v for k, v in w.items() if k != "details"} for w in report["wheels"]]

    assert verdict(second) == verdict(first)
    assert second["wheels"][0]["details"]["reused_from"]

    # Same file name, other bytes (the extension now crashes): checked anew, and it fails.
    (folder / next(p.name for p in folder.glob("nicinc-*.whl"))).unlink()
    _build(folder, tmp_path / "b2", body="*(volatile int *)0 = 1;")
    code, output, third = run_nox(tmp_path, folder, "-s", "check_native", env=INCREMENTAL)
    assert code == 1 and third is not None, output
    assert _reused(report_dir)["nicinc"] is False
    assert _statuses(third)["nicinc"] == "failed"
    # The venv of the old bytes is gone, and so is its bytecode: one of each is left.
    venvs = tmp_path / "work" / "venvs" / "nicinc-1.0"
    (venv,) = venvs.iterdir()
    (bytecode,) = mirror(tmp_path / "work" / "pycache", venvs).iterdir()
    assert bytecode.name == venv.name

    # The whitelist is applied by the aggregate: editing it changes the verdict, not the check.
    whitelist = tmp_path / "wl.json"
    whitelist.write_text(json.dumps({"nicinc-*.whl": {"nicinc._ext": "SIGSEGV"}}))
    env = {**INCREMENTAL, "NATIVE_CHECK_WHITELIST": str(whitelist)}
    code, output, fourth = run_nox(tmp_path, folder, "-s", "check_native", env=env)
    assert code == 0 and fourth is not None, output
    assert _reused(report_dir) == {"nicinc": True, "nicpure": True}
    assert _statuses(fourth)["nicinc"] == "whitelisted"

    # Fresh runs never reuse.
    env = {"NATIVE_CHECK_FRESH": "1", "NATIVE_CHECK_WHITELIST": str(whitelist)}
    code, output, _ = run_nox(tmp_path, folder, "-s", "check_native", env=env)
    assert code == 0, output
    assert _reused(report_dir) == {"nicinc": False, "nicpure": False}

    # A wheel gone from the folder: its venv and its bytecode go with the next run.
    work = tmp_path / "work"
    # nicpure has nothing to import: no venv of its own (one of an earlier run stands in).
    assert not (work / "venvs" / "nicpure-1.0").exists()
    (work / "venvs" / "nicpure-1.0" / "0123456789ab").mkdir(parents=True)
    next(folder.glob("nicpure-*.whl")).unlink()
    code, output, _ = run_nox(tmp_path, folder, "-s", "check_native", env=env)
    assert code == 0, output
    assert sorted(p.name for p in (work / "venvs").iterdir()) == ["nicinc-1.0"]
    assert [p.name for p in mirror(work / "pycache", work / "venvs").iterdir()] == ["nicinc-1.0"]


def test_other_probe_settings_are_checked_anew(tmp_path: Path) -> None:
    folder = tmp_path / "packages"
    _build(folder, tmp_path / "b")
    code, output, _ = run_nox(tmp_path, folder, "-s", "check_native", env=INCREMENTAL)
    assert code == 0, output
    env = {**INCREMENTAL, "NATIVE_CHECK_IMPORT_TIMEOUT": "30"}
    code, output, _ = run_nox(tmp_path, folder, "-s", "check_native", env=env)
    assert code == 0, output
    assert _reused(tmp_path / "report") == {"nicinc": False}
