"""The summary a person reads at a glance: counts, then each failure with its reason."""

from __future__ import annotations

import json

from checker.reports.progress import colorize
from checker.verdict.report import Report, RunReport

_WIDTH = 180


def _clip(text: str, width: int = _WIDTH) -> str:
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 1] + "…"


def _set_lines(report: Report) -> list[str]:
    """The set check's findings: the folder as one environment."""
    if not report.set_findings:
        return []
    lines = ["", "The folder as one environment (set check):"]
    for item in report.set_findings:
        f = item.finding
        mark = "" if item.status == "failed" else f" ({item.status})"
        lines.append(f"  [{f.kind}]{mark} {_clip(f.error)}")
    return lines


def _warning_lines(report: Report) -> list[str]:
    """Wheel findings that are warnings (fail the run only in strict mode)."""
    found = [(w.wheel, f.finding) for w in report.wheels for f in w.warnings()]
    if not found:
        return []
    when = "fail the run: strict mode" if report.strict_whitelist else "fail only in strict mode"
    lines = ["", f"Warnings ({when}):"]
    for wheel, f in found:
        lines.append(f"  {wheel}: {f.module}: [{f.kind}] {_clip(f.error)}")
    return lines


def _driver_lines(report: Report) -> list[str]:
    """The libraries the static audit left to the target machine: drivers, accepted ones."""
    found: dict[tuple[str, str], set[str]] = {}
    for wheel in report.wheels:
        for binary in wheel.extra.get("audit", {}).get("binaries", []):
            for link in binary.get("links", []):
                if link.get("how") in ("driver", "accepted"):
                    found.setdefault((link["how"], link["name"]), set()).add(wheel.project or "?")
    if not found:
        return []
    lines = ["", "Left to the target machine (no wheel ships these):"]
    for (how, name), projects in sorted(found.items()):
        label = "driver or machine library" if how == "driver" else "accepted (system-libraries)"
        lines.append(f"  {name}: {label}, needed by {', '.join(sorted(projects))}")
    return lines


def render_console(report: Report, *, color: bool = False) -> str:
    counts = report.counts()
    lines = [
        f"native-import-checker: {len(report.wheels)} wheel(s) on {report.platform}, "
        f"{report.variant} ({report.interpreter})",
        f"  passed {counts['passed']}, whitelisted {counts['whitelisted']}, "
        f"failed {counts['failed']}",
    ]
    failed = [w for w in report.wheels if w.status == "failed"]
    if failed:
        lines += ["", "Failures:"]
        for wheel in failed:
            lines.append("  " + colorize(wheel.wheel, "failed", color))
            for module, kind, error, status in wheel.failures():
                if status == "failed":
                    lines.append(f"    {module}: [{kind}] {_clip(error)}")
    lines += _warning_lines(report)
    lines += _set_lines(report)
    lines += _driver_lines(report)
    whitelisted = [w for w in report.wheels if w.status == "whitelisted"]
    if whitelisted:
        lines += ["", "Whitelisted (known errors):"]
        for wheel in whitelisted:
            names = sorted({m for m, _k, _e, s in wheel.failures() if s == "whitelisted"})
            lines.append(f"  {wheel.wheel}: {', '.join(names)}")
    if report.unused_whitelist:
        where = report.whitelist_path or "the whitelist"
        strict = " (fails the run: strict whitelist)" if report.strict_whitelist else ""
        lines += ["", f"Stale whitelist entries in {where}{strict}:"]
        for entry in report.unused_whitelist:
            lines.append(f"  {entry.wheel_key} / {entry.module}: {entry.pattern!r} matched nothing")
    if report.snippet:
        lines += ["", "To accept these failures as known, add to the whitelist:"]
        lines += ["  " + line for line in json.dumps(report.snippet, indent=2).splitlines()]
    verdict = "FAILED" if report.exit_code else "OK"
    lines += ["", f"Result: {colorize(verdict, 'failed' if report.exit_code else 'passed', color)}"]
    return "\n".join(lines)


def render_run_console(run: RunReport, *, color: bool = False) -> str:
    """A run over variants: each variant's summary as in a single run, then the whole."""
    lines: list[str] = []
    for report in run.variants:
        section = render_console(report, color=color).splitlines()
        lines += [f"=== variant {report.variant} ===", *section[:-1]]  # its Result comes last
    counts = run.counts()
    shared = sum(1 for r in run.variants for w in r.wheels if "shared_from" in w.extra)
    lines += [
        f"=== {len(run.variants)} variant(s) on {run.platform}: {run.wheel_count} wheel "
        f"check(s), {shared} shared with another variant ===",
        f"  passed {counts['passed']}, whitelisted {counts['whitelisted']}, "
        f"failed {counts['failed']}",
    ]
    for report in run.variants:
        state = "FAILED" if report.exit_code else "OK"
        status = "failed" if report.exit_code else "passed"
        lines.append(f"  {report.variant}: {colorize(state, status, color)}")
    verdict = "FAILED" if run.exit_code else "OK"
    lines += ["", f"Result: {colorize(verdict, 'failed' if run.exit_code else 'passed', color)}"]
    return "\n".join(lines)
