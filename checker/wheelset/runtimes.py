"""Duplicate runtimes: several wheels bundle their own build of one runtime (OpenMP, OpenBLAS,
libgfortran, libstdc++, ...: ``checker/data/policy/runtimes.json``, each with why two in one
process are a risk). A warning, not a proof: it fails the run only in strict mode, unless the
co-import shows the conflict.
"""

from __future__ import annotations

import fnmatch
import functools
import logging
import posixpath
from collections.abc import Sequence
from dataclasses import dataclass

from checker.audit.policy import load
from checker.findings import SetFinding
from checker.integrity import record_hashes
from checker.wheel import WheelContents

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Runtime:
    name: str
    libraries: tuple[str, ...]  # basename patterns, matched without case
    risk: str

    def matches(self, basename: str) -> bool:
        return any(fnmatch.fnmatchcase(basename.lower(), p.lower()) for p in self.libraries)


@functools.cache
def runtimes() -> tuple[Runtime, ...]:
    return tuple(
        Runtime(str(r["name"]), tuple(r["libraries"]), str(r["risk"]))
        for r in load("runtimes.json")["runtimes"]
    )


def duplicate_runtimes(wheels: Sequence[WheelContents]) -> list[SetFinding]:
    """A warning per runtime that two or more wheels bundle in different builds."""
    findings = []
    for runtime in runtimes():
        bundled: dict[str, list[tuple[str, str]]] = {}  # wheel -> [(member, hash)]
        for contents in wheels:
            for member, digest in sorted(record_hashes(contents).items()):
                if runtime.matches(posixpath.basename(member)):
                    bundled.setdefault(contents.path.name, []).append((member, digest))
        builds = {digest for files in bundled.values() for _member, digest in files}
        if len(bundled) < 2 or len(builds) < 2:
            continue
        names = sorted(bundled)
        files = "; ".join(f"{w}: {', '.join(m for m, _ in bundled[w])}" for w in names)
        error = f"{len(names)} wheels bundle their own {runtime.name} ({files}): {runtime.risk}"
        findings.append(SetFinding("duplicate-runtime", tuple(names), error, "warning"))
    return findings
