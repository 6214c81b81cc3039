"""What the noxfile generates sessions from, computed when nox loads it.

Never raises: ``nox -l`` and ``nox -s tests`` must work whatever the packages folder holds;
an error is kept in the plan and raised by the sessions that need the wheels.
"""

from __future__ import annotations

import argparse
import logging
import uuid
from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from checker.config.context import lock_path, packages_folder
from checker.config.interpreter import query_interpreter, resolve_interpreter
from checker.config.platforms import default_variant, platform_key
from checker.config.settings import Settings, load_settings
from checker.config.variants import Variant, load_variants
from checker.errors import CheckerError, SetupError
from checker.wheel.discover import WheelRef, discover, wheel_ref
from checker.wheel.lock import lock_variants, read_lock

log = logging.getLogger(__name__)

RUN_ID_VARIABLE = "NATIVE_CHECK_RUN_ID"


@dataclass(frozen=True)
class PlannedVariant:
    """A configured variant and the wheels of its packages folder."""

    variant: Variant
    wheels: tuple[WheelRef, ...]

    @property
    def name(self) -> str:
        return self.variant.name


@dataclass(frozen=True)
class Plan:
    project_dir: Path
    wheels: tuple[WheelRef, ...]  # a single run's (empty with variants)
    error: CheckerError | None
    fetch_first: bool = False  # the wheels come from packages.lock and are fetched first
    aggregate_only: bool = False  # check_native judges collected fragments, no probe sessions
    variants: tuple[PlannedVariant, ...] = ()  # configured variants (see checker.config.variants)
    set_check: bool = True  # a set-check session per folder (see checker.setcheck.job)

    @property
    def set_sessions(self) -> list[str]:
        if not self.set_check:
            return []
        if self.variants:
            return [set_session_name(v.name) for v in self.variants]
        return [set_session_name(None)] if self.wheels else []

    @property
    def probe_sessions(self) -> list[str]:
        if self.variants:
            return [variant_session_name(v.name, ref) for v in self.variants for ref in v.wheels]
        return [probe_session_name(ref) for ref in self.wheels]

    def variant(self, name: str) -> PlannedVariant:
        return next(v for v in self.variants if v.name == name)


def probe_session_name(ref: WheelRef) -> str:
    return f"probe-{ref.session_id}"


def set_session_name(variant: str | None) -> str:
    """``set-check`` (``set-check-{variant}``): the folder as one environment."""
    return "set-check" if variant is None else f"set-check-{variant.lower()}"


def variant_session_name(variant: str, ref: WheelRef) -> str:
    """``probe-{variant}--{wheel}``: readable, and unique across variants and wheels."""
    return f"probe-{variant.lower()}--{ref.session_id}"


def forced_python(argv: Sequence[str]) -> str | None:
    """The interpreter given to nox with -P/--force-python (read early to find the wheels)."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("-P", "--force-python", "--force-pythons", dest="force", nargs="*")
    known, _rest = parser.parse_known_args(list(argv[1:]))
    return known.force[0] if known.force else None


def _locked_default(settings: Settings, interpreter: Path, folder: Path) -> list[WheelRef] | None:
    """Pinned wheels for this interpreter when the default packages folder does not exist."""
    path = lock_path(settings)
    if settings.packages is not None or path is None:
        return None
    lock = read_lock(path)
    if lock is None:
        return None
    info = query_interpreter(interpreter, cache=settings.work_dir / "interpreters")
    variant = settings.variant or default_variant(info)
    platform = settings.platform or platform_key(info.sys_platform, info.machine)
    locked = lock.find(lock_variants(variant, info.version), platform)
    if locked is None:
        # A fresh clone run by a Python the lock has no set for (a new Python, say): say so,
        # and how to make one, instead of "packages folder ... does not exist".
        short = info.short_version
        raise SetupError(
            f"no wheels to check: the packages folder {str(folder)!r} is missing or empty, and "
            f"{path.name} has no set for python-{short} on {platform} to fetch into it. Pin "
            f"one with `nox -s lock -P python{short}` (the default requirements; or "
            f"`nox -s lock -P python{short} -- NAME...`), then run `nox -s check_native` "
            "again; or set NATIVE_CHECK_PACKAGES to a folder of wheels"
        )
    return [wheel_ref(folder / wheel.file) for wheel in locked.wheels]


def quiet_library_logs(environ: Mapping[str, str]) -> None:
    """nox shows every log record; the library's own show only with NATIVE_CHECK_DEBUG."""
    level = logging.DEBUG if environ.get("NATIVE_CHECK_DEBUG") else logging.WARNING
    logging.getLogger("checker").setLevel(level)


def load_plan(project_dir: Path, environ: Mapping[str, str], argv: Sequence[str]) -> Plan:
    """Find the wheels to generate sessions for (see the module docstring)."""
    quiet_library_logs(environ)
    try:
        settings = load_settings(project_dir, environ)
        variants = load_variants(project_dir, environ)
        if variants:
            planned = tuple(PlannedVariant(v, tuple(discover(v.packages))) for v in variants)
            return Plan(
                project_dir, (), None, aggregate_only=settings.aggregate_only, variants=planned,
                set_check=settings.set_check,
            )  # fmt: skip
        interpreter = resolve_interpreter(forced_python(argv))
        folder = packages_folder(settings, interpreter)
        # No wheels yet (a fresh clone, or an empty folder left by a failed fetch): the set
        # pinned in packages.lock, fetched first.
        if not folder.exists() or (
            folder.is_dir() and not any(f.suffix.lower() == ".whl" for f in folder.iterdir())
        ):
            pinned = _locked_default(settings, interpreter, folder)
            if pinned:
                return Plan(
                    project_dir, tuple(pinned), None, fetch_first=True,
                    set_check=settings.set_check,
                )  # fmt: skip
        wheels = discover(folder)
        if settings.aggregate_only:
            return Plan(project_dir, tuple(wheels), None, aggregate_only=True)
    except CheckerError as exc:
        return Plan(project_dir, (), exc)
    except OSError as exc:
        return Plan(project_dir, (), SetupError(f"cannot read the packages folder: {exc}"))
    return Plan(project_dir, tuple(wheels), None, set_check=settings.set_check)


def ensure_run_id(environ: MutableMapping[str, str]) -> str:
    """One id per nox invocation, inherited by nox's parallel workers through the environment."""
    return environ.setdefault(RUN_ID_VARIABLE, uuid.uuid4().hex)
