"""The sessions of a run over variants: probe-<variant>--<wheel> and its aggregate."""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import replace

import nox

from checker.config.context import RunContext, make_context
from checker.config.environment import merge_env
from checker.config.plan import (
    Plan,
    ensure_run_id,
    quiet_library_logs,
    set_session_name,
    variant_session_name,
)
from checker.config.selection import Selection, parse_posargs, selected_pairs
from checker.config.settings import Settings, load_settings
from checker.probe.job import run_probe_session
from checker.probe.pipeline import Pipeline
from checker.probe.sharing import forget_other_runs
from checker.probe.venvs import prune_venvs
from checker.reports.console import render_run_console
from checker.reports.outputs import (
    github_run_output,
    on_github_actions,
    write_run_files,
)
from checker.reports.progress import Progress, color_enabled
from checker.runs.aggregate import judge, set_expected
from checker.runs.audit import audit_report
from checker.sessions.common import queued_sessions, run_or_skip, set_line_of, wheel_cost
from checker.setcheck.job import SetResult, run_set_session
from checker.textio import console_safe
from checker.verdict.report import combine_reports, judge_wheel
from checker.verdict.whitelist import load_whitelist
from checker.wheel.discover import WheelRef
from checker.wheel.fragment import Fragment

log = logging.getLogger(__name__)


# --- variants ([tool.native-check.variants.NAME]) -------------------------------------------

_VARIANT_CONTEXTS: dict[tuple[str, str], RunContext] = {}
# Keys: (variant, wheel), and (variant, None) for a variant's set check.
Key = tuple[str, "WheelRef | None"]
_VARIANT_PIPELINES: dict[str, Pipeline[Key, Fragment | SetResult]] = {}


def _variant_context(plan: Plan, name: str, settings: Settings, run_id: str) -> RunContext:
    """The run context of one variant: its interpreter, folder, whitelist and scope."""
    key = (name, run_id)
    if key not in _VARIANT_CONTEXTS:
        variant = plan.variant(name).variant
        own = replace(
            settings,
            packages=variant.packages,
            variant=variant.name,
            whitelist=variant.whitelist or settings.whitelist,
            env=merge_env(settings.env, variant.env),
            # A variant's own declared requirements; the project's default set and
            # NATIVE_CHECK_REQUIREMENTS_FILE are a single run's.
            declared=variant.requirements,
            declared_source=variant.source,
            requirements_file=variant.requirements_file,
            min_glibc=variant.min_glibc or settings.min_glibc,
        )
        ctx = make_context(own, str(variant.python), run_id)
        _VARIANT_CONTEXTS[key] = replace(ctx, scope=f"variants/{variant.name}")
    return _VARIANT_CONTEXTS[key]


def _variant_pairs(
    plan: Plan, session: nox.Session, settings: Settings
) -> tuple[Selection, list[tuple[str, WheelRef]]]:
    selection = parse_posargs(session.posargs, settings.shard)
    folders = [(v.name, v.wheels) for v in plan.variants]
    return selection, selected_pairs(folders, selection)


def _upcoming(session: nox.Session, plan: Plan) -> list[Key]:
    """The variant sessions nox will run after this one (see queued_sessions)."""
    by_name: dict[str, Key] = {
        variant_session_name(v.name, ref): (v.name, ref) for v in plan.variants for ref in v.wheels
    }
    by_name.update({set_session_name(v.name): (v.name, None) for v in plan.variants})
    return [by_name[name] for name in queued_sessions(session) if name in by_name]


def _run(
    session: nox.Session, plan: Plan, settings: Settings, key: Key, *, chosen: set[Key], jobs: int
) -> Fragment | SetResult:
    """``key``'s check now, or by the pipeline that runs the sessions to come ahead (across
    variants: a wheel checked for one variant is shared with the next one)."""
    run_id = ensure_run_id(os.environ)

    def work(item: Key) -> Fragment | SetResult:
        name, ref = item
        own = _variant_context(plan, name, settings, run_id)
        wheels = plan.variant(name).wheels
        if ref is None:
            return run_set_session(own, wheels)
        # A variant whose folder the run checks as one environment: its set check installs.
        return run_probe_session(own, ref, wheels, share=True, set_check=(name, None) in chosen)

    upcoming = [k for k in _upcoming(session, plan) if k in chosen] if jobs > 1 else []
    pipeline = _VARIANT_PIPELINES.get(run_id)
    if pipeline is None and upcoming:
        pipeline = _VARIANT_PIPELINES[run_id] = Pipeline(
            work, jobs, cost=lambda k: wheel_cost(k[1])
        )
    return pipeline.result(key, upcoming) if pipeline else work(key)


