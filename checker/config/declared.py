"""What the configuration declares about a variant's set across platforms.

``platform-specific = { "cudf-cu12" = ["linux-x64"] }`` in ``[tool.native-check]`` (every
variant) or in a variant's table (that variant, adding to the global one, winning per
project): the project is expected on those platforms only, so ``nox -s across`` reports
neither a ``platform-gap`` nor a ``version-skew`` for it as long as it is on exactly those
of the compared platforms.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from packaging.utils import InvalidName, canonicalize_name

from checker.config.platforms import check_platform_keys
from checker.config.settings import read_pyproject_table
from checker.config.variants import variant_tables
from checker.errors import InputFileError

PlatformSpecific = dict[str, tuple[str, ...]]
"""Canonical project name -> the platform keys it is expected on."""

KEY = "platform-specific"


def parse_platform_specific(value: Any, where: str) -> PlatformSpecific:
    """A ``platform-specific`` table; a problem is an InputFileError naming ``where``."""
    if not isinstance(value, dict):
        raise InputFileError(
            f'{where}: {KEY} must be a table of "project" = [platform keys], not {value!r}'
        )
    result: PlatformSpecific = {}
    for name, keys in value.items():
        try:
            project = canonicalize_name(str(name), validate=True)
        except InvalidName:
            raise InputFileError(f"{where}: {KEY}: {name!r} is not a project name") from None
        if not isinstance(keys, list) or not keys or not all(isinstance(k, str) for k in keys):
            raise InputFileError(
                f"{where}: {KEY}: {name} = {keys!r} must be a non-empty list of platform keys"
            )
        check_platform_keys(keys, f"{where}: {KEY}: {name}")
        result[project] = tuple(dict.fromkeys(keys))
    return result


def declared_platform_specific(
    project_dir: Path, environ: Mapping[str, str]
) -> tuple[PlatformSpecific, dict[str, PlatformSpecific]]:
    """(the global declaration, each configured variant's own, merged over the global)."""
    project_dir = project_dir.absolute()
    where = f"{project_dir / 'pyproject.toml'} [tool.native-check]"
    common = parse_platform_specific(read_pyproject_table(project_dir).get(KEY, {}), where)
    own = {
        name: {**common, **parse_platform_specific(table.get(KEY, {}), source)}
        for name, (source, table) in variant_tables(project_dir, environ).items()
    }
    return common, own
