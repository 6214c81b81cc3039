"""The thin layer between nox sessions and the library: plans, errors, exit codes.

The noxfile calls only this module. Errors that stop a run end nox with exit code 2;
findings end the aggregate with exit code 1 (``session.error``); probe sessions never fail
for a finding.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import uuid
from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, NoReturn, TypeVar

import nox

from checker.aggregate import aggregate
from checker.context import RunContext, make_context, packages_folder
from checker.discover import WheelRef, discover, select
from checker.errors import EXIT_OK, CheckerError, exit_code_for
from checker.interpreter import resolve_interpreter
from checker.probe_job import run_probe_session
from checker.reports.console import render_console
from checker.settings import Settings, load_settings

log = logging.getLogger(__name__)

RUN_ID_VARIABLE = "NATIVE_CHECK_RUN_ID"
T = TypeVar("T")


@dataclass(frozen=True)
class Plan:
    """What the noxfile generates sessions from. ``error`` is raised when a session runs."""

    project_dir: Path
    wheels: tuple[WheelRef, ...]
    error: CheckerError | None

    @property
    def probe_sessions(self) -> list[str]:
        return [probe_session_name(ref) for ref in self.wheels]


def probe_session_name(ref: WheelRef) -> str:
    return f"probe-{ref.session_id}"


def forced_python(argv: Sequence[str]) -> str | None:
    """The interpreter given to nox with -P/--force-python (read early to find the wheels)."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("-P", "--force-python", "--force-pythons", dest="force", action="append")
    known, _rest = parser.parse_known_args(list(argv[1:]))
    return known.force[-1] if known.force else None


def load_plan(project_dir: Path, environ: Mapping[str, str], argv: Sequence[str]) -> Plan:
    """Find the wheels to generate sessions for; never raises (nox -l must always work)."""
    try:
        settings = load_settings(project_dir, environ)
        interpreter = resolve_interpreter(forced_python(argv))
        wheels = discover(packages_folder(settings, interpreter))
    except CheckerError as exc:
        return Plan(project_dir, (), exc)
    return Plan(project_dir, tuple(wheels), None)


def ensure_run_id(environ: MutableMapping[str, str]) -> str:
    """One id per nox invocation, inherited by nox's parallel workers through the environment."""
    return environ.setdefault(RUN_ID_VARIABLE, uuid.uuid4().hex)


def _fail(session: nox.Session, error: BaseException) -> NoReturn:
    session.log(f"error: {error}")
    print(f"native-import-checker: error: {error}", file=sys.stderr)
    raise SystemExit(exit_code_for(error))


def _guard(session: nox.Session, action: Callable[[], T]) -> T:
    try:
        return action()
    except CheckerError as exc:
        _fail(session, exc)


def _quiet_library_logs() -> None:
    level = logging.DEBUG if os.environ.get("NATIVE_CHECK_DEBUG") else logging.WARNING
    logging.getLogger("checker").setLevel(level)


def _context(session: nox.Session, plan: Plan) -> tuple[Settings, RunContext]:
    _quiet_library_logs()
    if plan.error is not None:
        raise plan.error
    settings = load_settings(plan.project_dir, os.environ)
    python = session.python if isinstance(session.python, str) else None
    return settings, make_context(settings, python, ensure_run_id(os.environ))


def probe(session: nox.Session, plan: Plan, ref: WheelRef) -> None:
    """Session body of probe-<wheel>: skip unless selected, else check and write a fragment."""

    def body() -> str | None:
        if ref not in select(plan.wheels, session.posargs):
            return "not selected"
        _settings, ctx = _context(session, plan)
        path = run_probe_session(ctx, ref, plan.wheels)
        session.log(f"{ref.filename}: fragment {path}")
        return None

    skipped = _guard(session, body)
    if skipped:
        session.skip(skipped)


def check_native(session: nox.Session, plan: Plan) -> None:
    """Session body of check_native: aggregate the fragments, report, set the exit code."""

    def body() -> int:
        _settings, ctx = _context(session, plan)
        selected = select(plan.wheels, session.posargs)
        report = aggregate(ctx, selected, session.posargs)
        print(render_console(report))
        session.log(f"report: {ctx.settings.report_dir / 'report.json'}")
        return report.exit_code

    if _guard(session, body) != EXIT_OK:
        session.error("some wheels failed (see the summary above)")
