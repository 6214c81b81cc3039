"""Free-threaded targets (Py_GIL_DISABLED, 3.13t+): a module that turns the GIL back on.

CPython enables the GIL for the whole process when it loads an extension module that does not
declare ``Py_mod_gil = Py_MOD_GIL_NOT_USED``, and warns once ("The global interpreter lock (GIL)
has been enabled to load module '...'"). The probe keeps that text and checks
``sys._is_gil_enabled()`` around each import (see _probe.py); here it becomes a ``gil-enabled``
finding naming the module: a warning, a failure in strict mode (checker.verdict.report).
Only the first such module of a probe process is seen: from then on the GIL stays on
(``NATIVE_CHECK_ISOLATE=module`` shows each one).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from checker.findings import Finding

_NAMED = "to load module '"


def named_module(warning: str) -> str | None:
    """The module CPython names in its warning, if it names one."""
    if _NAMED not in warning:
        return None
    return warning.split(_NAMED, 1)[1].split("'", 1)[0] or None


def gil_findings(raws: Sequence[Mapping[str, Any]], files: Mapping[str, str]) -> list[Finding]:
    """A ``gil-enabled`` finding per probe result whose import turned the GIL on."""
    findings = []
    for raw in raws:
        warning = raw.get("gil")
        if not warning:
            continue
        probed = str(raw["module"])
        module = named_module(str(warning)) or probed
        via = "" if module == probed else f" (while importing {probed})"
        error = (
            f"{module} turns the GIL back on in the free-threaded interpreter{via}: "
            f"{str(warning).strip()}"
        )
        findings.append(Finding("import", probed, "gil-enabled", error, files.get(probed)))
    return findings
