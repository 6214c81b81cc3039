"""File I/O of user-facing files: atomic writes (a reader sees the old file or the new one,
never half of one), reads that tell "absent" from "unreadable", and folder removal that
survives Windows' locked files."""

from __future__ import annotations

import functools
import itertools
import json
import logging
import os
import shutil
import stat
import sys
import tempfile
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from checker.errors import InputFileError

log = logging.getLogger(__name__)

_UMASK_LOCK = threading.Lock()
# Windows refuses to replace or delete a file another handle has open (ERROR_ACCESS_DENIED 5,
# ERROR_SHARING_VIOLATION 32): a reader of the same file in another thread or nox worker holds
# it for a moment. Such a failure is retried for about a second; POSIX never raises them.
_BUSY_WINERRORS = frozenset({5, 32})
_RETRY_DELAYS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.4)
_aside = itertools.count()
_REMOVALS: dict[Path, Future[None]] = {}  # remove_tree_later's removals (folder moved aside)
_REMOVALS_LOCK = threading.Lock()


def _busy(exc: OSError) -> bool:
    return getattr(exc, "winerror", None) in _BUSY_WINERRORS


def replace_file(source: Path, target: Path) -> None:
    """``os.replace`` that retries while Windows says the target is in use."""
    for delay in (*_RETRY_DELAYS, None):
        try:
            source.replace(target)
            return
        except PermissionError as exc:
            if delay is None or not _busy(exc):
                raise
            time.sleep(delay)


def remove_tree(folder: Path) -> bool:
    """Remove ``folder`` and everything in it, never raising: read-only files are made
    writable; what Windows will not delete (a hard-linked ``.pyd`` another process has
    loaded) is moved aside into ``.removed-*`` beside it, so the path is free for a new
    venv. True when the path is free; False (logged) when even that failed."""

    def writable_again(function: Any, path: str, _exc: Any) -> None:
        try:
            Path(path).chmod(stat.S_IWRITE | stat.S_IREAD | stat.S_IEXEC)
            function(path)
        except OSError:
            pass  # what is left is moved aside below

    if not folder.exists() and not folder.is_symlink():
        return True
    try:
        if sys.version_info >= (3, 12):
            shutil.rmtree(folder, onexc=writable_again)
        else:
            shutil.rmtree(folder, onerror=writable_again)
    except OSError as exc:
        log.debug("removing %s: %s", folder, exc)
    if not folder.exists():
        return True
    aside = folder.with_name(f".removed-{folder.name}-{os.getpid()}-{next(_aside)}")
    try:
        folder.rename(aside)
    except OSError as exc:
        log.warning("cannot remove %s nor move it aside: %s", folder, exc)
        return False
    shutil.rmtree(aside, ignore_errors=True)  # what is locked stays until a later run
    return True


def remove_tree_later(folder: Path) -> bool:
    """Free ``folder``'s path at once and remove what was in it on a background thread: the
    folder is renamed to ``.removed-*`` beside it (one rename, where removing a venv with
    torch's 15,000 files takes most of a second). The process waits for the removals before
    it ends; what it could not finish (killed) ``remove_leftovers`` removes in a later run.
    Where the rename fails (Windows: a file of it in use), ``remove_tree`` does it now."""
    if not folder.exists() and not folder.is_symlink():
        return True
    aside = folder.with_name(f".removed-{folder.name}-{os.getpid()}-{next(_aside)}")
    try:
        folder.rename(aside)
    except OSError:
        return remove_tree(folder)
    with _REMOVALS_LOCK:
        _REMOVALS[aside] = _remover().submit(shutil.rmtree, aside, True)
    return True


def finish_removals() -> None:
    """Wait for the removals ``remove_tree_later`` started."""
    with _REMOVALS_LOCK:
        pending = dict(_REMOVALS)
        _REMOVALS.clear()
    for future in pending.values():
        future.result()


@functools.cache
def _remover() -> ThreadPoolExecutor:
    # One thread: removal is disk-bound, and its workers are joined when the interpreter ends.
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="remove-later")


def remove_leftovers(parent: Path) -> None:
    """Remove what ``remove_tree`` and ``remove_tree_later`` moved aside in ``parent`` earlier
    (best effort); what this process is removing in the background is left to it."""
    with _REMOVALS_LOCK:
        busy = {path for path, future in _REMOVALS.items() if not future.done()}
    try:
        leftovers = [p for p in parent.iterdir() if p.name.startswith(".removed-")]
    except OSError:
        return
    leftovers = [p for p in leftovers if p not in busy]
    for path in leftovers:
        shutil.rmtree(path, ignore_errors=True)


@functools.lru_cache(maxsize=1)
def _umask() -> int:
    """The process umask, read once: reading it means setting it, which other threads (the
    ``--jobs`` pipeline) must never observe half-way."""
    with _UMASK_LOCK:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def read_text_if_exists(path: Path, what: str) -> str | None:
    """The text of ``path``; None when it does not exist; InputFileError when unreadable."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputFileError(f"{path}: cannot read {what}: {exc}") from None


def write_text_atomic(target: Path, text: str) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}-", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        # mkstemp makes the file 0600; give the result the mode a plain open() would.
        Path(tmp).chmod(0o666 & ~_umask())
        replace_file(Path(tmp), target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def write_json_atomic(
    target: Path, data: Any, *, sort_keys: bool = False, compact: bool = False
) -> Path:
    """JSON for people (2-space indent), or ``compact`` for machine-only files."""
    if compact:
        text = json.dumps(data, sort_keys=sort_keys, separators=(",", ":"))
    else:
        text = json.dumps(data, indent=2, sort_keys=sort_keys)
    return write_text_atomic(target, text + "\n")
