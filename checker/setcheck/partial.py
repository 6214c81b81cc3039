"""The largest co-installable part of a folder that is not co-installable as a whole.

When uv cannot install the whole folder into one venv (two versions of one project,
conflicting requirements, a requirement the folder lacks), the set check reports that and
goes on with a part of the folder, so that the other set defects (collisions, duplicate
runtimes, co-import failures) of the same folder are still seen:

1. the newest version of each project (older versions are left out);
2. while uv still refuses, the wheels whose projects uv's reason names are left out, those
   that no other kept wheel requires first (the wheel that asks for a conflicting version,
   not the version others need), a bounded number of times.

Every wheel left out is named with why, in the ``not-co-installable`` finding and the set
fragment's details.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from checker.wheel.contents import WheelContents

log = logging.getLogger(__name__)

MAX_TRIES = 4
"""Installs tried after the one of the whole folder: newest versions, then up to three times
without what uv names."""

# Words of uv's free-text reason that may be a project name (backticks, ==, spaces around).
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


@dataclass
class Part:
    """What the set check installed instead of the whole folder."""

    python: Path | None  # the part's venv interpreter; None when no part installed
    wheels: list[WheelContents]
    left_out: dict[str, str] = field(default_factory=dict)  # wheel file name -> why
    tries: int = 0

    def summary(self) -> str:
        """One line for the finding: what the set check went on with."""
        if self.python is None:
            return (
                f"no co-installable part found in {self.tries} tries: collisions and runtimes "
                f"checked on the newest version of each project, no co-import"
            )
        shown = "; ".join(f"{name} ({why})" for name, why in sorted(self.left_out.items()))
        return f"the set check went on with {len(self.wheels)} wheel(s), leaving out: {shown}"


def _version(contents: WheelContents) -> Version | None:
    try:
        return Version(contents.version)
    except InvalidVersion:
        return None


def newest_of_each(wheels: Sequence[WheelContents]) -> tuple[list[WheelContents], dict[str, str]]:
    """The newest version of each project (a version that does not parse counts as oldest),
    and the older ones left out with why."""
    newest: dict[NormalizedName, WheelContents] = {}
    for contents in wheels:
        kept = newest.get(contents.project)
        if kept is None or _newer(contents, kept):
            newest[contents.project] = contents
    chosen = {id(c) for c in newest.values()}
    kept_list = [c for c in wheels if id(c) in chosen]
    left = {
        c.path.name: f"an older version of {c.project} than {newest[c.project].path.name}"
        for c in wheels
        if id(c) not in chosen
    }
    return kept_list, left


def _newer(candidate: WheelContents, kept: WheelContents) -> bool:
    mine, theirs = _version(candidate), _version(kept)
    if mine is None or theirs is None:
        return theirs is None and mine is not None
    # Among wheels of one version (several tags that fit), the first one found stays.
    return mine > theirs


def named_projects(reason: str) -> set[NormalizedName]:
    """The canonical names of every word of uv's reason that could be a project name."""
    return {canonicalize_name(word) for word in _WORD.findall(reason)}


def _required_by_others(wheels: Sequence[WheelContents]) -> dict[NormalizedName, set[str]]:
    """Project -> the wheels (file names) of ``wheels`` that require it (any marker but an
    extra's: a tie-break, not a resolution)."""
    required: dict[NormalizedName, set[str]] = {}
    for contents in wheels:
        for text in contents.requires_dist:
            try:
                req = Requirement(text)
            except InvalidRequirement:
                continue
            if req.marker is not None and "extra" in str(req.marker):
                continue
            required.setdefault(canonicalize_name(req.name), set()).add(contents.path.name)
    return required


def culprits(reason: str, wheels: Sequence[WheelContents]) -> list[WheelContents]:
    """The wheels to leave out next: those uv's reason names, and among them those no other
    kept wheel requires when there are such (the requirer, not the requirement)."""
    named = named_projects(reason)
    hit = [c for c in wheels if c.project in named]
    required = _required_by_others(wheels)
    loose = [c for c in hit if not (required.get(c.project, set()) - {c.path.name})]
    return loose or hit


def largest_part(
    install: Callable[[Sequence[WheelContents]], tuple[Path | None, str]],
    wheels: Sequence[WheelContents],
    reason: str,
) -> Part:
    """Install the largest co-installable part of ``wheels`` that these steps find (``reason``:
    uv's reason for the whole folder); ``install`` makes the venv of a part."""
    kept, left_out = newest_of_each(wheels)
    part = Part(None, list(kept), dict(left_out))
    while part.tries < MAX_TRIES and part.wheels:
        if part.left_out:  # the whole folder was tried already
            part.tries += 1
            part.python, reason = install(part.wheels)
            if part.python is not None:
                return part
        drop = culprits(reason, part.wheels)
        if not drop:
            log.info("set check: uv's reason names no wheel of the folder; no part installed")
            break
        why = "named in uv's reason for the conflict"
        for contents in drop:
            part.left_out[contents.path.name] = why
        part.wheels = [c for c in part.wheels if c not in drop]
    return part
