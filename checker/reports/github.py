"""GitHub Actions output: annotations, log groups and the job's step summary (Markdown).

Workflow commands follow GitHub's escaping rules: in a command's message ``%``, ``\\r`` and
``\\n`` become ``%25``, ``%0D`` and ``%0A``; in a property value ``:`` and ``,`` also become
``%3A`` and ``%2C``. So one annotation is always one line, whatever the error holds. Lines of
the log groups start with a fixed prefix and carry errors on one line, so no text from a wheel
can start a workflow command of its own.

GitHub shows at most 10 error annotations per step (50 per job); the step summary lists all.
"""

from __future__ import annotations

import json
import re

from checker.verdict.report import Report, RunReport, WheelVerdict

_REASON_WIDTH = 300


def escape_data(text: str) -> str:
    """A workflow command's message: ``%``, CR and LF percent-encoded."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property value: as ``escape_data`` plus ``:`` and ``,``."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _command(name: str, message: str, **properties: str) -> str:
    props = ",".join(f"{key}={escape_property(value)}" for key, value in properties.items())
    return f"::{name}{' ' + props if props else ''}::{escape_data(message)}"


def _one_line(text: str, width: int = _REASON_WIDTH) -> str:
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 1] + "…"


def _stale_text(report: Report) -> list[str]:
    where = report.whitelist_path or "the whitelist"
    return [
        f"{entry.wheel_key} / {entry.module}: {entry.pattern!r} matched no failure ({where})"
        for entry in report.unused_whitelist
    ]


def _failed(verdict: WheelVerdict) -> list[tuple[str, str, str]]:
    """(where, kind, error) of the wheel's failures that are not whitelisted.

    ``where`` is the module, the pseudo-module, or ``static:<module>`` for the static audit.
    """
    items = [
        (f"static:{f.module}" if f.stage == "static" else f.module, f.kind, f.error)
        for f in (found.finding for found in verdict.findings if found.status == "failed")
    ]
    items += [
        (item.result.module, item.result.kind or "failed", item.result.explained)
        for item in verdict.modules
        if item.status == "failed"
    ]
    return items


def _first_line(text: str) -> str:
    return next((line for line in text.splitlines() if line.strip()), "")


def github_annotations(report: Report) -> list[str]:
    """``::error`` per failure that is not whitelisted, ``::warning`` per stale entry."""
    lines = [
        _command("error", error or kind, title=f"{verdict.wheel} {where}: {kind}")
        for verdict in report.wheels
        for where, kind, error in _failed(verdict)
    ]
    for item in report.set_findings or ():
        if item.status in ("failed", "warning"):
            level = "error" if item.status == "failed" else "warning"
            title = f"set: {item.finding.kind}"
            lines.append(_command(level, item.finding.error, title=title))
    strict = " (strict whitelist: fails the run)" if report.strict_whitelist else ""
    lines += [
        _command("warning", text, title=f"Stale whitelist entry{strict}")
        for text in _stale_text(report)
    ]
    return lines


def _group_lines(verdict: WheelVerdict) -> list[str]:
    lines = [f"  install: {verdict.install}"]
    for item in verdict.modules:
        result = item.result
        detail = result.explained or result.note or ""
        if item.status == "whitelisted" and item.whitelist:
            detail = f"whitelisted by {item.whitelist.pattern!r}: {detail}"
        kind = f" [{result.kind}]" if result.kind else ""
        text = f"  module {result.module}: {item.status}{kind}"
        lines.append(f"{text} {_one_line(detail)}" if detail else text)
    for finding in verdict.findings:
        f = finding.finding
        lines.append(f"  {f.stage} {f.module}: {finding.status} [{f.kind}] {_one_line(f.error)}")
    if not verdict.modules:
        lines.append("  (no extension modules)")
    return lines


def github_groups(report: Report) -> str:
    """One collapsible log group per wheel listing its modules and findings with status."""
    lines = []
    for verdict in report.wheels:
        lines.append(f"::group::{escape_data(f'{verdict.wheel}: {verdict.status}')}")
        lines += _group_lines(verdict)
        lines.append("::endgroup::")
    return "\n".join(lines) + "\n" if lines else ""


def _code(text: str) -> str:
    """A Markdown code span for a table cell: any text, pipes escaped, one line."""
    line = " ".join(text.split())
    if not line:
        return ""
    longest = max((len(run) for run in re.findall(r"`+", line)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if line.startswith("`") or line.endswith("`") or longest else ""
    return f"{fence}{pad}{line}{pad}{fence}".replace("|", "\\|")


def _fenced(text: str, info: str) -> list[str]:
    longest = max((len(run) for run in re.findall(r"`{3,}", text)), default=2)
    fence = "`" * (longest + 1)
    return [f"{fence}{info}", text, fence]


def step_summary(report: Report) -> str:
    """Markdown for ``$GITHUB_STEP_SUMMARY``: result, counts, failures, stale entries, snippet."""
    counts = report.counts()
    verdict = "FAILED" if report.exit_code else "OK"
    lines = [
        f"## native-import-checker: {verdict}",
        "",
        f"{_code(report.platform)}, {_code(report.variant)}, Python {_code(report.python)} "
        f"({_code(report.interpreter)})",
        "",
        "| wheels | passed | whitelisted | failed |",
        "| ---: | ---: | ---: | ---: |",
        f"| {len(report.wheels)} | {counts['passed']} | {counts['whitelisted']} "
        f"| {counts['failed']} |",
    ]
    failures = [(v.wheel, *item) for v in report.wheels for item in _failed(v)]
    if failures:
        lines += ["", "### Failures", "", "| wheel | module | kind | reason |"]
        lines.append("| --- | --- | --- | --- |")
        lines += [
            f"| {_code(wheel)} | {_code(where)} | {_code(kind)} "
            f"| {_code(_one_line(_first_line(error)))} |"
            for wheel, where, kind, error in failures
        ]
    if report.set_findings:
        lines += ["", "### The folder as one environment", "", "| kind | status | reason |"]
        lines.append("| --- | --- | --- |")
        lines += [
            f"| {_code(i.finding.kind)} | {i.status} | {_code(_one_line(i.finding.error))} |"
            for i in report.set_findings
        ]
    if report.unused_whitelist:
        strict = " (strict whitelist: they fail the run)" if report.strict_whitelist else ""
        lines += ["", f"### Stale whitelist entries{strict}", ""]
        lines += [f"- {_code(text)}" for text in _stale_text(report)]
    if report.snippet:
        lines += ["", "### Whitelist snippet", "", "To accept these failures as known, add:", ""]
        lines += _fenced(json.dumps(report.snippet, indent=2), "json")
    return "\n".join(lines) + "\n"


def run_step_summary(run: RunReport) -> str:
    """Markdown for ``$GITHUB_STEP_SUMMARY`` of a run over variants: the whole, then each."""
    counts = run.counts()
    verdict = "FAILED" if run.exit_code else "OK"
    lines = [
        f"## native-import-checker: {verdict} ({len(run.variants)} variants)",
        "",
        "| variant | wheels | passed | whitelisted | failed | result |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for report in run.variants:
        c = report.counts()
        state = "FAILED" if report.exit_code else "OK"
        lines.append(
            f"| {_code(report.variant)} | {len(report.wheels)} | {c['passed']} "
            f"| {c['whitelisted']} | {c['failed']} | {state} |"
        )
    lines.append(
        f"| **all** | {run.wheel_count} | {counts['passed']} | {counts['whitelisted']} "
        f"| {counts['failed']} | {verdict} |"
    )
    body = [
        step_summary(r).replace("## native-import-checker:", f"### {r.variant}:", 1)
        for r in run.variants
    ]
    return "\n".join(lines) + "\n\n" + "\n".join(body)


def run_annotations(run: RunReport) -> list[str]:
    """Annotations of every variant, titled with the variant."""
    lines = []
    for report in run.variants:
        for line in github_annotations(report):
            lines.append(
                line.replace("title=", f"title={escape_property(report.variant + ': ')}", 1)
            )
    return lines


def run_groups(run: RunReport) -> str:
    """The log groups of every variant, each group named with its variant."""
    return "".join(
        github_groups(r).replace("::group::", f"::group::{escape_data(r.variant)}: ")
        for r in run.variants
    )
