"""The installed layout of a wheel: where its files land in a venv, and which of them the
loader finds for a linked library (RPATH candidates on ELF and Mach-O, a DLL's name on PE),
or which of them it ships under a linked library's name anywhere (``InstalledWheel.ships``).

Paths are relative to site-packages; ``.data/data/`` files land in the venv's prefix (see
``WheelContents.landing_path``).
"""

from __future__ import annotations

import functools
import posixpath
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from checker.wheel.contents import open_wheel


class Link(Protocol):
    """A linked library as the audit sees it: its name and the installed paths tried."""

    @property
    def name(self) -> str: ...

    @property
    def candidates(self) -> tuple[str, ...]: ...


@dataclass(frozen=True)
class InstalledWheel:
    """Where a wheel's files land in a venv, relative to its site-packages."""

    filename: str
    files: frozenset[str]
    by_basename: dict[str, tuple[str, ...]]
    """Case-folded base name -> installed paths (for PE's DLL folders)."""

    def find(self, link: Link, format: str) -> str | None:
        """The installed path the loader finds ``link`` at in this wheel, else None."""
        if format == "pe":
            paths = self.by_basename.get(posixpath.basename(link.name).lower(), ())
            return paths[0] if paths else None
        return next((path for path in link.candidates if path in self.files), None)

    def ships(self, link: Link) -> str | None:
        """An installed path of a file named as ``link`` anywhere in this wheel (not only at
        the paths the loader tries), else None: a library the wheel loads when it is
        imported, which the loader then reuses for every binary that needs that soname."""
        name = posixpath.basename(link.name)
        paths = self.by_basename.get(name.lower(), ())
        return next((path for path in paths if posixpath.basename(path) == name), None)


@functools.lru_cache(maxsize=1024)
def _layout(path_text: str, _mtime_ns: int, _size: int, windows: bool) -> InstalledWheel | None:
    contents, _findings = open_wheel(Path(path_text))
    if contents is None:
        return None
    with contents:
        landed = (contents.landing_path(member, windows=windows) for member in contents.names)
        files = {path for path in landed if path}
    by_basename: dict[str, list[str]] = {}
    for file in sorted(files):
        by_basename.setdefault(posixpath.basename(file).lower(), []).append(file)
    return InstalledWheel(
        Path(path_text).name,
        frozenset(files),
        {name: tuple(paths) for name, paths in by_basename.items()},
    )


def installed_layout(path: Path, *, windows: bool = False) -> InstalledWheel | None:
    """The installed layout of the wheel at ``path`` (None: not a readable wheel); read once
    per process and file version (each wheel's central directory only)."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return _layout(str(path), stat.st_mtime_ns, stat.st_size, windows)
