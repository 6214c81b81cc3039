"""File I/O of user-facing files: atomic writes (a reader sees the old file or the new one,
never half of one) and reads that tell "absent" from "unreadable"."""

from __future__ import annotations

import functools
import json
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

from checker.errors import InputFileError

_UMASK_LOCK = threading.Lock()


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
        Path(tmp).replace(target)
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
