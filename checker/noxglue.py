"""The thin layer between nox sessions and the library: plans, errors, exit codes.

The noxfile calls only this module. Errors that stop a run end nox with exit code 2;
findings end the aggregate with exit code 1 (``session.error``); probe sessions never fail
for a finding.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
from dataclasses import replace
from pathlib import Path
from typing import Callable, NoReturn, TypeVar

import nox

from checker import ci_matrix, upkeep
from checker.aggregate import aggregate, judge
from checker.audit_job import folder_of, run_audit
from checker.context import RunContext, lock_path, make_context
from checker.discover import WheelRef
from checker.errors import EXIT_OK, CheckerError, SetupError, UsageError, exit_code_for
from checker.fragment import Fragment
from checker.lock import LOCK_FILE, Lock, LockedSet, read_lock, write_lock
from checker.pin import LOCK_PLATFORMS, fetch_pinned, pin_folder, pin_platform
from checker.plan import (
    Plan,
    ensure_run_id,
    probe_session_name,
    quiet_library_logs,
    variant_session_name,
)
from checker.probe.job import run_probe_session
from checker.probe.pipeline import Pipeline
from checker.probe.sharing import forget_other_runs
from checker.probe.venvs import prune_venvs
from checker.reports.console import render_console, render_run_console
from checker.reports.outputs import (
    github_output,
    github_run_output,
    on_github_actions,
    write_run_files,
)
from checker.reports.progress import Progress, color_enabled
from checker.selection import Selection, parse_posargs, selected_pairs, selected_wheels
from checker.settings import Settings, load_settings
from checker.verdict import Report, combine_reports, judge_wheel
from checker.whitelist import default_whitelist_path, load_whitelist

log = logging.getLogger(__name__)

T = TypeVar("T")


def _fail(session: nox.Session, error: BaseException) -> NoReturn:
    session.log(f"error: {error}")
    print(f"native-import-checker: error: {error}", file=sys.stderr)
    raise SystemExit(exit_code_for(error))


def _guard(session: nox.Session, action: Callable[[], T]) -> T:
    try:
        return action()
    except CheckerError as exc:
        _fail(session, exc)


def _context(
    session: nox.Session, plan: Plan, *, need_wheels: bool = True, lock_any_folder: bool = False
) -> tuple[Settings, RunContext]:
    quiet_library_logs(os.environ)
    if need_wheels and plan.error is not None:
        raise plan.error
    settings = load_settings(plan.project_dir, os.environ)
    python = session.python if isinstance(session.python, str) else None
    run_id = ensure_run_id(os.environ)
    return settings, make_context(settings, python, run_id, lock_any_folder=lock_any_folder)


# The pipeline of this nox process (``--jobs N``), made by the first probe session that needs
# one; a different context (another run id or interpreter) gets its own.
_PIPELINES: dict[RunContext, Pipeline[WheelRef, Fragment]] = {}


def _upcoming_probes(session: nox.Session, plan: Plan) -> list[WheelRef]:
    """The probe sessions nox will run after this one, in order. Read from nox's session
    queue, which nox does not publish: where it is missing (another nox version, a
    ``--parallel`` worker that runs one session) the answer is none and nothing runs ahead."""
    queue = getattr(getattr(getattr(session, "_runner", None), "manifest", None), "_queue", None)
    if not isinstance(queue, list):
        return []
    by_name = {probe_session_name(ref): ref for ref in plan.wheels}
    return [by_name[name] for name in (getattr(r, "name", None) for r in queue) if name in by_name]


def _check(
    session: nox.Session,
    plan: Plan,
    ctx: RunContext,
    ref: WheelRef,
    *,
    selected: list[WheelRef],
    jobs: int,
) -> Fragment:
    """This session's wheel checked now, or by the pipeline that runs wheels ahead."""
    pipeline = _PIPELINES.get(ctx)
    chosen = set(selected)
    upcoming = [r for r in _upcoming_probes(session, plan) if r in chosen] if jobs > 1 else []
    if pipeline is None and upcoming:
        pipeline = _PIPELINES[ctx] = Pipeline(
            lambda r: run_probe_session(ctx, r, plan.wheels), jobs
        )
    if pipeline is None:
        return run_probe_session(ctx, ref, plan.wheels)
    return pipeline.result(ref, upcoming)


