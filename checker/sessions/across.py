"""Session body of ``nox -s across -- PATH...``: the same set on every platform."""

from __future__ import annotations

import os
from pathlib import Path

import nox

from checker.config.declared import declared_platform_specific
from checker.config.plan import Plan, quiet_library_logs
from checker.config.settings import load_settings
from checker.errors import UsageError
from checker.reports.across import render_across, write_across
from checker.sessions.common import guard
from checker.verdict.across import AcrossReport, compare_sets, read_sets

USAGE = "usage: nox -s across -- PATH... (report.json files, or folders of reports or fragments)"


def across_report(plan: Plan, posargs: list[str]) -> tuple[AcrossReport, Path]:
    """The comparison of the reports named by ``posargs`` and where it was written."""
    quiet_library_logs(os.environ)
    if not posargs or any(arg.startswith("-") for arg in posargs):
        raise UsageError(f"{USAGE} (got {posargs!r})")
    settings = load_settings(plan.project_dir, os.environ)
    common, declared = declared_platform_specific(plan.project_dir, os.environ)
    paths = [(Path.cwd() / Path(arg).expanduser()).absolute() for arg in posargs]
    report = compare_sets(read_sets(paths), declared, common, strict=settings.strict_whitelist)
    return report, write_across(report, settings.report_dir)


def across(session: nox.Session, plan: Plan) -> None:
    """Compare several platforms' sets per variant; exit 1 on an undeclared platform-gap."""
    report, written = guard(session, lambda: across_report(plan, list(session.posargs)))
    print(render_across(report), flush=True)
    session.log(f"report: {written}")
    if report.exit_code:
        session.error("the platforms' sets differ (see above)")
