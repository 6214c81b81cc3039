"""Sessions around the check: matrix, lock, fetch, whitelist upkeep, clean."""

from __future__ import annotations

import logging
import os
import shutil
import sys
from pathlib import Path

import nox

from checker.config import ci_matrix
from checker.config.context import lock_path
from checker.config.paths import default_whitelist_path
from checker.config.plan import (
    Plan,
)
from checker.config.settings import load_settings
from checker.errors import SetupError, UsageError
from checker.runs.pin import LOCK_PLATFORMS, fetch_pinned, pin_folder, pin_platform
from checker.sessions.common import context, guard
from checker.verdict import upkeep
from checker.wheel.lock import LOCK_FILE, Lock, LockedSet, read_lock, write_lock

log = logging.getLogger(__name__)


def matrix(session: nox.Session, plan: Plan) -> None:
    """Session body of matrix: the CI matrix JSON on stdout (nox logs to stderr)."""
    text = guard(session, lambda: ci_matrix.main(session.posargs, plan.project_dir, os.environ))
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
        settings, ctx = context(session, plan, need_wheels=False)
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

    guard(session, body)


def fetch(session: nox.Session, plan: Plan) -> None:
    """Session body of fetch: download the wheels pinned for this platform, verified."""

    def body() -> None:
        _settings, ctx = context(session, plan, need_wheels=False, lock_any_folder=True)
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

    guard(session, body)


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

    guard(session, body)


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

    guard(session, body)
