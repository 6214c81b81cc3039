"""What is removed of the probes' venvs and their bytecode, and when.

A wheel's venvs live in ``{work}/venvs/{session}/{key}`` (the key: its bytes and the folder's
listing, see RunContext.venv_dir) and their bytecode in the mirror of that path in the one
bytecode tree. Checking a wheel again removes its earlier venvs and their bytecode, except
the bytecode of the venv made anew at the same path (still valid there). The aggregate
removes the venvs of wheels no longer in the folder. ``nox -s clean`` removes everything.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

from checker.atomic import remove_leftovers, remove_tree, remove_tree_later
from checker.config.context import RunContext
from checker.probe.bytecode import mirror

log = logging.getLogger(__name__)


def _children(folder: Path) -> list[Path]:
    try:
        return list(folder.iterdir())
    except OSError:
        return []


def discard_venvs(ctx: RunContext, folder: Path, keep_bytecode_of: str | None = None) -> None:
    """Remove every venv of a wheel (``folder`` holds one per key) and their bytecode, except
    the bytecode of the key ``keep_bytecode_of``."""
    # Never half-removed: the folder is moved aside and removed in the background, or what
    # Windows keeps (a loaded .pyd) is moved aside, not left in a venv that the next run
    # would trip over (see checker.atomic.remove_tree_later and remove_tree).
    remove_leftovers(folder.parent)
    remove_tree_later(folder)
    for entry in _children(mirror(ctx.pycache_dir, folder)):
        if entry.name != keep_bytecode_of:
            remove_tree(entry)


def prune_venvs(ctx: RunContext, session_ids: Iterable[str]) -> list[str]:
    """Remove the venvs and bytecode of wheels whose session is not in ``session_ids``
    (wheels gone from the folder); returns the session ids removed."""
    keep = set(session_ids)
    root = ctx.venvs_root
    remove_leftovers(root)  # what an earlier removal had to move aside
    gone = {p.name for p in _children(root)} | {
        p.name for p in _children(mirror(ctx.pycache_dir, root))
    }
    removed = sorted(name for name in gone - keep if not name.startswith(".removed-"))
    for name in removed:
        remove_tree(root / name)
        remove_tree(mirror(ctx.pycache_dir, root / name))
    if removed:
        log.info("removed the venvs of %d wheel(s) no longer in the folder", len(removed))
    return removed
