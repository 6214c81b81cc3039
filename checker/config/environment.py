"""The environment a run's imports see: ``env = { NAME = "value" }`` of the configuration.

``[tool.native-check] env`` applies to a run (and to every variant); a variant's own ``env``
table adds to it and wins per name. Values may use the outer environment (the environment of
the nox process) as ``$NAME`` or ``${NAME}``, expanded once when the configuration is read,
with the rules of :class:`string.Template`: ``$$`` is a literal ``$``, and a name the outer
environment does not have expands to the empty string, as in a shell (so that
``LD_LIBRARY_PATH = "/opt/lib:$LD_LIBRARY_PATH"`` works where it is unset). A ``$`` followed
by anything else is an error naming the file and the value.

The probe's sandbox owns the variables that keep an import's writes inside throw-away
folders (:data:`SANDBOX_OWNED`): configuring one of them is an error, not silently ignored.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from typing import Any

from checker.errors import InputFileError

Env = tuple[tuple[str, str], ...]
"""(name, value) pairs, expanded, in the order of the configuration."""

SANDBOX_OWNED = frozenset(
    {
        "HOME", "USERPROFILE", "APPDATA", "LOCALAPPDATA", "XDG_CONFIG_HOME", "XDG_CACHE_HOME",
        "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_RUNTIME_DIR", "MPLCONFIGDIR", "TMPDIR", "TEMP",
        "TMP",
    }
)  # fmt: skip
"""Set by the probe's sandbox (checker.probe.runner.Sandbox), whatever a configuration says."""

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class _Outer(dict[str, str]):
    """The outer environment; a name it lacks expands to the empty string."""

    def __missing__(self, key: str) -> str:
        return ""


def expand_env(value: Any, where: str, outer: Mapping[str, str]) -> Env:
    """``env = { NAME = "value" }`` read from ``where`` (file and table, for messages),
    ``$NAME`` / ``${NAME}`` expanded from ``outer``."""
    if not isinstance(value, dict):
        raise InputFileError(f'{where}: env must be a table of NAME = "value", not {value!r}')
    pairs = []
    for name, text in value.items():
        if not _NAME.match(str(name)):
            raise InputFileError(
                f"{where}: env name {name!r} is not an environment variable name "
                "(letters, digits and '_', not starting with a digit)"
            )
        if name.upper() in SANDBOX_OWNED:
            raise InputFileError(
                f"{where}: env {name!r} cannot be set: the probe's sandbox sets it to a "
                "throw-away folder (docs/variants.md, 'Environment')"
            )
        if not isinstance(text, str):
            raise InputFileError(f"{where}: env {name} must be a string, not {text!r}")
        try:
            expanded = string.Template(text).substitute(_Outer(outer))
        except ValueError as exc:
            raise InputFileError(
                f"{where}: env {name} = {text!r}: {exc} (write $$ for a literal $)"
            ) from None
        pairs.append((str(name), expanded))
    return tuple(pairs)


def merge_env(base: Env, own: Env) -> Env:
    """``base`` with ``own`` added, ``own`` winning per name."""
    names = {name for name, _ in own}
    return tuple(pair for pair in base if pair[0] not in names) + own
