"""Settings: NATIVE_CHECK_* environment variables over ``[tool.native-check]`` over defaults."""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from checker.config.environment import Env, expand_env
from checker.cpus import usable_cpus
from checker.errors import InputFileError, UsageError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on old Pythons only
    import tomli as tomllib

log = logging.getLogger(__name__)

DEFAULT_REPORT_DIR = Path("build") / "native-check"
DEFAULT_WORK_DIR = Path(".nox") / "native-check"
ISOLATION_MODES = ("wheel", "module")


@dataclass(frozen=True)
class Settings:
    """Everything a run is configured with. Paths are absolute."""

    project_dir: Path
    packages: Path | None  # None: derive from the target interpreter (see discover)
    variant: str | None  # None: python-X.Y.Z of the target interpreter
    platform: str | None  # None: detected from the target interpreter
    whitelist: Path | None  # None: whitelists/{variant}/{platform}.json
    report_dir: Path
    work_dir: Path
    import_timeout: float
    isolate: str
    strict_whitelist: bool
    skip_modules: tuple[str, ...]
    keep_env: tuple[str, ...]
    lock: Path | None  # explicit lock file; None: packages.lock for the default folder only
    requirements: tuple[str, ...]  # what `nox -s lock` resolves without arguments
    shard: str | None  # "i/n": check a stable 1/n of the wheels
    aggregate_only: bool  # judge collected fragments, install nothing
    fresh: bool  # never reuse an earlier fragment (default: only in CI)
    min_glibc: str | None  # the oldest glibc the users run: a floor for the static audit
    jobs: int  # wheels checked at once inside one nox process (see checker/probe/pipeline.py)
    set_check: bool = True  # check the folder as one environment too (checker/setcheck/job.py)
    # Libraries the target machines are known to have: (platform key or "*", glob) pairs.
    system_libraries: tuple[tuple[str, str], ...] = ()
    # The x86-64 micro-architecture level every target CPU has: baseline, v2, v3 or v4.
    x86_64_level: str = "baseline"
    # The environment the imports run under ([tool.native-check] env, a variant's env),
    # expanded (checker.config.environment).
    env: Env = ()
    # A requirements file users install from the folder (NATIVE_CHECK_REQUIREMENTS_FILE).
    requirements_file: Path | None = None
    # A variant's own `requirements = [...]` and where they are configured.
    declared: tuple[str, ...] = ()
    declared_source: str = ""

    def accepted_libraries(self, platform: str) -> tuple[str, ...]:
        """The ``system-libraries`` globs that apply to ``platform``."""
        return tuple(glob for key, glob in self.system_libraries if key in ("*", platform))


def _as_bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("", "0", "false", "no", "off"):
        return False
    raise UsageError(f"{name}={value!r} is not a boolean (use 1/0, true/false)")


def _as_auto_bool(name: str, value: Any) -> bool | None:
    if str(value).strip().lower() == "auto":
        return None
    return _as_bool(name, value)


def as_glibc(name: str, value: Any) -> str | None:
    text = str(value).strip()
    major, _, minor = text.partition(".")
    if not (major.isdigit() and minor.isdigit()):
        raise UsageError(f"{name}={value!r} is not a glibc version such as 2.28")
    return text


_X86_64_LEVELS = ("baseline", "v2", "v3", "v4")


def _as_x86_64_level(name: str, value: Any) -> str:
    """``baseline`` (also ``v1``), ``v2``, ``v3``, ``v4``; ``x86-64-v2`` spellings too."""
    text = str(value).strip().lower().removeprefix("x86-64-").removeprefix("x86_64-")
    text = "baseline" if text == "v1" else text
    if text not in _X86_64_LEVELS:
        raise UsageError(f"{name}={value!r} is not an x86-64 level: baseline, v2, v3 or v4")
    return text


def as_jobs(name: str, value: Any) -> int:
    """A positive number of jobs, or ``auto`` for the usable CPUs."""
    if str(value).strip().lower() == "auto":
        return usable_cpus()
    try:
        jobs = int(str(value).strip())
    except ValueError:
        raise UsageError(f"{name}={value!r} is not a number of jobs (or 'auto')") from None
    if jobs < 1:
        raise UsageError(f"{name}={value!r}: the number of jobs must be at least 1")
    return jobs


def _as_seconds(name: str, value: Any) -> float:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise UsageError(f"{name}={value!r} is not a number of seconds") from None
    if not seconds > 0:
        raise UsageError(f"{name}={value!r} must be a positive number of seconds")
    return seconds


