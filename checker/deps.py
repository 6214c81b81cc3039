"""Which requirement of a wheel has no wheel in the packages folder (walks Requires-Dist)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from packaging.markers import UndefinedEnvironmentName
from packaging.requirements import InvalidRequirement, Requirement
from packaging.tags import Tag
from packaging.utils import NormalizedName, canonicalize_name, parse_wheel_filename
from packaging.version import Version

from checker.discover import WheelRef
from checker.wheel import open_wheel

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Available:
    version: Version
    ref: WheelRef


def index_folder(refs: Sequence[WheelRef], supported: Sequence[Tag]) -> dict[str, list[Available]]:
    """Installable wheels of the folder by project name."""
    accepted = set(supported)
    index: dict[str, list[Available]] = {}
    for ref in refs:
        if ref.project is None:
            continue
        _name, version, _build, tags = parse_wheel_filename(ref.filename)
        if accepted.isdisjoint(tags):
            continue
        index.setdefault(ref.project, []).append(Available(version, ref))
    return index


def _active(req: Requirement, markers: Mapping[str, str], extras: frozenset[str]) -> bool:
    if req.marker is None:
        return True
    try:
        return any(req.marker.evaluate({**markers, "extra": e}) for e in (extras or {""}))
    except UndefinedEnvironmentName:
        return True


def requirement_names(requires_dist: Sequence[str], markers: Mapping[str, str]) -> set[str]:
    """Canonical names of the requirements that apply on the target (no extras)."""
    names: set[str] = set()
    for text in requires_dist:
        try:
            req = Requirement(text)
        except InvalidRequirement:
            continue
        if _active(req, markers, frozenset()):
            names.add(canonicalize_name(req.name))
    return names


def optional_requirements(
    requires_dist: Sequence[str], markers: Mapping[str, str]
) -> dict[str, list[str]]:
    """Canonical names of requirements that apply only with an extra -> those extras."""
    base = requirement_names(requires_dist, markers)
    optional: dict[str, list[str]] = {}
    for text in requires_dist:
        try:
            req = Requirement(text)
        except InvalidRequirement:
            continue
        name = canonicalize_name(req.name)
        if name in base or req.marker is None:
            continue
        for extra in _marker_extras(str(req.marker)):
            if _active(req, markers, frozenset({extra})) and extra not in optional.get(name, []):
                optional.setdefault(name, []).append(extra)
    return optional


def installable_extras(
    requires_dist: Sequence[str], index: Mapping[str, list[Available]], markers: Mapping[str, str]
) -> list[str]:
    """Extras whose every requirement on this target has a matching wheel in the folder.

    The folder is what the users get: an optional backend whose dependency it ships (say
    zstandard's ``cffi`` extra) is tested with that dependency installed.
    """
    requirements: dict[str, list[Requirement]] = {}
    for text in requires_dist:
        try:
            req = Requirement(text)
        except InvalidRequirement:
            continue
        for extra in _marker_extras(str(req.marker)) if req.marker else []:
            if _active(req, markers, frozenset({extra})) and not _active(req, markers, frozenset()):
                requirements.setdefault(extra, []).append(req)
    return sorted(
        extra
        for extra, reqs in requirements.items()
        if all(
            any(
                r.specifier.contains(a.version, prereleases=True)
                for a in index.get(canonicalize_name(r.name), [])
            )
            for r in reqs
        )
    )


def _marker_extras(marker: str) -> list[str]:
    """The extra names a marker compares against (``extra == "cffi"``)."""
    extras = []
    for quote in ('"', "'"):
        for part in marker.split("extra == " + quote)[1:]:
            extras.append(part.split(quote, 1)[0])
    return extras


def find_missing(
    root_project: NormalizedName,
    root_requires: Sequence[str],
    index: Mapping[str, list[Available]],
    markers: Mapping[str, str],
) -> str | None:
    """A readable chain to the first requirement the folder cannot satisfy, or None."""
    todo: list[tuple[Sequence[str], frozenset[str], str]] = [
        (root_requires, frozenset(), root_project)
    ]
    seen: set[tuple[str, frozenset[str]]] = set()
    while todo:
        requires, extras, chain = todo.pop(0)
        for text in requires:
            try:
                req = Requirement(text)
            except InvalidRequirement:
                return f"invalid requirement {text!r} in {chain}"
            if not _active(req, markers, extras):
                continue
            name = canonicalize_name(req.name)
            candidates = [
                a
                for a in index.get(name, [])
                if req.specifier.contains(a.version, prereleases=True)
            ]
            if not candidates:
                have = ", ".join(sorted(str(a.version) for a in index.get(name, [])))
                found = f" (folder has {name} {have})" if have else ""
                return (
                    f"requirement {str(req)!r} of {chain} has no wheel in the packages folder"
                    f"{found}"
                )
            best = max(candidates, key=lambda a: a.version)
            key = (name, frozenset(req.extras))
            if key in seen:
                continue
            seen.add(key)
            contents, _findings = open_wheel(best.ref.path)
            if contents is None:
                continue
            with contents:
                todo.append(
                    (
                        contents.requires_dist,
                        frozenset(req.extras),
                        f"{name} {best.version} <- {chain}",
                    )
                )
    return None
