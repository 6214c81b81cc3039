"""File collisions: two wheels of the folder that install one file path with other contents.

An installer writes the wheels one after another: the second silently overwrites the first's
file. The installed paths come from each wheel's RECORD, as they land in the venv
(``.data/`` schemes included: ``data`` into the prefix, ``scripts`` into bin/Scripts); paths
are compared without case on Windows and macOS, whose file systems fold it. Two wheels that
ship the same bytes at one path (the empty ``nvidia/__init__.py`` of every nvidia-* wheel)
overwrite nothing and are no collision; two versions of one project are the set check's
``not-co-installable``, not a collision. No install is needed to find them.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from checker.findings import SetFinding
from checker.wheel.contents import WheelContents
from checker.wheel.integrity import record_hashes

log = logging.getLogger(__name__)

_SHOWN = 5


def _landed(
    contents: WheelContents, hashes: Mapping[str, str], windows: bool, fold: bool
) -> dict[str, tuple[str, str]]:
    """Compared path -> (installed path, RECORD hash) of a wheel's files."""
    landed = {}
    for member, digest in hashes.items():
        if member.startswith(contents.dist_info + "/"):
            continue  # each distribution's own metadata folder
        path = contents.landing_path(member, windows=windows)
        if path:
            landed[path.lower() if fold else path] = (path, digest)
    return landed


def file_collisions(
    wheels: Sequence[WheelContents],
    *,
    fold_case: bool = False,
    windows: bool = False,
    recorded: Mapping[str, Mapping[str, str]] | None = None,
) -> list[SetFinding]:
    """One finding per pair of wheels that install a path with different contents
    (``recorded``: each wheel's RECORD hashes by file name, when read already)."""
    owners: dict[str, list[tuple[str, str, str]]] = {}  # key -> (wheel, path, hash)
    project = {c.path.name: c.project for c in wheels}
    for contents in wheels:
        hashes = recorded[contents.path.name] if recorded else record_hashes(contents)
        for key, (path, digest) in _landed(contents, hashes, windows, windows or fold_case).items():
            owners.setdefault(key, []).append((contents.path.name, path, digest))
    pairs: dict[tuple[str, str], list[str]] = {}
    for entries in owners.values():
        for i, (first, path, digest) in enumerate(entries):
            for second, _path, other in entries[i + 1 :]:
                # Two versions of one project: not-co-installable says it, once.
                if other != digest and project[first] != project[second]:
                    pairs.setdefault((first, second), []).append(path)
    findings = []
    for (first, second), paths in sorted(pairs.items()):
        shown = ", ".join(sorted(paths)[:_SHOWN])
        more = f" (+{len(paths) - _SHOWN} more)" if len(paths) > _SHOWN else ""
        error = (
            f"{first} and {second} install {len(paths)} same file path(s) with different "
            f"contents (the one installed last wins): {shown}{more}"
        )
        findings.append(SetFinding("file-collision", (first, second), error))
    return findings
