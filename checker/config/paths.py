"""Where a run's files are by default: the packages folder beside the interpreter, the
whitelist file of a variant and platform."""

from __future__ import annotations

from pathlib import Path

from checker.config.layouts import detect_layout


def default_packages_folder(interpreter: Path, project_dir: Path) -> Path:
    """``packages/`` in the root of the interpreter's distribution (python.exe in the root:
    beside it; ``bin/python3`` or ``bin/python.exe``: ``../packages``, as the original tool),
    else ./packages."""
    beside = detect_layout(interpreter).packages
    if beside.is_dir():
        return beside
    return project_dir / "packages"


def whitelist_candidates(project_dir: Path, variant: str, platform: str) -> list[Path]:
    """Where a run's whitelist may be, most specific first: ``whitelists/{variant}/`` (one
    file per variant), ``whitelists/python-X.Y/`` (for a ``python-X.Y.Z`` variant: every patch
    release), ``whitelists/`` itself (the original tool's one file per platform, shared by
    every variant); each ``{platform}.json``."""
    folder = project_dir / "whitelists"
    found = [folder / variant / f"{platform}.json"]
    minor = ".".join(variant.split(".")[:2])
    if minor != variant:
        found.append(folder / minor / f"{platform}.json")
    found.append(folder / f"{platform}.json")
    return found


def default_whitelist_path(project_dir: Path, variant: str, platform: str) -> Path:
    """The first of ``whitelist_candidates`` that exists; the per-variant file when none does
    (a missing default is an empty whitelist, and ``update`` creates that file)."""
    candidates = whitelist_candidates(project_dir, variant, platform)
    return next((path for path in candidates if path.is_file()), candidates[0])