def probe(session: nox.Session, plan: Plan, ref: WheelRef) -> None:
    """Session body of probe-<wheel>: skip unless selected, else check and write a fragment."""

    def body() -> str | None:
        settings = load_settings(plan.project_dir, os.environ)
        selection = parse_posargs(session.posargs, settings.shard)
        selected = selected_wheels(plan.wheels, selection)
        if ref not in selected:  # decided before anything slower: most sessions may skip
            return "not selected" + (" (another shard)" if selection.shard else "")
        settings, ctx = _context(session, plan)
        progress = Progress(sys.stdout)
        index, total = selected.index(ref) + 1, len(selected)
        if index == 1:
            progress.start(total)
        jobs = selection.jobs or settings.jobs
        fragment = _check(session, plan, ctx, ref, selected=selected, jobs=jobs)
        # The same status the aggregate will give it (whitelist included), as a live line.
        whitelist = load_whitelist(ctx.whitelist_path, required=settings.whitelist is not None)
        status = judge_wheel(fragment, whitelist).status
        reused = "reused_from" in fragment.extra
        name = ref.filename + ("  (unchanged: earlier result)" if reused else "")
        progress.wheel_done(index, total, name, status, 0.0 if reused else fragment.duration)
        return None

    skipped = _guard(session, body)
    if skipped:
        session.skip(skipped)


# --- variants ([tool.native-check.variants.NAME]) -------------------------------------------

_VARIANT_CONTEXTS: dict[tuple[str, str], RunContext] = {}
_VARIANT_PIPELINES: dict[str, Pipeline[tuple[str, WheelRef], Fragment]] = {}


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


def _upcoming_pairs(session: nox.Session, plan: Plan) -> list[tuple[str, WheelRef]]:
    """The variant probe sessions nox will run after this one (see _upcoming_probes)."""
    queue = getattr(getattr(getattr(session, "_runner", None), "manifest", None), "_queue", None)
    if not isinstance(queue, list):
        return []
    by_name = {
        variant_session_name(v.name, ref): (v.name, ref) for v in plan.variants for ref in v.wheels
    }
    return [by_name[n] for n in (getattr(r, "name", None) for r in queue) if n in by_name]


def probe_variant(session: nox.Session, plan: Plan, name: str, ref: WheelRef) -> None:
    """Session body of probe-<variant>--<wheel>: one variant's check of one wheel, shared
    with the other variants of the run that have the same check key."""

    def body() -> str | None:
        quiet_library_logs(os.environ)
        settings = load_settings(plan.project_dir, os.environ)
        selection, pairs = _variant_pairs(plan, session, settings)
        if (name, ref) not in pairs:
            return "not selected" + (" (another shard)" if selection.shard else "")
        run_id = ensure_run_id(os.environ)
        ctx = _variant_context(plan, name, settings, run_id)

        def work(pair: tuple[str, WheelRef]) -> Fragment:
            own = _variant_context(plan, pair[0], settings, run_id)
            return run_probe_session(own, pair[1], plan.variant(pair[0]).wheels, share=True)

        jobs = selection.jobs or settings.jobs
        chosen = set(pairs)
        upcoming = [p for p in _upcoming_pairs(session, plan) if p in chosen] if jobs > 1 else []
        pipeline = _VARIANT_PIPELINES.get(run_id)
        if pipeline is None and upcoming:
            pipeline = _VARIANT_PIPELINES[run_id] = Pipeline(work, jobs)
        fragment = pipeline.result((name, ref), upcoming) if pipeline else work((name, ref))
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

    skipped = _guard(session, body)
    if skipped:
        session.skip(skipped)


