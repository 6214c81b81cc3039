"""What the install of one wheel brings along from its folder, for the static audit.

The requirement closure of the wheel (with the extras it is installed with) among the
folder's wheels, evaluated with the target's markers, and the folder's other wheels: the
input of checker.audit.across. Nothing is opened until a link needs it.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping, Sequence

from packaging.tags import Tag

from checker.audit.across import Surroundings
from checker.audit.policy import NameList
from checker.folder.deps import index_folder, requirement_closure
from checker.folder.layout import InstalledWheel, installed_layout
from checker.wheel.contents import WheelContents
from checker.wheel.discover import WheelRef

log = logging.getLogger(__name__)


def _layouts(refs: Sequence[WheelRef], windows: bool) -> tuple[InstalledWheel, ...]:
    found = (installed_layout(ref.path, windows=windows) for ref in refs)
    return tuple(layout for layout in found if layout is not None)


def surroundings(
    contents: WheelContents,
    refs: Sequence[WheelRef],
    *,
    markers: Mapping[str, str],
    supported: Sequence[Tag] | None,
    extras: Sequence[str],
    accepted: Sequence[str],
    platform: str,
) -> Surroundings:
    """The surroundings of ``contents`` installed from the folder ``refs`` (``supported``
    None: every wheel of the folder counts, as for another platform's folder)."""
    windows = platform.startswith("windows")

    @functools.cache
    def closure() -> tuple[WheelRef, ...]:
        index = index_folder(refs, supported)
        found = requirement_closure(
            contents.project, contents.requires_dist, index, markers, extras
        )
        log.debug("%s brings along %s", contents.path.name, [r.filename for r in found])
        return tuple(found)

    @functools.cache
    def others() -> tuple[InstalledWheel, ...]:
        inside = set(closure())
        rest = [r for r in refs if r not in inside and r.path != contents.path]
        return _layouts(rest, windows)

    return Surroundings(
        project=str(contents.project),
        closure=functools.cache(lambda: _layouts(closure(), windows)),
        others=others,
        accepted=NameList(tuple(a.lower() if windows else a for a in accepted), fold=windows),
    )
