"""Which renderings a run writes and prints: files in the report dir, CI-specific output."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

from checker.atomic import write_text_atomic
from checker.reports.github import github_annotations, github_groups, step_summary
from checker.reports.html import render_html
from checker.reports.json_report import write_json_report
from checker.reports.junit import render_junit
from checker.verdict import Report

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


def on_github_actions(environ: Mapping[str, str]) -> bool:
    return environ.get("GITHUB_ACTIONS") == "true"


def github_output(report: Report, environ: Mapping[str, str]) -> str:
    """Log groups and annotations for the log; appends the step summary when there is one."""
    summary_file = environ.get("GITHUB_STEP_SUMMARY")
    if summary_file:
        try:
            with Path(summary_file).open("a", encoding="utf-8") as handle:
                handle.write(step_summary(report) + "\n")
        except OSError as exc:
            log.warning("cannot append to GITHUB_STEP_SUMMARY %s: %s", summary_file, exc)
    return "\n".join([github_groups(report), *github_annotations(report)])
