"""Which requirement of a wheel has no wheel in the packages folder (walks Requires-Dist)."""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.markers import UndefinedEnvironmentName
from packaging.requirements import InvalidRequirement, Requirement
from packaging.tags import Tag
from packaging.utils import NormalizedName, canonicalize_name, parse_wheel_filename
from packaging.version import Version

from checker.wheel.contents import open_wheel
from checker.wheel.discover import WheelRef

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Available:
    version: Version
    ref: WheelRef


class FolderIndex(dict[str, list[Available]]):
    """Installable wheels of the folder by project name; each wheel's Requires-Dist is read
    once per process and file version (the requirement walks ask for it again and again)."""

    def requires_of(self, ref: WheelRef) -> tuple[str, ...] | None:
        """The wheel's Requires-Dist (None: not a readable wheel)."""
        try:
            stat = ref.path.stat()
        except OSError:
            return None
        return _requires_dist(str(ref.path), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=4096)
def _requires_dist(path_text: str, _mtime_ns: int, _size: int) -> tuple[str, ...] | None:
    contents, _findings = open_wheel(Path(path_text))
    if contents is None:
        return None
    with contents:
        return tuple(contents.requires_dist)


def index_folder(refs: Sequence[WheelRef], supported: Sequence[Tag] | None) -> FolderIndex:
    """Installable wheels of the folder by project name (``supported`` None: every wheel,
    for the static audit of another platform's folder). Built once per run: the probe of
    every wheel, the audit and the set check ask with the same folder and target."""
    return _index(tuple(refs), None if supported is None else tuple(supported))


@functools.lru_cache(maxsize=16)
def _index(refs: tuple[WheelRef, ...], supported: tuple[Tag, ...] | None) -> FolderIndex:
    accepted = None if supported is None else set(supported)
    index = FolderIndex()
    for ref in refs:
        if ref.project is None:
            continue
        _name, version, _build, tags = parse_wheel_filename(ref.filename)
        if accepted is not None and accepted.isdisjoint(tags):
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


def extra_requirements(
    requires_dist: Sequence[str], markers: Mapping[str, str]
) -> Iterator[tuple[str, Requirement]]:
    """(extra, requirement) for each requirement that applies on the target only with that
    extra (invalid requirements are left out: find_missing names them)."""
    for text in requires_dist:
        try:
            req = Requirement(text)
        except InvalidRequirement:
            continue
        for extra in _marker_extras(str(req.marker)) if req.marker else []:
            if _active(req, markers, frozenset({extra})) and not _active(req, markers, frozenset()):
                yield extra, req


def _satisfied(req: Requirement, index: FolderIndex) -> bool:
    have = index.get(canonicalize_name(req.name), [])
    return any(req.specifier.contains(a.version, prereleases=True) for a in have)


def installable_extras(
    requires_dist: Sequence[str], index: FolderIndex, markers: Mapping[str, str]
) -> list[str]:
    """Extras whose every requirement on this target has a matching wheel in the folder.

    The folder is what the users get: an optional backend whose dependency it ships (say
    zstandard's ``cffi`` extra) is tested with that dependency installed.
    """
    requirements: dict[str, list[Requirement]] = {}
    for extra, req in extra_requirements(requires_dist, markers):
        requirements.setdefault(extra, []).append(req)
    return sorted(
        extra for extra, reqs in requirements.items() if all(_satisfied(r, index) for r in reqs)
    )


def _marker_extras(marker: str) -> list[str]:
    """The extra names a marker compares against (``extra == "cffi"``)."""
    extras = []
    for quote in ('"', "'"):
        for part in marker.split("extra == " + quote)[1:]:
            extras.append(part.split(quote, 1)[0])
    return extras


@dataclass(frozen=True)
class _Step:
    """One requirement met while walking the folder's requirement graph."""

    text: str
    req: Requirement | None  # None: ``text`` is not a valid requirement
    chain: str  # "numpy 2.1 <- scipy" : who asks for it
    found: Available | None  # the newest wheel of the folder that satisfies it
    have: tuple[Available, ...]  # every wheel of the folder of that project


