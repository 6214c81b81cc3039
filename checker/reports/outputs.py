"""Which renderings a run writes and prints: files in the report dir, CI-specific output."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

from checker.atomic import write_text_atomic
from checker.reports.github import (
    github_annotations,
    github_groups,
    run_annotations,
    run_groups,
    run_step_summary,
    step_summary,
)
from checker.reports.html import render_html
from checker.reports.html_run import render_run_html
from checker.reports.json_report import write_json_report, write_run_json
from checker.reports.junit import render_junit, render_run_junit
from checker.verdict.report import Report, RunReport

log = logging.getLogger(__name__)

JUNIT_FILE = "junit.xml"
HTML_FILE = "report.html"


def write_report_files(report: Report, folder: Path) -> list[Path]:
    """report.json, junit.xml and report.html in ``folder``."""
    return [
        write_json_report(report, folder),
        write_text_atomic(folder / JUNIT_FILE, render_junit(report)),
        write_text_atomic(folder / HTML_FILE, render_html(report)),
    ]


def write_run_files(run: RunReport, folder: Path) -> list[Path]:
    """report.json, junit.xml and report.html of a run over variants in ``folder``."""
    return [
        write_run_json(run, folder),
        write_text_atomic(folder / JUNIT_FILE, render_run_junit(run)),
        write_text_atomic(folder / HTML_FILE, render_run_html(run)),
    ]


def on_github_actions(environ: Mapping[str, str]) -> bool:
    return environ.get("GITHUB_ACTIONS") == "true"


def _append_summary(text: str, environ: Mapping[str, str]) -> None:
    summary_file = environ.get("GITHUB_STEP_SUMMARY")
    if summary_file:
        try:
            with Path(summary_file).open("a", encoding="utf-8") as handle:
                handle.write(text + "\n")
        except OSError as exc:
            log.warning("cannot append to GITHUB_STEP_SUMMARY %s: %s", summary_file, exc)


def github_output(report: Report, environ: Mapping[str, str]) -> str:
    """Log groups and annotations for the log; appends the step summary when there is one."""
    _append_summary(step_summary(report), environ)
    return "\n".join([github_groups(report), *github_annotations(report)])


def github_run_output(run: RunReport, environ: Mapping[str, str]) -> str:
    """The same for a run over variants."""
    _append_summary(run_step_summary(run), environ)
    return "\n".join([run_groups(run), *run_annotations(run)])
