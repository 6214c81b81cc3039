"""A wheel with nothing native to import: checked without a venv of its own.

A wheel without extension candidates has no module to import, so a venv of its own would
prove only that it installs. Its names-only checks, RECORD, metadata and static audit run as
for any wheel (from the archive); its requirements are resolved against the packages folder
offline: the folder walk (``missing-dependency``) always, and uv's resolver (``uv pip
compile``, nothing written) when the run has no set check to install it (wheels named after
``--``, the set check turned off). In a run with the set check, the set check's one venv
proves the install, and names such a wheel when it cannot be installed (see
checker.setcheck.alone).
"""

from __future__ import annotations

import logging
import subprocess
from collections.abc import Sequence
from pathlib import Path

from checker.config.context import RunContext
from checker.config.platforms import supported_tags
from checker.findings import Finding
from checker.folder.deps import find_missing, index_folder
from checker.probe.install import find_uv, uv_environment
from checker.wheel.contents import Candidate, WheelContents
from checker.wheel.discover import WheelRef

log = logging.getLogger(__name__)

# The fragment's install status of such a wheel: not installed, its requirements resolved.
RESOLVED = "resolved"
_TAIL_LINES = 12


def has_nothing_to_import(candidates: Sequence[Candidate]) -> bool:
    """No file the target interpreter would load as an extension module: no venv needed."""
    return not candidates


def resolve_offline(uv: str, interpreter: Path, packages: Path, wheel: Path) -> str | None:
    """uv's reason ``wheel`` with its requirements cannot be resolved from ``packages`` alone
    for ``interpreter`` (offline, no index, no build, no venv); None when it resolves."""
    command = [uv, "pip", "compile", "--no-config", "--offline", "--no-index", "--no-build",
               "--find-links", str(packages), "--python", str(interpreter), "--no-header",
               "--quiet", "-"]  # fmt: skip
    requirement = f"{_project(wheel)} @ {wheel.absolute().as_uri()}\n"
    log.debug("resolving %s offline: %s", wheel.name, " ".join(command))
    proc = subprocess.run(
        command, input=requirement, capture_output=True, text=True, encoding="utf-8",
        errors="replace", env=uv_environment(), check=False,
    )  # fmt: skip
    if proc.returncode == 0:
        return None
    lines = [line.rstrip() for line in (proc.stderr + proc.stdout).splitlines() if line.strip()]
    return "\n".join(lines[-_TAIL_LINES:]) or f"uv pip compile exited with {proc.returncode}"


def _project(wheel: Path) -> str:
    return wheel.name.split("-", 1)[0]


def requirement_finding(
    ctx: RunContext,
    refs: Sequence[WheelRef],
    contents: WheelContents,
    *,
    with_uv: bool,
) -> Finding | None:
    """Why the wheel would not install from the folder (None: it would): a requirement the
    folder lacks (the walk), else, ``with_uv``, uv's reason its resolution fails."""
    index = index_folder(refs, supported_tags(ctx.info))
    missing = find_missing(contents.project, contents.requires_dist, index, ctx.info.markers)
    if missing:
        return Finding("install", "install", "missing-dependency", missing)
    if not with_uv:
        return None
    reason = resolve_offline(find_uv(), ctx.interpreter, ctx.packages, contents.path)
    if reason is None:
        return None
    error = f"uv cannot resolve it from the packages folder: {reason}"
    return Finding("install", "install", "install-error", error)
