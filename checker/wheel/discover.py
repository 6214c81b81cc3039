"""Find the wheels of a packages folder and select them by file name, glob or project name."""

from __future__ import annotations

import fnmatch
import logging
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import (
    InvalidWheelFilename,
    NormalizedName,
    canonicalize_name,
    parse_wheel_filename,
)

from checker.errors import SetupError, UsageError

log = logging.getLogger(__name__)

_GLOB_CHARS = frozenset("*?[")


@dataclass(frozen=True)
class WheelRef:
    """A wheel file of the packages folder, as named by its file name."""

    path: Path
    project: NormalizedName | None  # None when the file name is not a valid wheel name
    version: str | None
    name_error: str | None
    session_id: str

    @property
    def filename(self) -> str:
        return self.path.name


def _ref(path: Path) -> tuple[WheelRef, str]:
    try:
        name, version, _build, _tags = parse_wheel_filename(path.name)
    except InvalidWheelFilename as exc:
        return WheelRef(path, None, None, str(exc), path.stem), path.stem
    return WheelRef(path, name, str(version), None, ""), f"{name}-{version}"


def wheel_ref(path: Path) -> WheelRef:
    """A WheelRef for one file (which need not exist yet, e.g. a pinned wheel to fetch)."""
    ref, short = _ref(path)
    return WheelRef(ref.path, ref.project, ref.version, ref.name_error, short.lower())


def discover(folder: Path) -> list[WheelRef]:
    """Every ``*.whl`` in ``folder`` (not recursive), sorted, with unique session ids."""
    if not folder.exists():
        raise SetupError(
            f"packages folder {str(folder)!r} does not exist "
            "(set NATIVE_CHECK_PACKAGES or create ./packages)"
        )
    if not folder.is_dir():
        raise SetupError(f"packages folder {str(folder)!r} is not a folder")
    paths = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".whl" and p.is_file())
    if not paths:
        raise SetupError(f"packages folder {str(folder)!r} contains no wheels (*.whl)")
    pairs = [_ref(p) for p in paths]
    counts = Counter(short for _ref_, short in pairs)
    refs = []
    taken: set[str] = set()
    for ref, short in pairs:
        # Two wheels of one project and version (other tags or builds) keep the full name.
        session_id = (short if counts[short] == 1 else ref.path.name[: -len(".whl")]).lower()
        # File names that differ only in case still need distinct ids.
        unique, n = session_id, 1
        while unique in taken:
            n += 1
            unique = f"{session_id}-{n}"
        taken.add(unique)
        refs.append(WheelRef(ref.path, ref.project, ref.version, ref.name_error, unique))
    return refs


def matches(ref: WheelRef, pattern: str) -> bool:
    """A pattern is a wheel file name, a glob over file names, or a project name."""
    lowered = pattern.lower()
    if lowered.endswith(".whl") or _GLOB_CHARS & set(pattern):
        return fnmatch.fnmatchcase(ref.filename.lower(), lowered)
    if ref.project is not None and canonicalize_name(pattern) == ref.project:
        return True
    return ref.session_id == lowered


def select(refs: Sequence[WheelRef], patterns: Iterable[str]) -> list[WheelRef]:
    """The wheels matching any pattern (all without patterns); an unmatched pattern is an error."""
    patterns = [p for p in patterns if p.strip()]
    if not patterns:
        return list(refs)
    unmatched = [p for p in patterns if not any(matches(r, p) for r in refs)]
    if unmatched:
        folder = refs[0].path.parent if refs else Path()
        raise UsageError(
            f"no wheel in {str(folder)!r} matches {', '.join(map(repr, unmatched))} "
            "(give a wheel file name, a glob such as 'numpy-*', or a project name)"
        )
    return [r for r in refs if any(matches(r, p) for p in patterns)]
