"""Variants as configuration: several interpreters, each with its packages folder, in one run.

``[tool.native-check.variants.NAME]`` tables in pyproject.toml, or the same ``[variants.NAME]``
tables in the TOML file that ``NATIVE_CHECK_VARIANTS`` names (which then wins)::

    [tool.native-check.variants."python-3.12.10-h5ad"]
    python = "../python-3.12.10-h5ad/pydist/linux-x64/bin/python3"
    packages = "../python-3.12.10-h5ad/pydist/linux-x64/packages"   # optional
    whitelist = "whitelists/linux-x64.json"                          # optional

Paths are relative to the file's folder; ``{platform}`` in them is the platform key
(``NATIVE_CHECK_PLATFORM``, else this machine's: ``linux-x64``, ``windows-x64``, ...), so one
table serves a layout with a folder per platform (``pydist/{platform}/bin/python3``).
``packages`` defaults to ``../packages`` beside the interpreter's folder, as for a single run;
``whitelist`` to the usual lookup with the variant's name. Without variants nothing changes:
one run of one interpreter, as before.
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

from checker.config.layouts import detect_layout
from checker.config.platforms import platform_key
from checker.errors import InputFileError, SetupError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on old Pythons only
    import tomli as tomllib

log = logging.getLogger(__name__)

VARIANTS_VARIABLE = "NATIVE_CHECK_VARIANTS"
KEYS = ("python", "packages", "whitelist")
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


def _variant(path: Path, prefix: str, name: str, table: Any, platform: str) -> Variant:
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
    return Variant(name, python, packages, whitelist, where)


def load_variants(project_dir: Path, environ: Mapping[str, str]) -> tuple[Variant, ...]:
    """The configured variants, in file order (empty: a single run, as without variants).

    A problem is an InputFileError or SetupError naming the file and the table.
    """
    path, prefix, tables = _tables(project_dir.absolute(), environ)
    platform = environ.get("NATIVE_CHECK_PLATFORM", "").strip() or this_platform()
    variants = [
        _variant(path, prefix, str(name), table, platform) for name, table in tables.items()
    ]
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


def configured_names(project_dir: Path, environ: Mapping[str, str]) -> list[str]:
    """The names of the configured variants, without checking their interpreters and folders
    (which exist only on their own platform's machines): for planning a CI matrix."""
    _file, _prefix, tables = _tables(project_dir.absolute(), environ)
    return [str(name) for name in tables]
