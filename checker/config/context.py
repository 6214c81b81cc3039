"""The run context: settings resolved against the target interpreter."""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path

from checker.config.interpreter import InterpreterInfo, query_interpreter, resolve_interpreter
from checker.config.paths import default_packages_folder, default_whitelist_path
from checker.config.platforms import default_variant, platform_key
from checker.config.settings import Settings
from checker.errors import SetupError
from checker.wheel.fragment import Fingerprint, code_digest
from checker.wheel.lock import LOCK_FILE, LockedSet, lock_variants, read_lock

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunContext:
    settings: Settings
    interpreter: Path
    info: InterpreterInfo
    packages: Path
    platform: str
    variant: str
    run_id: str
    locked: LockedSet | None = None  # this variant's and platform's set in packages.lock
    scope: str = ""
    """A configured variant's folder below fragments/, venvs/ and sandbox/ ("variants/NAME"):
    variants check the same wheel side by side. Empty for a single run."""

    @property
    def fragments_dir(self) -> Path:
        return self.settings.report_dir / "fragments" / self.scope

    @property
    def venvs_root(self) -> Path:
        return self.settings.work_dir / "venvs" / self.scope

    @property
    def whitelist_path(self) -> Path:
        return self.settings.whitelist or default_whitelist_path(
            self.settings.project_dir, self.variant, self.platform
        )

    @property
    def hash_memo(self) -> Path | None:
        """Where wheel digests are kept across incremental runs (None: fresh, hash anew)."""
        return None if self.settings.fresh else self.settings.work_dir / "hashes"

    @property
    def pycache_dir(self) -> Path:
        """The one bytecode tree of the probes (``-X pycache_prefix``, checker.probe.bytecode)."""
        return self.settings.work_dir / "pycache"

    @property
    def static_cache(self) -> Path:
        """Where the static facts of wheel contents are kept (see checker.probe.static_facts)."""
        return self.settings.work_dir / "static"

    def venv_dir(self, session_id: str, wheel_sha256: str) -> Path:
        """``venvs/{scope}/{session}/{key}``, the key a digest of the wheel's bytes, the folder's
        listing and the interpreter: other bytes, dependencies or interpreters never share a
        path, so the shared bytecode tree (keyed by source path, checked only by mtime and
        size) cannot mix them up."""
        seed = (
            f"{wheel_sha256}:{folder_digest(self.packages)}:{self.interpreter}:{self.info.version}"
        ).encode()
        return self.venvs_root / session_id / hashlib.sha256(seed).hexdigest()[:12]

    def sandbox_dir(self, session_id: str) -> Path:
        return self.settings.work_dir / "sandbox" / self.scope / session_id

    def fingerprint(self, wheel: str, wheel_sha256: str) -> Fingerprint:
        """Everything a wheel's result depends on (see fragment.Fingerprint)."""
        settings = self.settings
        probe = [
            settings.import_timeout,
            settings.isolate,
            settings.skip_modules,
            settings.keep_env,
            settings.env,
            settings.min_glibc,
            settings.x86_64_level,
            settings.accepted_libraries(self.platform),
        ]
        pins = {w.file: w for w in self.locked.wheels} if self.locked else {}
        pin = pins.get(wheel)
        return Fingerprint(
            wheel_sha256=wheel_sha256,
            interpreter=str(self.interpreter),
            python=self.info.version,
            platform=self.platform,
            variant=self.variant,
            checker_code=code_digest(),
            folder=folder_digest(self.packages),
            probe_settings=json.dumps(probe),
            lock_pin="none" if self.locked is None else json.dumps(pin.__dict__ if pin else None),
        )


def folder_digest(folder: Path) -> str:
    """Names and sizes of the folder's wheels: what an install may draw dependencies from.

    Every wheel's fingerprint and venv path ask for it: it is listed once per process and
    state of the folder (its directory's mtime changes when a wheel is added, removed or
    renamed into place), not once per wheel (a listing of 1,000 wheels takes ~10 ms)."""
    try:
        changed = folder.stat().st_mtime_ns
    except OSError:
        changed = -1
    return _folder_digest(str(folder), changed)


@functools.lru_cache(maxsize=64)
def _folder_digest(folder: str, _changed: int) -> str:
    try:
        listing = sorted((p.name, p.stat().st_size) for p in Path(folder).glob("*.whl"))
    except OSError:
        listing = []
    return hashlib.sha256(json.dumps(listing).encode()).hexdigest()[:16]


def lock_path(settings: Settings, *, any_folder: bool = False) -> Path | None:
    """The lock to use. The project's packages.lock pins the default packages folder: an
    explicitly set folder is checked against a lock only when one is set explicitly too
    (``any_folder`` is for fetch and lock, which fill or pin whatever folder is set)."""
    if settings.lock is not None:
        return settings.lock
    if settings.packages is not None and not any_folder:
        return None
    return settings.project_dir / LOCK_FILE


def packages_folder(settings: Settings, interpreter: Path) -> Path:
    return settings.packages or default_packages_folder(interpreter, settings.project_dir)


def make_context(
    settings: Settings, interpreter_spec: str | None, run_id: str, *, lock_any_folder: bool = False
) -> RunContext:
    """Resolve and ask the target interpreter; a setup problem is one clear SetupError."""
    interpreter = resolve_interpreter(interpreter_spec)
    info = query_interpreter(interpreter, cache=settings.work_dir / "interpreters")
    if not info.can_load_extensions:
        raise SetupError(
            f"interpreter {str(interpreter)!r} cannot load extension modules at all "
            "(no extension suffixes: a statically linked build?); nothing native can import"
        )
    platform = settings.platform or platform_key(info.sys_platform, info.machine)
    variant = settings.variant or default_variant(info)
    path = lock_path(settings, any_folder=lock_any_folder)
    lock = read_lock(path) if path else None
    return RunContext(
        settings=settings,
        interpreter=interpreter,
        info=info,
        packages=packages_folder(settings, interpreter),
        platform=platform,
        variant=variant,
        run_id=run_id,
        locked=lock.find(lock_variants(variant, info.version), platform) if lock else None,
    )
