"""The single run's sessions: probe-<wheel>, check_native (also for variants), audit."""

from __future__ import annotations

import logging
import os
import sys

import nox

from checker.config.context import RunContext
from checker.config.plan import (
    Plan,
    probe_session_name,
)
from checker.config.selection import parse_posargs, selected_wheels
from checker.config.settings import Settings, load_settings
from checker.errors import EXIT_OK
from checker.probe.job import run_probe_session
from checker.probe.pipeline import Pipeline
from checker.probe.venvs import prune_venvs
from checker.reports.console import render_console
from checker.reports.outputs import (
    github_output,
    on_github_actions,
)
from checker.reports.progress import Progress, color_enabled
from checker.runs.aggregate import aggregate, set_expected
from checker.runs.audit import run_audit
from checker.sessions.common import (
    context,
    guard,
    queued_sessions,
    run_or_skip,
    set_line_of,
    wheel_cost,
)
from checker.sessions.variants import audit_variants, check_variants
from checker.setcheck.job import SetResult, run_set_session
from checker.textio import console_safe
from checker.verdict.report import Report, judge_wheel
from checker.verdict.whitelist import load_whitelist
from checker.wheel.discover import WheelRef
from checker.wheel.fragment import Fragment

log = logging.getLogger(__name__)


# The pipeline of this nox process (``--jobs N``), made by the first session that needs one;
# a different context (another run id or interpreter) gets its own. Its keys are the wheels
# and None, the set check (which runs beside the probes, not after them).
_PIPELINES: dict[RunContext, Pipeline[WheelRef | None, Fragment | SetResult]] = {}


def _upcoming_probes(session: nox.Session, plan: Plan) -> list[WheelRef]:
    """The probe sessions nox will run after this one, in order (see queued_sessions)."""
    by_name = {probe_session_name(ref): ref for ref in plan.wheels}
    return [by_name[name] for name in queued_sessions(session) if name in by_name]


def _check(
    session: nox.Session,
    plan: Plan,
    ctx: RunContext,
    key: WheelRef | None,
    *,
    selected: list[WheelRef],
    jobs: int,
    set_runs: bool,
) -> Fragment | SetResult:
    """This session's wheel (None: the set check) checked now, or by the pipeline that runs
    the checks of the sessions to come ahead. ``set_runs``: this run has a set check."""

    def work(item: WheelRef | None) -> Fragment | SetResult:
        if item is None:
            return run_set_session(ctx, plan.wheels)
        return run_probe_session(ctx, item, plan.wheels, set_check=set_runs)

    pipeline = _PIPELINES.get(ctx)
    chosen = set(selected)
    upcoming = [r for r in _upcoming_probes(session, plan) if r in chosen] if jobs > 1 else []
    if pipeline is None and upcoming:
        pipeline = _PIPELINES[ctx] = Pipeline(work, jobs, cost=wheel_cost)
    if pipeline is None:
        return work(key)
    return pipeline.result(key, list(upcoming))


def set_check(session: nox.Session, plan: Plan) -> None:
    """Session body of set-check: the folder as one environment, beside the probes."""

    def body() -> str | None:
        settings, ctx = context(session, plan)
        selection = parse_posargs(session.posargs, settings.shard)
        if settings.aggregate_only or not set_expected(ctx, selection):
            return "the set check runs for the whole folder only (no wheel names, shard 1)"
        selected = selected_wheels(plan.wheels, selection)
        jobs = selection.jobs or settings.jobs
        result = _check(session, plan, ctx, None, selected=selected, jobs=jobs, set_runs=True)
        assert isinstance(result, SetResult)
        print(set_line_of(str(ctx.packages), result), flush=True)
        return None

    run_or_skip(session, body)


def probe(session: nox.Session, plan: Plan, ref: WheelRef) -> None:
    """Session body of probe-<wheel>: skip unless selected, else check and write a fragment."""

    def body() -> str | None:
        settings = load_settings(plan.project_dir, os.environ)
        selection = parse_posargs(session.posargs, settings.shard)
        selected = selected_wheels(plan.wheels, selection)
        if ref not in selected:  # decided before anything slower: most sessions may skip
            return "not selected" + (" (another shard)" if selection.shard else "")
        settings, ctx = context(session, plan)
        progress = Progress(sys.stdout)
        index, total = selected.index(ref) + 1, len(selected)
        if index == 1:
            progress.start(total)
        jobs = selection.jobs or settings.jobs
        set_runs = set_expected(ctx, selection)
        fragment = _check(session, plan, ctx, ref, selected=selected, jobs=jobs, set_runs=set_runs)
        assert isinstance(fragment, Fragment)
        # The same status the aggregate will give it (whitelist included), as a live line.
        whitelist = load_whitelist(ctx.whitelist_path, required=settings.whitelist is not None)
        status = judge_wheel(fragment, whitelist).status
        reused = "reused_from" in fragment.extra
        name = ref.filename + ("  (unchanged: earlier result)" if reused else "")
        progress.wheel_done(index, total, name, status, 0.0 if reused else fragment.duration)
        return None

    run_or_skip(session, body)


def check_native(session: nox.Session, plan: Plan) -> None:
    """Session body of check_native: aggregate the fragments, report, set the exit code."""

    if plan.variants:
        if guard(session, lambda: check_variants(session, plan)) != EXIT_OK:
            session.error("some wheels failed (see the summary above)")
        return

    def body() -> int:
        settings, ctx = context(session, plan)
        selection = parse_posargs(session.posargs, settings.shard)
        report = aggregate(ctx, selected_wheels(plan.wheels, selection), selection)
        prune_venvs(ctx, [ref.session_id for ref in plan.wheels])  # of wheels gone
        return _show(session, report, settings)

    if guard(session, body) != EXIT_OK:
        session.error("some wheels failed (see the summary above)")


def audit(session: nox.Session, plan: Plan) -> None:
    """Session body of audit: static checks of any folder, for any platform, no install."""

    def body() -> int:
        if plan.variants:
            return audit_variants(session, plan)
        settings, ctx = context(session, plan)
        selection = parse_posargs(session.posargs, settings.shard)
        report = run_audit(ctx, selected_wheels(plan.wheels, selection), plan.wheels)
        return _show(session, report, settings)

    if guard(session, body) != EXIT_OK:
        session.error("some wheels failed the static audit (see the summary above)")


def _show(session: nox.Session, report: Report, settings: Settings) -> int:
    """Console summary, CI output; the report files are written already."""
    console_safe()
    if on_github_actions(os.environ):
        print(github_output(report, os.environ))
    print(render_console(report, color=color_enabled(sys.stdout)))
    session.log(f"reports: {settings.report_dir} (report.json, junit.xml, report.html)")
    return report.exit_code
