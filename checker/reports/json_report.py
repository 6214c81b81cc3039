"""report.json: the versioned, schema-checked form of the report model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from checker import __version__
from checker.atomic import write_json_atomic
from checker.verdict.report import (
    SCHEMA_VERSION,
    CheckedFinding,
    CheckedModule,
    CheckedSetFinding,
    Report,
    RunReport,
    WheelVerdict,
)

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "data" / "report.schema.json"


def _entry(entry: Any) -> dict[str, str] | None:
    if entry is None:
        return None
    return {"wheel_key": entry.wheel_key, "module": entry.module, "pattern": entry.pattern}


def _module(item: CheckedModule) -> dict[str, Any]:
    r = item.result
    return {
        "module": r.module,
        "file": r.file,
        "status": item.status,
        "kind": r.kind,
        "error": r.error,
        "note": r.note,
        "duration": round(r.duration, 6),
        "whitelist": _entry(item.whitelist),
        "explanation": [f.to_json() for f in r.explanation],
    }


def _finding(item: CheckedFinding) -> dict[str, Any]:
    f = item.finding
    return {
        "stage": f.stage,
        "module": f.module,
        "kind": f.kind,
        "error": f.error,
        "file": f.file,
        "status": item.status,
        "whitelist": _entry(item.whitelist),
    }


def _wheel(verdict: WheelVerdict) -> dict[str, Any]:
    return {
        "wheel": verdict.wheel,
        "project": verdict.project,
        "version": verdict.version,
        "status": verdict.status,
        "install": verdict.install,
        "duration": round(verdict.duration, 6),
        "modules": [_module(m) for m in verdict.modules],
        "findings": [_finding(f) for f in verdict.findings],
        **({"details": dict(verdict.extra)} if verdict.extra else {}),
    }


def report_to_json(report: Report, *, variant_only: bool = False) -> dict[str, Any]:
    """The report of one variant; ``variant_only``: as an item of a run's ``variants``."""
    head = (
        {} if variant_only else {"schema_version": SCHEMA_VERSION, "checker_version": __version__}
    )
    return {
        **head,
        "platform": report.platform,
        "variant": report.variant,
        "python": report.python,
        "interpreter": report.interpreter,
        "whitelist_path": report.whitelist_path,
        "exit_code": report.exit_code,
        "summary": {**report.counts(), "total": len(report.wheels)},
        "wheels": [_wheel(w) for w in report.wheels],
        "unused_whitelist": [_entry(e) for e in report.unused_whitelist],
        "whitelist_snippet": report.snippet,
        **({} if report.set_findings is None else {"set": [_set(f) for f in report.set_findings]}),
    }


def _set(item: CheckedSetFinding) -> dict[str, Any]:
    f = item.finding
    return {
        "kind": f.kind,
        "wheels": list(f.wheels),
        "error": f.error,
        "severity": f.severity,
        "status": item.status,
        "whitelist": _entry(item.whitelist),
    }


def write_json_report(report: Report, folder: Path) -> Path:
    """Write ``report.json`` atomically into ``folder``."""
    return write_json_atomic(folder / "report.json", report_to_json(report))


def run_report_to_json(run: RunReport) -> dict[str, Any]:
    """A run over several variants: each variant's report, the whole's summary and exit code,
    and the whitelist entries stale across all of them."""
    shared = sum(1 for r in run.variants for w in r.wheels if "shared_from" in w.extra)
    return {
        "schema_version": SCHEMA_VERSION,
        "checker_version": __version__,
        "platform": run.platform,
        "exit_code": run.exit_code,
        "summary": {**run.counts(), "total": run.wheel_count, "shared": shared},
        "variants": [report_to_json(r, variant_only=True) for r in run.variants],
        "unused_whitelist": [
            {**(_entry(entry) or {}), "whitelist_path": path}
            for path, entry in run.unused_whitelist
        ],
    }


def write_run_json(run: RunReport, folder: Path) -> Path:
    """Write ``report.json`` of a run over variants atomically into ``folder``."""
    return write_json_atomic(folder / "report.json", run_report_to_json(run))
