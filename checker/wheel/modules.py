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


@dataclass(frozen=True)
class Exports:
    """What the plan needs from a binary's exported symbols."""

    inits: tuple[str, ...]  # PyInit_* names, sorted
    any: bool  # exports anything at all


def exports_of(contents: WheelContents, member: str) -> Exports:
    """``member``'s exports, parsed (BinaryFormatError when it is not a readable binary)."""
    names = contents.binary(member).exports
    return Exports(tuple(sorted(n for n in names if n.startswith("PyInit_"))), bool(names))


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
        if f"PyInit_{leaf}" in inits:
            to_import.append(cand)
        elif not found.any:
            reason = "shared library that exports no symbol at all: not a module, not imported"
            decided.append(
                ModuleResult(cand.module, cand.installed, "skipped", "not-a-module", reason)
            )
        elif inits:
            error = (
                f"{cand.installed} exports {', '.join(inits)} but its file name needs "
                f"PyInit_{leaf}: the import would fail"
            )
            decided.append(
                ModuleResult(cand.module, cand.installed, "failed", "init-mismatch", error)
            )
        else:
            reason = "shared library without PyInit_* (loaded by ctypes/cffi), not a module"
            decided.append(
                ModuleResult(cand.module, cand.installed, "skipped", "not-a-module", reason)
            )
    return ModulePlan(tuple(to_import), tuple(decided))
