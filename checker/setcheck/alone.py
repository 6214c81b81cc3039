"""When the folder does not install as one environment: which wheel cannot install at all.

A wheel with nothing to import gets no venv of its own (checker.probe.pure): the set check's
venv is what proves it installs. When that venv cannot be made, each such wheel uv's reason
names is resolved alone against the folder (offline, no venv); one that fails even alone is
named on its own, with uv's reason for it, as its own install would have named it. The rest
of uv's reason stays one ``not-co-installable`` finding over the wheels that conflict.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from checker.config.context import RunContext
from checker.findings import SetFinding
from checker.probe.install import find_uv
from checker.probe.pure import has_nothing_to_import, resolve_offline
from checker.wheel.contents import WheelContents, extension_candidates

log = logging.getLogger(__name__)

# Wheels resolved alone at most (each is one uv run): uv's reason names a few.
MAX_ALONE = 16


def not_installable(
    ctx: RunContext, reason: str, named: Sequence[WheelContents]
) -> list[SetFinding]:
    """The findings of a failed co-install: ``named`` are the wheels uv's ``reason`` names."""
    without_venv = [
        c for c in named if has_nothing_to_import(extension_candidates(c, ctx.info.ext_suffixes))
    ]
    alone: list[SetFinding] = []
    if len(without_venv) <= MAX_ALONE:
        uv = find_uv()
        for contents in without_venv:
            why = resolve_offline(uv, ctx.interpreter, ctx.packages, contents.path)
            if why is not None:
                name = contents.path.name
                error = f"uv cannot install {name} from the packages folder, even alone: {why}"
                alone.append(SetFinding("install-error", (name,), error))
    failing = {f.wheels[0] for f in alone}
    rest = tuple(c.path.name for c in named if c.path.name not in failing)
    error = f"uv cannot install the folder as one environment: {reason}"
    return [*alone, SetFinding("not-co-installable", rest or tuple(sorted(failing)), error)]
