"""The report of ``nox -s across``: console text and ``across.json``, from the across model."""

from __future__ import annotations

from pathlib import Path

from checker.atomic import write_json_atomic
from checker.verdict.across import AcrossReport

ACROSS_JSON = "across.json"


def render_across(report: AcrossReport) -> str:
    """One block per variant: the platforms compared, then each finding."""
    lines = []
    for variant in report.variants:
        head = f"=== variant {variant.variant}: {variant.projects} project(s) on "
        lines.append(head + f"{', '.join(variant.platforms)} ===")
        if len(variant.platforms) < 2:
            lines.append("  one platform only: nothing to compare")
        for finding in variant.findings:
            mark = " (warning)" if finding.severity == "warning" and not report.strict else ""
            lines.append(f"  [{finding.kind}]{mark} {finding.error}")
        if variant.declared:
            lines.append(f"  platform-specific as declared: {', '.join(variant.declared)}")
        if not variant.findings and len(variant.platforms) > 1:
            lines.append("  the same set on every platform")
    gaps = sum(f.kind == "platform-gap" for f in report.findings)
    skews = sum(f.kind == "version-skew" for f in report.findings)
    lines.append(
        f"across {len(report.sources)} source(s): {gaps} platform-gap, {skews} version-skew "
        f"-> exit {report.exit_code}"
    )
    return "\n".join(lines)


def write_across(report: AcrossReport, report_dir: Path) -> Path:
    return write_json_atomic(report_dir / ACROSS_JSON, report.to_json())
