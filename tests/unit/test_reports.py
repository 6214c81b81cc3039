"""Tests for checker.reports: report.json against its schema, atomic write, console text."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from checker.findings import ACROSS_KINDS, KINDS, SKIP_KINDS, Finding, ModuleResult
from checker.reports.console import render_console
from checker.reports.json_report import SCHEMA_PATH, report_to_json, write_json_report
from checker.verdict.report import Report, missing_fragment
from checker.verdict.whitelist import parse_whitelist
from tests.support.reports import fragment as _fragment
from tests.support.reports import report_of

IMPORT_KINDS = [
    "missing-library",
    "undefined-symbol",
    "symbol-version",
    "missing-python-module",
    "init-mismatch",
    "crash",
    "timeout",
    "circular-import",
    "exception",
    "interpreter",
]
INSTALL_KINDS = ("missing-dependency", "incompatible-wheel", "install-error")
# Every other finding kind but no-fragment (which only missing_fragment makes): stage, module.
FINDING_KINDS = {
    kind: ("install", "install")
    if kind in INSTALL_KINDS
    else ("integrity", "lock" if kind.startswith("lock-") else "integrity")
    for kind in KINDS
    if kind not in IMPORT_KINDS and kind != "no-fragment" and kind not in ACROSS_KINDS
}


def full_report(*, strict: bool = False) -> Report:
    """Every wheel status, module status, import/skip kind, finding stage and kind."""
    failed_modules = tuple(
        ModuleResult(f"bad.m{i}", f"bad/m{i}.so", "failed", kind, f"{kind}: error {i}")
        for i, kind in enumerate(IMPORT_KINDS)
    )
    skipped = tuple(
        ModuleResult(f"bad.s{i}", None, "skipped", kind, None, f"note {i}")
        for i, kind in enumerate(SKIP_KINDS)
    )
    findings = tuple(
        Finding(
            stage, module, kind, f"{kind} happened", "bad/x.py" if module != "install" else None
        )
        for kind, (stage, module) in FINDING_KINDS.items()
    )
    static = Finding("static", "bad.m0", "missing-library", "needs libfoo.so.1")
    wl = parse_whitelist(
        json.dumps(
            {
                "known-*.whl": {"known._k": "crash", "install": "missing-dependency"},
                "good-*.whl": {"good._g": "stale entry"},
            }
        ),
        Path("whitelists/python-3.11.7/linux-x64.json"),
    )
    fragments = [
        _fragment(
            "bad-1.0-cp311-cp311-linux_x86_64.whl",
            (*failed_modules, *skipped),
            (*findings, static),
            extra={"static": {"needed": ["libc.so.6"]}},
        ),
        _fragment(
            "known-2.0-cp311-cp311-linux_x86_64.whl",
            (ModuleResult("known._k", "known/_k.so", "failed", "crash", "crash: SIGSEGV"),),
            (Finding("install", "install", "missing-dependency", "missing-dependency: x"),),
        ),
        _fragment("good-3.0-py3-none-any.whl", (ModuleResult("good._g", "good/_g.so", "ok"),)),
        missing_fragment("lost-4.0-py3-none-any.whl", "probe session left no fresh result"),
    ]
    return report_of(fragments, wl, strict=strict)


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _errors(validator: jsonschema.Draft202012Validator, data: object) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(data)]


@pytest.mark.parametrize("strict", [False, True])
def test_report_json_validates(validator: jsonschema.Draft202012Validator, strict: bool) -> None:
    report = full_report(strict=strict)
    data = json.loads(json.dumps(report_to_json(report)))
    assert _errors(validator, data) == []
    statuses = {w["wheel"].split("-")[0]: w["status"] for w in data["wheels"]}
    assert statuses == {"bad": "failed", "known": "whitelisted", "good": "passed", "lost": "failed"}
    kinds = {m["kind"] for w in data["wheels"] for m in w["modules"]}
    kinds |= {f["kind"] for w in data["wheels"] for f in w["findings"]}
    assert kinds >= (set(KINDS) - ACROSS_KINDS) | set(SKIP_KINDS)
    assert data["summary"] == {"passed": 1, "failed": 2, "whitelisted": 1, "total": 4}
    assert data["exit_code"] == 1
    assert data["unused_whitelist"] == [
        {"wheel_key": "good-*.whl", "module": "good._g", "pattern": "stale entry"}
    ]
    assert data["whitelist_snippet"] == report.snippet
    known = next(w for w in data["wheels"] if w["wheel"].startswith("known"))
    assert known["modules"][0]["whitelist"]["wheel_key"] == "known-*.whl"
    bad = next(w for w in data["wheels"] if w["wheel"].startswith("bad"))
    assert bad["details"] == {"static": {"needed": ["libc.so.6"]}}


def test_passing_report_validates(validator: jsonschema.Draft202012Validator) -> None:
    report = report_of(
        [_fragment("good-3.0-py3-none-any.whl", (ModuleResult("good._g", "good/_g.so", "ok"),))]
    )
    data = report_to_json(report)
    assert _errors(validator, data) == []
    assert data["exit_code"] == 0
    assert data["whitelist_path"] is None
    assert "details" not in data["wheels"][0]


def test_schema_rejects_what_it_should(validator: jsonschema.Draft202012Validator) -> None:
    data = report_to_json(full_report())
    mutations: list[Callable[[dict[str, Any]], object]] = [
        lambda d: d["wheels"][0]["modules"][0].update(kind="no-such-kind"),
        lambda d: d["wheels"][0].update(status="maybe"),
        lambda d: d.update(exit_code=2),
        lambda d: d["summary"].pop("total"),
        lambda d: d.update(unexpected=True),
    ]
    for mutate in mutations:
        copy = json.loads(json.dumps(data))
        mutate(copy)
        assert _errors(validator, copy) != []


def test_schema_kinds_match_the_vocabulary() -> None:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    enum = set(schema["$defs"]["kind"]["enum"])
    assert enum == {None, *(set(KINDS) - ACROSS_KINDS), *SKIP_KINDS}  # across.json has those


def test_write_json_report_is_atomic(tmp_path: Path) -> None:
    folder = tmp_path / "out" / "native-check"
    report = full_report()
    path = write_json_report(report, folder)
    assert path == folder / "report.json"
    assert json.loads(path.read_text(encoding="utf-8")) == json.loads(
        json.dumps(report_to_json(report))
    )
    # Overwrite leaves only the report behind.
    write_json_report(full_report(strict=True), folder)
    assert [p.name for p in folder.iterdir()] == ["report.json"]
    assert json.loads(path.read_text(encoding="utf-8"))["exit_code"] == 1


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_written_report_has_ordinary_file_mode(tmp_path: Path) -> None:
    # Atomic writes go through a private temporary file; the result must not stay 0600.
    mask = os.umask(0o022)
    try:
        path = write_json_report(full_report(), tmp_path)
    finally:
        os.umask(mask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_render_console() -> None:
    report = full_report()
    text = render_console(report)
    counts = report.counts()
    assert f"passed {counts['passed']}, whitelisted {counts['whitelisted']}" in text
    assert f"failed {counts['failed']}" in text
    for wheel in report.wheels:
        for module, kind, error, status in wheel.failures():
            if status != "failed":
                continue
            assert f"    {module}: [{kind}] {error}" in text.splitlines(), (module, kind)
    assert "lost-4.0-py3-none-any.whl" in text
    # Whitelisted wheel listed with its module; stale entry named with its pattern.
    assert "known-2.0-cp311-cp311-linux_x86_64.whl: install, known._k" in text
    assert "good._g" in text
    assert "'stale entry'" in text
    assert text.rstrip().endswith("Result: FAILED")


def _snippet_from_console(text: str) -> object:
    lines = text.splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.startswith("To accept these failures"))
    block = []
    for line in lines[start + 1 :]:
        if not line.strip():
            break
        assert line.startswith("  ")
        block.append(line[2:])
    return json.loads("\n".join(block))


def test_console_snippet_parses_back() -> None:
    report = full_report()
    assert report.snippet
    assert _snippet_from_console(render_console(report)) == report.snippet


def test_console_long_error_is_clipped_to_one_line() -> None:
    error = "first line\n" + "x" * 500
    report = report_of(
        [
            _fragment(
                "bad-1.0-py3-none-any.whl",
                (ModuleResult("bad._m", "bad/_m.so", "failed", "exception", error),),
            )
        ]
    )
    text = render_console(report)
    line = next(ln for ln in text.splitlines() if "bad._m: [exception]" in ln)
    assert "first line" in line
    assert len(line) < 220
    assert "x" * 500 not in text.replace("\n", "")


def test_console_ok_report() -> None:
    report = report_of(
        [_fragment("good-3.0-py3-none-any.whl", (ModuleResult("good._g", "good/_g.so", "ok"),))]
    )
    text = render_console(report)
    assert "passed 1, whitelisted 0, failed 0" in text
    assert "Failures" not in text
    assert "To accept" not in text
    assert text.rstrip().endswith("Result: OK")


def test_console_strict_stale_fails() -> None:
    report = full_report(strict=True)
    text = render_console(report)
    assert "strict" in text
    assert "whitelists/python-3.11.7/linux-x64.json" in text