def _check_variants(session: nox.Session, plan: Plan) -> int:
    """check_native with variants: each variant judged against its whitelist, one report."""
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
        reports.append(judge(ctx, refs, selection))
        prune_venvs(ctx, [ref.session_id for ref in planned.wheels])
        if not settings.aggregate_only:
            forget_other_runs(ctx)
    run = combine_reports(reports)
    write_run_files(run, settings.report_dir)
    if on_github_actions(os.environ):
        print(github_run_output(run, os.environ))
    print(render_run_console(run, color=color_enabled(sys.stdout)))
    session.log(f"reports: {settings.report_dir} (report.json, junit.xml, report.html)")
    return run.exit_code


def check_native(session: nox.Session, plan: Plan) -> None:
    """Session body of check_native: aggregate the fragments, report, set the exit code."""

    if plan.variants:
        if _guard(session, lambda: _check_variants(session, plan)) != EXIT_OK:
            session.error("some wheels failed (see the summary above)")
        return

    def body() -> int:
        settings, ctx = _context(session, plan)
        selection = parse_posargs(session.posargs, settings.shard)
        report = aggregate(ctx, selected_wheels(plan.wheels, selection), selection)
        prune_venvs(ctx, [ref.session_id for ref in plan.wheels])  # of wheels gone
        return _show(session, report, settings)

    if _guard(session, body) != EXIT_OK:
        session.error("some wheels failed (see the summary above)")


def audit(session: nox.Session, plan: Plan) -> None:
    """Session body of audit: static checks of any folder, for any platform, no install."""

    def body() -> int:
        settings, ctx = _context(session, plan)
        selection = parse_posargs(session.posargs, settings.shard)
        whitelist = load_whitelist(ctx.whitelist_path, required=settings.whitelist is not None)
        refs = selected_wheels(plan.wheels, selection)
        report = run_audit(
            refs, settings, whitelist, platform=ctx.platform, variant=ctx.variant,
            locked=ctx.locked, folder=folder_of(ctx, plan.wheels),
        )  # fmt: skip
        return _show(session, report, settings)

    if _guard(session, body) != EXIT_OK:
        session.error("some wheels failed the static audit (see the summary above)")


def _show(session: nox.Session, report: Report, settings: Settings) -> int:
    """Console summary, CI output; the report files are written already."""
    if on_github_actions(os.environ):
        print(github_output(report, os.environ))
    print(render_console(report, color=color_enabled(sys.stdout)))
    session.log(f"reports: {settings.report_dir} (report.json, junit.xml, report.html)")
    return report.exit_code


def matrix(session: nox.Session, plan: Plan) -> None:
    """Session body of matrix: the CI matrix JSON on stdout (nox logs to stderr)."""
    text = _guard(session, lambda: ci_matrix.main(session.posargs, plan.project_dir, os.environ))
    print(text)


def _pip(session: nox.Session) -> list[str]:
    """pip inside the session's own venv (downloads never touch nox's environment)."""
    session.install("pip")
    bin_dir = Path(session.bin)
    python = bin_dir / ("python.exe" if sys.platform == "win32" else "python")
    return [str(python), "-m", "pip"]


def lock(session: nox.Session, plan: Plan) -> None:
    """Session body of lock: resolve requirements for the five platforms, or pin the folder."""

    def body() -> None:
        settings, ctx = _context(session, plan, need_wheels=False)
        path = lock_path(settings, any_folder=True) or settings.project_dir / LOCK_FILE
        current = read_lock(path) or Lock((), ())
        requirements = tuple(session.posargs)
        if requirements or (not ctx.packages.exists() and settings.requirements):
            requirements = requirements or settings.requirements
            python = ctx.info.short_version
            pip = _pip(session)
            new = Lock(tuple(sorted(requirements)), current.sets)
            work = settings.work_dir / "lock-downloads"
            for key, platform in LOCK_PLATFORMS.items():
                shutil.rmtree(work, ignore_errors=True)
                wheels = pin_platform(requirements, python, platform, pip, work)
                new = new.replace_set(LockedSet(f"python-{python}", key, tuple(wheels)))
                session.log(f"{key}: {len(wheels)} wheel(s) pinned for Python {python}")
            shutil.rmtree(work, ignore_errors=True)
        elif ctx.packages.is_dir():
            pinned = pin_folder(ctx.packages, ctx.variant, ctx.platform)
            new = current.replace_set(pinned)
            session.log(f"{ctx.variant}/{ctx.platform}: {len(pinned.wheels)} wheel(s) pinned")
        else:
            raise SetupError(
                "nothing to lock: no requirements given and no packages folder "
                f"{str(ctx.packages)!r}"
            )
        if new == current and path.exists():
            session.log(f"{path} is up to date")
            return
        write_lock(path, new)
        session.log(f"wrote {path}")

    _guard(session, body)


