"""The layouts of a CPython distribution the users ship, and what each needs.

- ``posix``: ``{root}/bin/python3`` with ``{root}/lib/pythonX.Y/``.
- ``windows-installer``: python.org's installer layout, ``{root}/python.exe`` with
  ``{root}/Lib/`` and ``{root}/DLLs/`` (``Scripts/`` may be absent).
- ``windows-embeddable``: python.org's embeddable build, a ``pythonXY._pth`` beside
  ``python.exe`` listing the stdlib (``python312.zip`` or a folder it was extracted to), the
  interpreter's own folder and ``import site``; no ``Scripts/``, no ``Lib/``; the files in the
  distribution's root or in ``{root}/bin/``.

A ``._pth`` beside an interpreter replaces its whole search path (sys.path is its entries,
isolated mode, no PYTHONPATH). ``uv venv`` copies python.exe and its DLLs into the venv's
``Scripts/`` but not the ``._pth`` nor the stdlib it names: without a ``._pth`` of its own the
venv's interpreter cannot find ``encodings`` and dies at start-up. ``write_venv_pth`` gives
it one: the base's entries made absolute, the venv's own site-packages, ``import site``, and
never the base's site-packages (the venv stays isolated from it).
"""

from __future__ import annotations

import ntpath
import os
from dataclasses import dataclass
from pathlib import Path, PureWindowsPath

POSIX = "posix"
WINDOWS_INSTALLER = "windows-installer"
WINDOWS_EMBEDDABLE = "windows-embeddable"

# Base entries that are site-packages folders: the venv must not see the base's packages.
_SITE_FOLDERS = frozenset({"site-packages", "dist-packages"})


@dataclass(frozen=True)
class Layout:
    kind: str  # POSIX | WINDOWS_INSTALLER | WINDOWS_EMBEDDABLE
    interpreter: Path
    root: Path  # the distribution's root folder
    pth: Path | None = None  # the embeddable build's ``._pth``

    @property
    def packages(self) -> Path:
        """The default packages folder of this distribution: ``{root}/packages``."""
        return self.root / "packages"


def _pth_of(folder: Path) -> Path | None:
    try:
        found = sorted(p for p in folder.iterdir() if p.name.lower().endswith("._pth"))
    except OSError:
        return None
    return found[0] if found else None


def detect_layout(interpreter: Path) -> Layout:
    """The layout ``interpreter`` (a path to its executable) belongs to, from its files."""
    interpreter = interpreter.absolute()
    folder = interpreter.parent
    # The users keep python.exe (or bin/python3) in ``bin/`` of the distribution: its root is
    # then the parent; otherwise the interpreter's own folder is the root.
    root = folder.parent if folder.name.lower() == "bin" else folder
    pth = _pth_of(folder)
    if pth is not None:
        return Layout(WINDOWS_EMBEDDABLE, interpreter, root, pth)
    if interpreter.suffix.lower() == ".exe" or (folder / "Lib" / "os.py").is_file():
        return Layout(WINDOWS_INSTALLER, interpreter, root)
    return Layout(POSIX, interpreter, root)


def _is_absolute(entry: str) -> bool:
    return PureWindowsPath(entry).is_absolute() or entry.startswith(("/", "\\"))


def pth_entries(pth: Path) -> tuple[list[str], bool]:
    """The path entries of a ``._pth`` file (as written) and whether it imports site."""
    text = pth.read_text(encoding="utf-8-sig", errors="replace")
    entries: list[str] = []
    imports_site = False
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("import "):
            imports_site = imports_site or line.split()[1:] == ["site"]
            continue
        entries.append(line)
    return entries, imports_site


def _absolute_entry(folder: Path, entry: str) -> str:
    """A ``._pth`` entry (relative to the ``._pth``'s folder, with ``\\`` or ``/``) made
    absolute in this system's own spelling."""
    if _is_absolute(entry):
        return entry
    parts = [p for p in entry.replace("\\", "/").split("/") if p]
    return os.path.normpath(folder.joinpath(*parts))


def _is_site_folder(entry: str) -> bool:
    last = ntpath.basename(entry.replace("/", "\\").rstrip("\\"))
    return last.lower() in _SITE_FOLDERS


def venv_pth_text(layout: Layout, scripts: Path) -> str:
    """The ``._pth`` for a venv made from an embeddable ``layout``, whose interpreter is in
    ``scripts`` (the venv's ``Scripts/``)."""
    assert layout.pth is not None
    entries, _imports_site = pth_entries(layout.pth)
    base = layout.pth.parent
    lines = [
        "# written by native-import-checker: the base's entries (absolute), without its",
        "# site-packages, and this venv's own site-packages",
    ]
    lines += [_absolute_entry(base, e) for e in entries if not _is_site_folder(e)]
    lines.append(str(Path("..", "Lib", "site-packages")))
    lines.append("import site")
    return "\n".join(lines) + "\n"


def write_venv_pth(interpreter: Path, scripts: Path) -> Path | None:
    """Give a venv made from an embeddable ``interpreter`` the ``._pth`` it needs to start
    (in ``scripts``, beside the venv's interpreter); None for the other layouts."""
    layout = detect_layout(interpreter)
    if layout.kind != WINDOWS_EMBEDDABLE or layout.pth is None:
        return None
    target = scripts / layout.pth.name
    target.write_text(venv_pth_text(layout, scripts), encoding="utf-8")
    return target
