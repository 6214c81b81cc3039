"""Decide, per extension candidate, whether to import it: its exports say what it is."""

from __future__ import annotations

import fnmatch
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from checker.binary import BinaryFormatError
from checker.findings import ModuleResult
from checker.wheel import Candidate, WheelContents

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModulePlan:
    to_import: tuple[Candidate, ...]
    decided: tuple[ModuleResult, ...]  # skipped or failed without importing


def _init_names(exports: frozenset[str]) -> list[str]:
    return sorted(name for name in exports if name.startswith("PyInit_"))


def plan_modules(
    contents: WheelContents, candidates: Sequence[Candidate], skip_patterns: Sequence[str]
) -> ModulePlan:
    """Split candidates into modules to import and ones decided by their exports."""
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
            info = contents.binary(cand.member)
        except BinaryFormatError as exc:
            log.info("%s: cannot read exports (%s); importing it anyway", cand.member, exc)
            to_import.append(cand)
            continue
        inits = _init_names(info.exports)
        if f"PyInit_{leaf}" in inits or not info.exports:
            to_import.append(cand)
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