def fetch(session: nox.Session, plan: Plan) -> None:
    """Session body of fetch: download the wheels pinned for this platform, verified."""

    def body() -> None:
        _settings, ctx = _context(session, plan, need_wheels=False, lock_any_folder=True)
        if ctx.locked is None:
            raise SetupError(
                f"packages.lock has no wheels for {ctx.variant} / {ctx.platform}: "
                "run `nox -s lock` first"
            )
        missing = [w for w in ctx.locked.wheels if not (ctx.packages / w.file).exists()]
        if not missing:
            session.log(f"all {len(ctx.locked.wheels)} pinned wheel(s) are in {ctx.packages}")
            return
        fetched = fetch_pinned(_pip(session), ctx.locked, ctx.packages)
        session.log(f"fetched {len(fetched)} wheel(s) into {ctx.packages}, every sha256 verified")

    _guard(session, body)


def whitelist(session: nox.Session, plan: Plan) -> None:
    """Session body of whitelist: `-- update`, `-- prune` (from the last report) or `-- check`."""

    def body() -> None:
        settings = load_settings(plan.project_dir, os.environ)
        action, *rest = session.posargs or ["check"]
        if rest or action not in ("update", "prune", "check"):
            raise UsageError(
                f"usage: nox -s whitelist -- update|prune|check (got {session.posargs!r})"
            )
        if action == "check":
            lock_file = read_lock(lock_path(settings, any_folder=True) or Path(LOCK_FILE))
            problems = upkeep.check(settings.project_dir / "whitelists", lock_file)
            for problem in problems:
                session.log(problem)
            if problems:
                session.error(f"{len(problems)} whitelist problem(s)")
            session.log("every whitelist file is valid")
            return
        report = upkeep.read_report(settings.report_dir / "report.json")
        # Each variant's whitelist file; several variants may share one (whitelists/{platform}).
        files: dict[Path, list[upkeep.LastVariant]] = {}
        for item in report.variants:
            path = settings.whitelist or default_whitelist_path(
                settings.project_dir, item.variant, item.platform
            )
            path = Path(item.whitelist_path) if item.whitelist_path else path
            files.setdefault(path, []).append(item)
        for path, items in files.items():
            if action == "update":
                changes = [c for item in items for c in upkeep.update(path, item.snippet)]
            else:  # stale in the whole run: no variant whose whitelist this is used them
                stale = [e for where, e in report.unused if where is None or Path(where) == path]
                changes = upkeep.prune(path, stale)
            for change in changes:
                session.log(f"{path}: {change}")
            if not changes:
                session.log(f"{path}: nothing to {action}")

    _guard(session, body)


# What a run leaves behind, relative to the report and work folders. `clean` removes exactly
# these (never the folders' other contents: they may be set to a folder of the user's).
REPORT_OUTPUTS = ("report.json", "junit.xml", "report.html", "fragments")
WORK_OUTPUTS = (
    "venvs", "sandbox", "pycache", "static", "hashes", "interpreters", "lock-downloads",
)  # fmt: skip


def clean(session: nox.Session, plan: Plan) -> None:
    """Session body of clean: remove the venvs, sandboxes, bytecode, fragments and reports."""

    def body() -> None:
        settings = load_settings(plan.project_dir, os.environ)
        removed = 0
        for folder, names in (
            (settings.report_dir, REPORT_OUTPUTS),
            (settings.work_dir, WORK_OUTPUTS),
        ):
            for name in names:
                path = folder / name
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path)
                elif path.exists() or path.is_symlink():
                    path.unlink()
                else:
                    continue
                removed += 1
                session.log(f"removed {path}")
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
        session.log(f"removed {removed} item(s)" if removed else "nothing to clean")

    _guard(session, body)
