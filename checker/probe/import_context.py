"""What classifying a failed import needs to know about the wheel's dependencies."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from packaging.tags import Tag

from checker.folder.deps import (
    index_folder,
    optional_requirements,
    requirement_names,
    unsatisfied_extras,
)
from checker.probe.classify import ImportContext
from checker.wheel.contents import WheelContents, open_wheel
from checker.wheel.discover import WheelRef

log = logging.getLogger(__name__)


def _import_names(refs: Iterable[WheelRef]) -> dict[str, str]:
    """Top-level import name -> project, over the folder's wheels."""
    provided: dict[str, str] = {}
    for ref in refs:
        contents, _ = open_wheel(ref.path)
        if contents is not None:
            with contents:
                for name in contents.top_level_names():
                    provided.setdefault(name, str(contents.project))
    return provided


def build_import_context(
    contents: WheelContents,
    refs: Sequence[WheelRef],
    markers: Mapping[str, str],
    raws: Sequence[Mapping[str, Any]],
    installed_extras: Sequence[str],
    *,
    supported: Sequence[Tag] | None = None,
) -> ImportContext:
    """Requirement names always; the folder's import names only when an import missed one."""
    required = requirement_names(contents.requires_dist, markers)
    if not any(r.get("exc_type") == "ModuleNotFoundError" for r in raws):
        return ImportContext(set(), required)
    provided = _import_names(refs)
    index = index_folder(refs, supported)
    unmet = unsatisfied_extras(contents.requires_dist, index, markers, installed_extras)
    declared = {name for name, project in provided.items() if project in required}
    optional: dict[str, str] = {}
    for dist, all_extras in optional_requirements(contents.requires_dist, markers).items():
        extras = [e for e in all_extras if e not in installed_extras]
        if not extras:
            continue
        label = "extra " + ", ".join(repr(e) for e in extras)
        optional[dist] = label
        for name, project in provided.items():
            if project == dist:
                optional.setdefault(name, label)
    return ImportContext(declared, required, optional, provided, unmet)
