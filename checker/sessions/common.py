"""What every session body shares: errors end nox with their exit code, the run context."""

from __future__ import annotations

import logging
import math
import os
import sys
from typing import Callable, NoReturn, TypeVar

import nox

from checker.config.context import RunContext, make_context
from checker.config.plan import (
    Plan,
    ensure_run_id,
    quiet_library_logs,
)
from checker.config.settings import Settings, load_settings
from checker.errors import CheckerError, exit_code_for
from checker.reports.progress import set_line
from checker.setcheck.job import SetResult
from checker.textio import console_safe
from checker.wheel.discover import WheelRef

log = logging.getLogger(__name__)


T = TypeVar("T")


def fail(session: nox.Session, error: BaseException) -> NoReturn:
    session.log(f"error: {error}")
    print(f"native-import-checker: error: {error}", file=sys.stderr)
    raise SystemExit(exit_code_for(error))


def guard(session: nox.Session, action: Callable[[], T]) -> T:
    console_safe()  # an import error or uv's output never breaks a run on a cp1252 pipe
    try:
        return action()
    except CheckerError as exc:
        fail(session, exc)


def context(
    session: nox.Session, plan: Plan, *, need_wheels: bool = True, lock_any_folder: bool = False
) -> tuple[Settings, RunContext]:
    quiet_library_logs(os.environ)
    if need_wheels and plan.error is not None:
        raise plan.error
    settings = load_settings(plan.project_dir, os.environ)
    python = session.python if isinstance(session.python, str) else None
    run_id = ensure_run_id(os.environ)
    return settings, make_context(settings, python, run_id, lock_any_folder=lock_any_folder)


def queued_sessions(session: nox.Session) -> list[str]:
    """The names of the sessions nox will run after this one, in order. Read from nox's
    session queue, which nox does not publish: where it is missing (another nox version, a
    ``--parallel`` worker that runs one session) the answer is none and nothing runs ahead."""
    queue = getattr(getattr(getattr(session, "_runner", None), "manifest", None), "_queue", None)
    if not isinstance(queue, list):
        return []
    return [name for name in (getattr(r, "name", None) for r in queue) if isinstance(name, str)]


def wheel_cost(ref: WheelRef | None) -> float:
    """What a check costs, for the order of the work run ahead: the set check (None) first,
    then the largest wheels (a wheel's size stands for its install and its imports)."""
    if ref is None:
        return math.inf
    try:
        return float(ref.path.stat().st_size)
    except OSError:
        return 0.0  # gone or unreadable: its own check says so


def run_or_skip(session: nox.Session, body: Callable[[], str | None]) -> None:
    """Run a session body; a reason it returns skips the session (errors end nox as usual)."""
    skipped = guard(session, body)
    if skipped:
        session.skip(skipped)


def set_line_of(folder: str, result: SetResult) -> str:
    """The live line of a set check's result."""
    kinds = [f.kind for f in result.findings]
    return set_line(folder, kinds, result.duration, reused="reused_from" in result.details)
