"""The other CPythons the tests may check against, found once, the same way for every test.

``NATIVE_CHECK_TEST_PYTHONS`` lists interpreter paths (``os.pathsep``-separated: ``:`` on
POSIX, ``;`` on Windows); when it is unset, pyenv's versions are the fallback
(``$PYENV_ROOT`` or ``~/.pyenv``). A path that cannot be looked at (a home the user may not
read: ``Path.exists`` raises PermissionError) counts as absent. Only CPython 3.8 and later
counts: the probe runs on any of those.
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ENV_VAR = "NATIVE_CHECK_TEST_PYTHONS"
OLDEST = (3, 8)

_VERSION_SCRIPT = (
    "import platform, sys; "
    "print(platform.python_implementation(), platform.python_version(), sys.executable)"
)


@dataclass(frozen=True)
class OtherPython:
    path: Path
    version: str  # "3.12.1"

    @property
    def minor(self) -> tuple[int, int]:
        major, minor = self.version.split(".")[:2]
        return int(major), int(minor)

    @property
    def short(self) -> str:
        """``3.12``: what a report's ``python`` field starts with."""
        return "{}.{}".format(*self.minor)


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:  # PermissionError on a home the user may not read, ELOOP, ...
        return False


def _pyenv_candidates() -> list[Path]:
    root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    try:
        versions = sorted(root.iterdir())
    except OSError:  # absent or unreadable
        return []
    return [v / "bin" / "python3" for v in versions]


def candidates() -> tuple[Path, ...]:
    """The paths named by NATIVE_CHECK_TEST_PYTHONS, else pyenv's versions (unchecked)."""
    listed = os.environ.get(ENV_VAR, "")
    if listed.strip():
        return tuple(Path(p) for p in listed.split(os.pathsep) if p.strip())
    return tuple(_pyenv_candidates())


@functools.cache
def _describe(path: Path) -> OtherPython | None:
    if not _is_file(path):
        return None
    try:
        command = [str(path), "-c", _VERSION_SCRIPT]
        proc = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    fields = proc.stdout.split(maxsplit=2)
    if proc.returncode != 0 or len(fields) != 3 or fields[0] != "CPython":
        return None
    found = OtherPython(path, fields[1])
    return found if found.minor >= OLDEST else None


def _same_as_running(other: OtherPython) -> bool:
    try:
        return other.path.resolve() == Path(sys.executable).resolve()
    except OSError:
        return False


def others() -> tuple[OtherPython, ...]:
    """Every usable CPython >= 3.8 but the running one, oldest first, one per version."""
    seen: dict[str, OtherPython] = {}
    for path in candidates():
        found = _describe(path)
        if found is not None and not _same_as_running(found) and found.version not in seen:
            seen[found.version] = found
    return tuple(sorted(seen.values(), key=lambda p: tuple(map(_number, p.version.split(".")))))


def _number(part: str) -> int:
    digits = "".join(c for c in part if c.isdigit())
    return int(digits or 0)


def other_minor() -> tuple[OtherPython, ...]:
    """The other CPythons whose X.Y differs from the running interpreter's."""
    return tuple(p for p in others() if p.minor != sys.version_info[:2])


def missing_reason(what: str = "a second CPython (another X.Y than the running one)") -> str:
    """The skip reason when nothing fits: what was needed, and where it was looked for."""
    listed = os.environ.get(ENV_VAR, "").strip()
    where = (
        f"{ENV_VAR}={listed!r}"
        if listed
        else f"{ENV_VAR} unset and no usable pyenv version under "
        f"{os.environ.get('PYENV_ROOT') or '~/.pyenv'}"
    )
    return f"needs {what}: {where}"
