"""Decide, per extension candidate, whether to import it: its exports say what it is."""

from __future__ import annotations

import fnmatch
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Callable

from checker.binary import BinaryFormatError
from checker.findings import ModuleResult
from checker.wheel.contents import Candidate, WheelContents

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModulePlan:
    to_import: tuple[Candidate, ...]
    decided: tuple[ModuleResult, ...]  # skipped or failed without importing


# The exports by which CPython loads an extension module: PyInit_<name> (the module or its
# PyModuleDef), PyModExport_<name> (PEP 793, 3.15+: an array of slots); the U variants for a
# non-ASCII name, spelt in punycode with "-" as "_" (PEP 489).
_ENTRY_PREFIXES = ("PyInit_", "PyInitU_", "PyModExport_", "PyModExportU_")


def is_entry_point(symbol: str) -> bool:
    """Whether ``symbol`` is a module export hook of any name."""
    return symbol.startswith(_ENTRY_PREFIXES)


def entry_points(leaf: str) -> tuple[str, ...]:
    """The export hooks by which CPython would load module ``leaf`` (any one suffices)."""
    if leaf.isascii():
        return (f"PyInit_{leaf}", f"PyModExport_{leaf}")
    puny = leaf.encode("punycode").decode("ascii").replace("-", "_")
    return (f"PyInitU_{puny}", f"PyModExportU_{puny}")


@dataclass(frozen=True)
class Exports:
    """What the plan needs from a binary's exported symbols."""

    inits: tuple[str, ...]  # export hooks (PyInit_*, PyModExport_* and U variants), sorted
    any: bool  # exports anything at all


def exports_of(contents: WheelContents, member: str) -> Exports:
    """``member``'s exports, parsed (BinaryFormatError when it is not a readable binary)."""
    names = contents.binary(member).exports
    return Exports(tuple(sorted(n for n in names if is_entry_point(n))), bool(names))


def plan_modules(
    contents: WheelContents,
    candidates: Sequence[Candidate],
    skip_patterns: Sequence[str],
    exports: Callable[[str], Exports] | None = None,
) -> ModulePlan:
    """Split candidates into modules to import and ones decided by their exports
    (``exports``: a member's, known already; default: parsed from ``contents``)."""
    to_import: list[Candidate] = []
    decided: list[ModuleResult] = []
    for cand in candidates:
        if any(fnmatch.fnmatchcase(cand.module, pattern) for pattern in skip_patterns):
            reason = "matches a skip-modules pattern"
            decided.append(
                ModuleResult(cand.module, cand.installed, "skipped", "skip-pattern", reason)
            )
            continue
        if cand.other_interpreter:
            reason = f"built for another interpreter ({cand.installed.rsplit('/', 1)[-1]})"
            decided.append(
                ModuleResult(cand.module, cand.installed, "skipped", "other-interpreter", reason)
            )
            continue
        leaf = cand.module.rsplit(".", 1)[-1]
        try:
            found = exports(cand.member) if exports else exports_of(contents, cand.member)
        except BinaryFormatError as exc:
            log.info("%s: cannot read exports (%s); importing it anyway", cand.member, exc)
            to_import.append(cand)
            continue
        inits = list(found.inits)
        expected = entry_points(leaf)
        if any(name in inits for name in expected):
            to_import.append(cand)
        elif not found.any:
            reason = "shared library that exports no symbol at all: not a module, not imported"
            decided.append(
                ModuleResult(cand.module, cand.installed, "skipped", "not-a-module", reason)
            )
        elif inits:
            error = (
                f"{cand.installed} exports {', '.join(inits)} but its file name needs "
                f"{' or '.join(expected)}: the import would fail"
            )
            decided.append(
                ModuleResult(cand.module, cand.installed, "failed", "init-mismatch", error)
            )
        else:
            reason = (
                "shared library without PyInit_*/PyModExport_* (loaded by ctypes/cffi), "
                "not a module"
            )
            decided.append(
                ModuleResult(cand.module, cand.installed, "skipped", "not-a-module", reason)
            )
    return ModulePlan(tuple(to_import), tuple(decided))
