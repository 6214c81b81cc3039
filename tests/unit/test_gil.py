"""Free-threaded targets: the real probe script sees a module turn the GIL back on, through the
warning text and the flag exactly as CPython 3.13t+ gives them (faked here: no free-threaded
CPython on this machine), and the verdict makes it a warning, a failure in strict mode."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from checker.config.interpreter import InterpreterInfo
from checker.config.platforms import supported_tags
from checker.errors import EXIT_FINDINGS, EXIT_OK
from checker.findings import KINDS, WARNING_KINDS
from checker.probe import _probe
from checker.probe.gil import gil_findings, named_module
from checker.reports.console import render_console
from checker.reports.json_report import SCHEMA_PATH, report_to_json
from checker.reports.junit import render_junit
from tests.unit.test_verdict import fragment, ok, report

# CPython's text (Python/import.c, _PyImport_CheckGILForModule), for module 'nicgil._ext'.
WARNING = (
    "The global interpreter lock (GIL) has been enabled to load module 'nicgil._ext', which "
    "has not declared that it can run safely without the GIL. To override this behavior and "
    "keep the GIL disabled (at your own risk), run with PYTHON_GIL=0 or -Xgil=0."
)
PACKAGE = {
    # The interpreter starts free-threaded: the GIL is off.
    "nicgil/__init__.py": "import sys\nsys._is_gil_enabled = lambda: False\n",
    "nicgil/_quiet.py": "import warnings\nwarnings.warn('unrelated', RuntimeWarning)\n",
    # Turns the GIL on without a warning (as under -W ignore): seen through the flag.
    "nicgil/_flag.py": "import sys\nsys._is_gil_enabled = lambda: True\n",
    # The GIL is on already: seen through CPython's warning only.
    "nicgil/_ext.py": f"import warnings\nwarnings.warn({WARNING!r}, RuntimeWarning)\n",
}


def _run_probe(tmp_path: Path, modules: list[str]) -> tuple[list[dict[str, Any]], str]:
    for name, text in PACKAGE.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    job = tmp_path / "job.json"
    job.write_text(json.dumps({"modules": modules}))
    done = subprocess.run(
        [sys.executable, _probe.__file__, "run", str(job)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
        check=True,
    )
    events = [json.loads(line) for line in done.stdout.splitlines()]
    return [e for e in events if e["event"] == "result"], done.stderr


def test_the_probe_reports_the_module_that_turns_the_gil_on(tmp_path: Path) -> None:
    modules = ["nicgil", "nicgil._quiet", "nicgil._flag", "nicgil._ext"]
    raws, stderr = _run_probe(tmp_path, modules)
    assert [r["ok"] for r in raws] == [True] * 4
    gil = {r["module"]: r.get("gil") for r in raws}
    assert gil["nicgil"] is None and gil["nicgil._quiet"] is None
    assert gil["nicgil._flag"] == "the GIL was enabled while importing nicgil._flag"
    assert gil["nicgil._ext"] == WARNING
    assert "RuntimeWarning: unrelated" in stderr  # other warnings still reach stderr
    assert WARNING not in stderr
    files = {"nicgil._ext": "nicgil/_ext.so"}
    found = {f.module: f for f in gil_findings(raws, files)}
    assert sorted(found) == ["nicgil._ext", "nicgil._flag"]
    ext = found["nicgil._ext"]
    assert (ext.kind, ext.stage, ext.file) == ("gil-enabled", "import", "nicgil/_ext.so")
    assert ext.error.startswith("nicgil._ext turns the GIL back on in the free-threaded")
    assert "PYTHON_GIL=0" in ext.error


def test_the_module_named_by_the_warning_is_the_one_reported() -> None:
    assert named_module(WARNING) == "nicgil._ext"
    assert named_module("something else") is None
    raws = [{"module": "pkg._a", "ok": True, "gil": WARNING}]
    (finding,) = gil_findings(raws, {})
    assert finding.module == "pkg._a"
    assert finding.error.startswith("nicgil._ext turns the GIL back on")
    assert "(while importing pkg._a)" in finding.error


def test_gil_enabled_is_a_warning_and_a_failure_in_strict_mode() -> None:
    assert "gil-enabled" in KINDS and "gil-enabled" in WARNING_KINDS
    (finding,) = gil_findings([{"module": "alpha._ext", "ok": True, "gil": WARNING}], {})
    wheel = fragment("alpha-1.0-cp313-cp313t-linux_x86_64.whl", [ok("alpha._ext")], [finding])
    relaxed = report([wheel])
    assert relaxed.exit_code == EXIT_OK
    assert relaxed.wheels[0].status == "passed"
    assert [f.status for f in relaxed.wheels[0].findings] == ["warning"]
    assert relaxed.snippet == {}
    strict = report([wheel], strict=True)
    assert strict.exit_code == EXIT_FINDINGS
    assert strict.wheels[0].status == "failed"


def test_a_gil_warning_in_the_reports() -> None:
    (finding,) = gil_findings([{"module": "alpha._ext", "ok": True, "gil": WARNING}], {})
    wheel = fragment("alpha-1.0-cp313-cp313t-linux_x86_64.whl", [ok("alpha._ext")], [finding])
    relaxed = report([wheel])
    console = render_console(relaxed)
    assert "Warnings (fail only in strict mode):" in console
    assert "alpha._ext: [gil-enabled] nicgil._ext turns the GIL back on" in console
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(report_to_json(relaxed))
    junit = render_junit(relaxed)
    assert "warning: [gil-enabled]" in junit and "<failure" not in junit


def _info(version: tuple[int, int, int], abiflags: str, gil_disabled: bool) -> InterpreterInfo:
    major, minor, micro = version
    return InterpreterInfo(
        executable="/opt/python/bin/python3", base_executable="/opt/python/bin/python3",
        version=f"{major}.{minor}.{micro}", version_info=version, implementation="cpython",
        abiflags=abiflags, soabi=None, ext_suffixes=(".so",),
        sysconfig_platform="linux-x86_64", sys_platform="linux", machine="x86_64",
        pointer_bits=64, libc=("glibc", "2.36"), mac_ver="", py_gil_disabled=gil_disabled,
        markers={},
    )  # fmt: skip


@pytest.mark.parametrize("abiflags", ["t", ""])  # "": no sys.abiflags (Windows)
def test_a_free_threaded_target_takes_no_abi3_wheels(abiflags: str) -> None:
    free = {t.abi for t in supported_tags(_info((3, 15, 2), abiflags, True))}
    assert "abi3" not in free
    assert {"cp315t", "abi3t"} <= free
    regular = {t.abi for t in supported_tags(_info((3, 15, 2), "", False))}
    assert "abi3" in regular and "cp315t" not in regular