def _as_list(name: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return tuple(value)
    raise UsageError(f"{name}={value!r} must be a list of strings (or comma-separated)")


def _as_library_globs(name: str, value: Any) -> tuple[tuple[str, str], ...]:
    """``["libtbb.so.12", "linux-x64:libfoo.so.*"]`` (a ``key:`` prefix limits an entry to
    one platform key), or a table ``{"linux-x64": ["libtbb.so.*"], "*": [...]}``."""
    if isinstance(value, dict):
        pairs: list[tuple[str, str]] = []
        for key, globs in sorted(value.items()):
            pairs += [(str(key), glob) for glob in _as_list(f"{name}.{key}", globs)]
        return tuple(pairs)
    result = []
    for item in _as_list(name, value):
        key, sep, glob = item.rpartition(":")
        if sep and not key.strip():
            raise UsageError(f"{name}: {item!r} has an empty platform key before ':'")
        if not glob.strip():
            raise UsageError(f"{name}: {item!r} has no library glob")
        result.append((key.strip() or "*", glob.strip()))
    return tuple(result)


def _as_isolation(name: str, value: Any) -> str:
    text = str(value).strip().lower()
    if text not in ISOLATION_MODES:
        raise UsageError(f"{name}={value!r} must be one of {', '.join(ISOLATION_MODES)}")
    return text


def _as_text(name: str, value: Any) -> str | None:
    if not isinstance(value, str):
        raise UsageError(f"{name}={value!r} must be a string")
    return value.strip() or None


# field -> (environment variable, pyproject key, converter, default)
_SPECS: dict[str, tuple[str, str, Callable[[str, Any], Any], Any]] = {
    "packages": ("NATIVE_CHECK_PACKAGES", "packages", _as_text, None),
    "variant": ("NATIVE_CHECK_VARIANT", "variant", _as_text, None),
    "platform": ("NATIVE_CHECK_PLATFORM", "platform", _as_text, None),
    "whitelist": ("NATIVE_CHECK_WHITELIST", "whitelist", _as_text, None),
    "report_dir": ("NATIVE_CHECK_REPORT_DIR", "report-dir", _as_text, str(DEFAULT_REPORT_DIR)),
    "work_dir": ("NATIVE_CHECK_WORK_DIR", "work-dir", _as_text, str(DEFAULT_WORK_DIR)),
    "import_timeout": ("NATIVE_CHECK_IMPORT_TIMEOUT", "import-timeout", _as_seconds, 120.0),
    "isolate": ("NATIVE_CHECK_ISOLATE", "isolate", _as_isolation, "wheel"),
    "strict_whitelist": ("NATIVE_CHECK_STRICT_WHITELIST", "strict-whitelist", _as_bool, False),
    "skip_modules": ("NATIVE_CHECK_SKIP_MODULES", "skip-modules", _as_list, ()),
    "keep_env": ("NATIVE_CHECK_KEEP_ENV", "keep-env", _as_list, ()),
    "lock": ("NATIVE_CHECK_LOCK", "lock", _as_text, None),
    "requirements": ("NATIVE_CHECK_REQUIREMENTS", "requirements", _as_list, ()),
    "shard": ("NATIVE_CHECK_SHARD", "shard", _as_text, None),
    "aggregate_only": ("NATIVE_CHECK_AGGREGATE_ONLY", "aggregate-only", _as_bool, False),
    "fresh": ("NATIVE_CHECK_FRESH", "fresh", _as_auto_bool, None),
    "min_glibc": ("NATIVE_CHECK_MIN_GLIBC", "min-glibc", as_glibc, None),
    "jobs": ("NATIVE_CHECK_JOBS", "jobs", as_jobs, None),
    "set_check": ("NATIVE_CHECK_SET_CHECK", "set-check", _as_bool, True),
    "x86_64_level": ("NATIVE_CHECK_X86_64_LEVEL", "x86-64-level", _as_x86_64_level, "baseline"),
    "requirements_file": (
        "NATIVE_CHECK_REQUIREMENTS_FILE",
        "requirements-file",
        _as_text,
        None,
    ),
    "system_libraries": (
        "NATIVE_CHECK_SYSTEM_LIBRARIES",
        "system-libraries",
        _as_library_globs,
        (),
    ),
}
_PATH_FIELDS = ("packages", "whitelist", "report_dir", "work_dir", "lock", "requirements_file")


def read_pyproject_table(project_dir: Path) -> dict[str, Any]:
    """``[tool.native-check]`` of the project's pyproject.toml (empty if absent); parsed once
    per process and file version (every session reads the settings)."""
    path = project_dir / "pyproject.toml"
    try:
        stat = path.stat()
    except OSError:
        return {}
    return dict(_read_table(str(path), stat.st_mtime_ns, stat.st_size))


@functools.lru_cache(maxsize=4)
def _read_table(path_text: str, _mtime_ns: int, _size: int) -> dict[str, Any]:
    path = Path(path_text)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputFileError(f"{path}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise InputFileError(f"{path}: cannot read: {exc}") from None
    table = data.get("tool", {}).get("native-check", {})
    if not isinstance(table, dict):
        raise InputFileError(f"{path}: [tool.native-check] must be a table")
    # variants: checker.config.variants; runners: checker.config.ci_matrix;
    # platform-specific: checker.config.declared
    known = {spec[1] for spec in _SPECS.values()}
    known |= {"variants", "runners", "env", "platform-specific"}
    unknown = sorted(set(table) - known)
    if unknown:
        raise InputFileError(
            f"{path}: unknown key(s) in [tool.native-check]: {', '.join(map(repr, unknown))}"
        )
    return table


def load_settings(project_dir: Path, environ: Mapping[str, str]) -> Settings:
    """Read every setting; a bad value is a UsageError naming the variable and the value."""
    project_dir = project_dir.absolute()
    table = read_pyproject_table(project_dir)
    values: dict[str, Any] = {}
    for field_name, (env_name, key, convert, default) in _SPECS.items():
        if env_name in environ and environ[env_name] != "":
            values[field_name] = convert(env_name, environ[env_name])
        elif key in table:
            values[field_name] = convert(f"[tool.native-check] {key}", table[key])
        else:
            values[field_name] = default
    for field_name in _PATH_FIELDS:
        if values[field_name] is not None:
            values[field_name] = (project_dir / Path(values[field_name]).expanduser()).absolute()
    if values["fresh"] is None:  # auto: fresh in CI, incremental on a developer's machine
        values["fresh"] = environ.get("CI", "").strip().lower() in ("1", "true", "yes")
    if values["jobs"] is None:  # auto: one wheel in work per usable CPU
        values["jobs"] = usable_cpus()
    if "env" in table:
        where = f"{project_dir / 'pyproject.toml'} [tool.native-check]"
        values["env"] = expand_env(table["env"], where, environ)
    return Settings(project_dir=project_dir, **values)
