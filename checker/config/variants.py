"""Variants as configuration: several interpreters, each with its packages folder, in one run.

``[tool.native-check.variants.NAME]`` tables in pyproject.toml, or the same ``[variants.NAME]``
tables in the TOML file that ``NATIVE_CHECK_VARIANTS`` names (which then wins)::

    [tool.native-check.variants."python-3.12.10-h5ad"]
    python = "../python-3.12.10-h5ad/pydist/linux-x64/bin/python3"
    packages = "../python-3.12.10-h5ad/pydist/linux-x64/packages"   # optional
    whitelist = "whitelists/linux-x64.json"                          # optional
    platforms = ["linux-x64", "macosx-aarch64"]                      # optional: all five
    env = { RPY2_CFFI_MODE = "ABI", PATH = "/opt/cuda/bin:$PATH" }   # optional
    min-glibc = "2.28"                                               # optional

Paths are relative to the file's folder; ``{platform}`` in them is the platform key
(``NATIVE_CHECK_PLATFORM``, else this machine's: ``linux-x64``, ``windows-x64``, ...), so one
table serves a layout with a folder per platform (``pydist/{platform}/bin/python3``).
``packages`` defaults to ``../packages`` beside the interpreter's folder, as for a single run;
``whitelist`` to the usual lookup with the variant's name. Without variants nothing changes:
one run of one interpreter, as before.

A variant whose ``platforms`` leave out this run's platform is not part of it: its interpreter
and folder are not looked for, it has no sessions and no report entry here (and ``nox -s
matrix`` plans no job for it there). ``env`` is the environment its imports run under (see
checker.config.environment), added to ``[tool.native-check] env``.
"""

from __future__ import annotations

import logging
import os
import platform as py_platform
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from checker.config.environment import Env, expand_env
from checker.config.layouts import detect_layout
from checker.config.platforms import PLATFORM_KEYS, check_platform_keys, platform_key
from checker.config.requirements import parse_requirements
from checker.config.settings import as_glibc
from checker.errors import InputFileError, SetupError, UsageError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on old Pythons only
    import tomli as tomllib

log = logging.getLogger(__name__)

VARIANTS_VARIABLE = "NATIVE_CHECK_VARIANTS"
KEYS = (
    "python", "packages", "whitelist", "platforms", "env", "platform-specific", "requirements",
    "requirements-file", "min-glibc",
)  # fmt: skip
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")