def _chosen(plan: Plan, settings: Settings, selection: Selection, pairs: list[Key]) -> set[Key]:
    """The selected probes and the set checks this run makes."""
    chosen = set(pairs)
    run_id = ensure_run_id(os.environ)
    for name in {name for name, _ in pairs}:
        if set_expected(_variant_context(plan, name, settings, run_id), selection):
            chosen.add((name, None))
    return chosen


def probe_variant(session: nox.Session, plan: Plan, name: str, ref: WheelRef) -> None:
    """Session body of probe-<variant>--<wheel>: one variant's check of one wheel, shared
    with the other variants of the run that have the same check key."""

    def body() -> str | None:
        quiet_library_logs(os.environ)
        settings = load_settings(plan.project_dir, os.environ)
        selection, pairs = _variant_pairs(plan, session, settings)
        if (name, ref) not in pairs:
            return "not selected" + (" (another shard)" if selection.shard else "")
        ctx = _variant_context(plan, name, settings, ensure_run_id(os.environ))
        jobs = selection.jobs or settings.jobs
        chosen = _chosen(plan, settings, selection, list(pairs))
        fragment = _run(session, plan, settings, (name, ref), chosen=chosen, jobs=jobs)
        assert isinstance(fragment, Fragment)
        progress = Progress(sys.stdout)
        index = pairs.index((name, ref)) + 1
        if index == 1:
            progress.start(len(pairs))
        whitelist = load_whitelist(ctx.whitelist_path, required=ctx.settings.whitelist is not None)
        status = judge_wheel(fragment, whitelist).status
        note = ""
        if "shared_from" in fragment.extra:
            note = f"  (shared: checked for {fragment.extra['shared_from']})"
        elif "reused_from" in fragment.extra:
            note = "  (unchanged: earlier result)"
        seconds = 0.0 if note else fragment.duration
        progress.wheel_done(index, len(pairs), f"{name}: {ref.filename}{note}", status, seconds)
        return None

    run_or_skip(session, body)


def set_check_variant(session: nox.Session, plan: Plan, name: str) -> None:
    """Session body of set-check-<variant>: that variant's folder as one environment."""

    def body() -> str | None:
        quiet_library_logs(os.environ)
        settings = load_settings(plan.project_dir, os.environ)
        selection, pairs = _variant_pairs(plan, session, settings)
        ctx = _variant_context(plan, name, settings, ensure_run_id(os.environ))
        chosen = _chosen(plan, settings, selection, list(pairs))
        if settings.aggregate_only or (name, None) not in chosen:
            return "not selected (the set check runs for a whole selected folder, shard 1)"
        jobs = selection.jobs or settings.jobs
        result = _run(session, plan, settings, (name, None), chosen=chosen, jobs=jobs)
        assert isinstance(result, SetResult)
        print(set_line_of(f"{name} ({ctx.packages})", result), flush=True)
        return None

    run_or_skip(session, body)


def check_variants(session: nox.Session, plan: Plan) -> int:
    """check_native with variants: each variant judged against its whitelist, one report."""
    return _each_variant(session, plan, audit=False)


def audit_variants(session: nox.Session, plan: Plan) -> int:
    """nox -s audit with variants: each variant's folder audited, one report."""
    return _each_variant(session, plan, audit=True)


def _each_variant(session: nox.Session, plan: Plan, *, audit: bool) -> int:
    quiet_library_logs(os.environ)
    settings = load_settings(plan.project_dir, os.environ)
    selection, pairs = _variant_pairs(plan, session, settings)
    run_id = ensure_run_id(os.environ)
    reports = []
    for planned in plan.variants:
        refs = [ref for name, ref in pairs if name == planned.name]
        if not refs:
            continue
        ctx = _variant_context(plan, planned.name, settings, run_id)
        if audit:
            reports.append(audit_report(ctx, refs, planned.wheels))
            continue
        reports.append(judge(ctx, refs, selection))
        prune_venvs(ctx, [ref.session_id for ref in planned.wheels])
        if not settings.aggregate_only:
            forget_other_runs(ctx)
    run = combine_reports(reports)
    write_run_files(run, settings.report_dir)
    console_safe()
    if on_github_actions(os.environ):
        print(github_run_output(run, os.environ))
    print(render_run_console(run, color=color_enabled(sys.stdout)))
    session.log(f"reports: {settings.report_dir} (report.json, junit.xml, report.html)")
    return run.exit_code