def _walk(
    root_project: NormalizedName,
    root_requires: Sequence[str],
    index: FolderIndex,
    markers: Mapping[str, str],
    root_extras: frozenset[str] = frozenset(),
) -> Iterator[_Step]:
    """Every requirement that applies on the target, breadth first from the root wheel,
    each project and extras set followed once (into the newest wheel that satisfies it)."""
    todo: list[tuple[Sequence[str], frozenset[str], str]] = [
        (root_requires, root_extras, root_project)
    ]
    seen: set[tuple[str, frozenset[str]]] = set()
    while todo:
        requires, extras, chain = todo.pop(0)
        for text in requires:
            try:
                req = Requirement(text)
            except InvalidRequirement:
                yield _Step(text, None, chain, None, ())
                continue
            if not _active(req, markers, extras):
                continue
            name = canonicalize_name(req.name)
            have = tuple(index.get(name, []))
            candidates = [a for a in have if req.specifier.contains(a.version, prereleases=True)]
            best = max(candidates, key=lambda a: a.version) if candidates else None
            yield _Step(text, req, chain, best, have)
            key = (name, frozenset(req.extras))
            if best is None or key in seen:
                continue
            seen.add(key)
            found = index.requires_of(best.ref)
            if found is None:
                continue
            todo.append((found, frozenset(req.extras), f"{name} {best.version} <- {chain}"))


def find_missing(
    root_project: NormalizedName,
    root_requires: Sequence[str],
    index: FolderIndex,
    markers: Mapping[str, str],
) -> str | None:
    """A readable chain to the first requirement the folder cannot satisfy, or None."""
    for step in _walk(root_project, root_requires, index, markers):
        if step.req is None:
            return f"invalid requirement {step.text!r} in {step.chain}"
        if step.found is None:
            name = canonicalize_name(step.req.name)
            have = ", ".join(sorted(str(a.version) for a in step.have))
            found = f" (folder has {name} {have})" if have else ""
            return (
                f"requirement {str(step.req)!r} of {step.chain} has no wheel in the packages "
                f"folder{found}"
            )
    return None


def requirement_closure(
    root_project: NormalizedName,
    root_requires: Sequence[str],
    index: FolderIndex,
    markers: Mapping[str, str],
    extras: Sequence[str] = (),
) -> list[WheelRef]:
    """The folder's wheels an install of the root (with ``extras``) brings along, transitively
    (what its venv will hold besides the root), in the order they are first required."""
    found: dict[WheelRef, None] = {}
    for step in _walk(root_project, root_requires, index, markers, frozenset(extras)):
        if (
            step.found is not None
            and canonicalize_name(step.found.ref.project or "") != root_project
        ):
            found.setdefault(step.found.ref, None)
    return list(found)


def sole_candidates(refs: Sequence[WheelRef], index: FolderIndex) -> list[WheelRef]:
    """The wheels of ``refs`` (a ``requirement_closure``) that are the only installable wheel
    of their project in the folder: uv can install no other for them, so an install may name
    them by path without changing what it resolves (checker.probe.install.install_wheel)."""
    return [ref for ref in refs if len(index.get(canonicalize_name(ref.project or ""), ())) == 1]


def unsatisfied_extras(
    requires_dist: Sequence[str],
    index: FolderIndex,
    markers: Mapping[str, str],
    installed: Sequence[str] = (),
) -> dict[str, list[str]]:
    """Extra -> its requirements on this target that no wheel of the folder satisfies
    (extras that were installed, or that add nothing on this target, are left out)."""
    unmet: dict[str, list[str]] = {}
    for extra, req in extra_requirements(requires_dist, markers):
        if extra not in installed and not _satisfied(req, index):
            shown = f"{req.name}{req.specifier}" if req.specifier else req.name
            unmet.setdefault(extra, []).append(shown)
    return unmet