@dataclass(frozen=True)
class Variant:
    """One configured variant: its interpreter, packages folder and whitelist (absolute)."""

    name: str
    python: Path
    packages: Path
    whitelist: Path | None
    source: str
    """Where it is configured, for messages: ``pyproject.toml [tool.native-check.variants.x]``."""
    platforms: tuple[str, ...] = PLATFORM_KEYS
    """The platform keys it is built for (``platforms = [...]``; default: all five)."""
    env: Env = ()
    """Its own ``env`` table, expanded (added to ``[tool.native-check] env``)."""
    requirements: tuple[str, ...] = ()
    """What users install from its folder (``requirements = [...]``)."""
    requirements_file: Path | None = None
    """The same in a file (``requirements-file``; it must exist)."""
    min_glibc: str | None = None
    """The oldest glibc its users run (``min-glibc``; else NATIVE_CHECK_MIN_GLIBC)."""


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
        return data
    except FileNotFoundError:
        raise InputFileError(
            f"{path}: the variants file ({VARIANTS_VARIABLE}) does not exist"
        ) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputFileError(f"{path}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise InputFileError(f"{path}: cannot read: {exc}") from None


def _tables(project_dir: Path, environ: Mapping[str, str]) -> tuple[Path, str, dict[str, Any]]:
    """(file, table prefix, {name: table}) of the variants in effect (empty: none)."""
    named = environ.get(VARIANTS_VARIABLE, "").strip()
    if named:
        path = (project_dir / Path(named).expanduser()).absolute()
        data = _read_toml(path)
        prefix, tables = "variants", data.get("variants", {})
    else:
        path = project_dir / "pyproject.toml"
        data = _read_toml(path) if path.is_file() else {}
        prefix = "tool.native-check.variants"
        tables = data.get("tool", {}).get("native-check", {}).get("variants", {})
    if not isinstance(tables, dict):
        raise InputFileError(f"{path}: [{prefix}] must be a table of [{prefix}.NAME] tables")
    return path, prefix, tables


def _path(base: Path, value: Any, where: str, key: str, platform: str) -> Path:
    if not isinstance(value, str) or not value.strip():
        raise InputFileError(f"{where}: {key} must be a non-empty string, not {value!r}")
    value = value.replace("{platform}", platform)
    # normpath, not resolve: an interpreter reached through a link keeps its own folder.
    return Path(os.path.normpath((base / Path(value.strip()).expanduser()).absolute()))


def _checked_table(path: Path, prefix: str, name: str, table: Any) -> str:
    """``where`` (file and table, for messages) of a variant table with known keys only."""
    where = f"{path} [{prefix}.{name}]"
    if not _NAME.match(name):
        raise InputFileError(
            f"{where}: variant name {name!r} must be letters, digits, '.', '_', '+' or '-'"
        )
    if not isinstance(table, dict):
        raise InputFileError(f"{where}: must be a table with python = ..., not {table!r}")
    unknown = sorted(set(table) - set(KEYS))
    if unknown:
        raise InputFileError(
            f"{where}: unknown key(s) {', '.join(map(repr, unknown))} (known: {', '.join(KEYS)})"
        )
    return where


def _platforms(table: dict[str, Any], where: str) -> tuple[str, ...]:
    value = table.get("platforms", list(PLATFORM_KEYS))
    if not isinstance(value, list) or not value:
        raise InputFileError(
            f"{where}: platforms must be a non-empty list of platform keys, not {value!r}"
        )
    check_platform_keys(value, f"{where}: platforms")
    return tuple(dict.fromkeys(value))


def _variant(
    path: Path, prefix: str, name: str, table: Any, platform: str, *, environ: Mapping[str, str]
) -> Variant | None:
    """The variant, or None when it is not for ``platform``."""
    where = _checked_table(path, prefix, name, table)
    platforms = _platforms(table, where)
    env = expand_env(table.get("env", {}), where, environ)
    if platform not in platforms:
        return None
    if "python" not in table:
        raise InputFileError(f"{where}: python = '<the variant's interpreter>' is required")
    base = path.parent
    python = _path(base, table["python"], where, "python", platform)
    if not python.is_file() or not os.access(python, os.X_OK):
        raise SetupError(f"{where}: interpreter {str(python)!r} does not exist or cannot run")
    if "packages" in table:
        packages = _path(base, table["packages"], where, "packages", platform)
    else:
        packages = detect_layout(python).packages
    if not packages.is_dir():
        raise SetupError(f"{where}: packages folder {str(packages)!r} does not exist")
    whitelist = (
        _path(base, table["whitelist"], where, "whitelist", platform)
        if "whitelist" in table
        else None
    )
    if whitelist is not None and not whitelist.is_file():
        raise SetupError(f"{where}: whitelist {str(whitelist)!r} does not exist")
    requirements = table.get("requirements", [])
    if not isinstance(requirements, list):
        raise InputFileError(
            f"{where}: requirements must be a list of strings, not {requirements!r}"
        )
    declared = parse_requirements(requirements, f"{where} requirements")
    listed = None
    if "requirements-file" in table:
        listed = _path(base, table["requirements-file"], where, "requirements-file", platform)
        if not listed.is_file():
            raise SetupError(f"{where}: requirements-file {str(listed)!r} does not exist")
    min_glibc = None
    if "min-glibc" in table:
        try:
            min_glibc = as_glibc("min-glibc", table["min-glibc"])
        except UsageError as exc:
            raise InputFileError(f"{where}: {exc}") from None
    return Variant(
        name, python, packages, whitelist, where, platforms, env, declared, listed, min_glibc
    )


def load_variants(project_dir: Path, environ: Mapping[str, str]) -> tuple[Variant, ...]:
    """The configured variants for this platform, in file order (empty: a single run, as
    without variants). ``environ`` is the outer environment ``env`` values expand from.

    A problem is an InputFileError or SetupError naming the file and the table; variants
    configured, none of them for this platform, is a SetupError too (nothing to check here).
    """
    path, prefix, tables = _tables(project_dir.absolute(), environ)
    platform = environ.get("NATIVE_CHECK_PLATFORM", "").strip() or this_platform()
    found = [
        _variant(path, prefix, str(name), table, platform, environ=environ)
        for name, table in tables.items()
    ]
    variants = [variant for variant in found if variant is not None]
    if tables and not variants:
        raise SetupError(
            f"{path}: no variant is for platform {platform!r} (their platforms = [...] leave "
            "it out): nothing to check here"
        )
    seen: dict[str, str] = {}
    for variant in variants:
        key = variant.name.lower()
        if key in seen:
            raise InputFileError(
                f"{path}: variants {seen[key]!r} and {variant.name!r} have one name "
                "(names are compared without case: they name folders and sessions)"
            )
        seen[key] = variant.name
    return tuple(variants)


def this_platform() -> str:
    """The platform key of the machine running the checker."""
    return platform_key(sys.platform, py_platform.machine())


def variant_tables(
    project_dir: Path, environ: Mapping[str, str]
) -> dict[str, tuple[str, dict[str, Any]]]:
    """Each configured variant's (where, table), checked for known keys only (its paths are
    not looked for): for what other platforms' runs and reports need to know."""
    path, prefix, tables = _tables(project_dir.absolute(), environ)
    result = {}
    for name, table in tables.items():
        result[str(name)] = (_checked_table(path, prefix, str(name), table), table)
    return result


def configured_platforms(
    project_dir: Path, environ: Mapping[str, str]
) -> dict[str, tuple[str, ...]]:
    """Each configured variant's platform keys, without checking its interpreters and folders
    (which exist only on their own platform's machines): for planning a CI matrix."""
    tables = variant_tables(project_dir, environ)
    return {name: _platforms(table, where) for name, (where, table) in tables.items()}
