"""Duplicate runtimes: several wheels bundle their own build of one runtime (OpenMP, OpenBLAS,
libgfortran, libstdc++, ...: ``checker/data/policy/runtimes.json``, each with why two in one
process are a risk, and when: OpenMP whatever the copies are called; the others only under
one file name, where the loader takes the first copy loaded for every wheel).

A warning, not a proof: it fails the run only in strict mode, unless the co-import shows the
conflict.
"""

from __future__ import annotations

import fnmatch
import functools
import logging
import posixpath
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from checker.audit.policy import load
from checker.findings import SetFinding
from checker.wheel.contents import WheelContents
from checker.wheel.integrity import record_hashes

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Runtime:
    name: str
    libraries: tuple[str, ...]  # basename patterns, matched without case
    risk: str
    conflict: str
    """"any-build": any two builds conflict (OpenMP: two runtimes, two thread pools);
    "same-soname": only builds under one file name, which the loader takes for one library
    (renamed copies, libgfortran-<hash>.so.5, keep apart)."""

    def matches(self, basename: str) -> bool:
        return _pattern(self.libraries).match(basename.lower()) is not None


@functools.cache
def _pattern(libraries: tuple[str, ...]) -> re.Pattern[str]:
    """One compiled pattern for a runtime's basename globs (matched without case)."""
    return re.compile("|".join(fnmatch.translate(p.lower()) for p in libraries))


@functools.cache
def runtimes() -> tuple[Runtime, ...]:
    return tuple(
        Runtime(str(r["name"]), tuple(r["libraries"]), str(r["risk"]), str(r["conflict"]))
        for r in load("runtimes.json")["runtimes"]
    )


def duplicate_runtimes(
    wheels: Sequence[WheelContents], recorded: Mapping[str, Mapping[str, str]] | None = None
) -> list[SetFinding]:
    """A warning per runtime that two or more wheels bundle in different builds."""
    findings = []
    members = {
        c.path.name: sorted((recorded[c.path.name] if recorded else record_hashes(c)).items())
        for c in wheels
    }
    for runtime in runtimes():
        bundled: dict[str, list[tuple[str, str]]] = {}  # wheel -> [(member, hash)]
        for wheel, files in members.items():
            for member, digest in files:
                if runtime.matches(posixpath.basename(member)):
                    bundled.setdefault(wheel, []).append((member, digest))
        groups = [bundled] if runtime.conflict == "any-build" else _by_soname(bundled)
        for group in groups:
            builds = {digest for found in group.values() for _member, digest in found}
            if len(group) < 2 or len(builds) < 2:
                continue
            names = sorted(group)
            shown = "; ".join(f"{w}: {', '.join(m for m, _ in group[w])}" for w in names)
            error = f"{len(names)} wheels bundle their own {runtime.name} ({shown}): {runtime.risk}"
            findings.append(SetFinding("duplicate-runtime", tuple(names), error, "warning"))
    return findings


def _by_soname(
    bundled: dict[str, list[tuple[str, str]]],
) -> list[dict[str, list[tuple[str, str]]]]:
    """The bundled files regrouped by file name: one group per name several wheels ship."""
    groups: dict[str, dict[str, list[tuple[str, str]]]] = {}
    for wheel, files in bundled.items():
        for member, digest in files:
            name = posixpath.basename(member)
            groups.setdefault(name, {}).setdefault(wheel, []).append((member, digest))
    return [groups[name] for name in sorted(groups)]
