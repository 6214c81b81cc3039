"""packages.lock: the exact wheel set per variant and platform, byte for byte.

A TOML file (written with tomli-w, read with tomllib), stable order, no download addresses::

    lock-version = 1
    requirements = ["numpy", "cffi"]

    [[sets]]
    variant = "python-3.11"
    platform = "linux-x64"

    [[sets.wheels]]
    file = "numpy-2.4.6-cp311-cp311-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl"
    project = "numpy"
    version = "2.4.6"
    sha256 = "..."
    size = 16954160
"""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli_w
from packaging.utils import InvalidWheelFilename, parse_wheel_filename

from checker.atomic import read_text_if_exists, write_text_atomic
from checker.errors import InputFileError
from checker.findings import Finding
from checker.wheel.fragment import sha256_file

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

log = logging.getLogger(__name__)

LOCK_VERSION = 1
LOCK_FILE = "packages.lock"
_HEX_DIGITS = frozenset("0123456789abcdef")
HEADER = "# Written by `nox -s lock`: the pinned wheel set per variant and platform.\n"


@dataclass(frozen=True, order=True)
class LockedWheel:
    file: str
    project: str
    version: str
    sha256: str
    size: int


@dataclass(frozen=True)
class LockedSet:
    variant: str
    platform: str
    wheels: tuple[LockedWheel, ...]


@dataclass(frozen=True)
class Lock:
    requirements: tuple[str, ...]
    sets: tuple[LockedSet, ...]

    def find(self, variants: Sequence[str], platform: str) -> LockedSet | None:
        """The set for the first of ``variants`` (e.g. python-3.11.7, then python-3.11)."""
        for variant in variants:
            for item in self.sets:
                if item.variant == variant and item.platform == platform:
                    return item
        return None

    def replace_set(self, new: LockedSet) -> Lock:
        others = [s for s in self.sets if (s.variant, s.platform) != (new.variant, new.platform)]
        return Lock(self.requirements, tuple(sorted([*others, new], key=_set_key)))


def _set_key(item: LockedSet) -> tuple[str, str]:
    return (item.variant, item.platform)


def lock_variants(variant: str, python_version: str) -> list[str]:
    """Lock keys to try: the exact variant, then ``python-X.Y`` of the interpreter."""
    minor = "python-" + ".".join(python_version.split(".")[:2])
    return [variant] if variant == minor else [variant, minor]


def locked_wheel(path: Path) -> LockedWheel:
    name, version, _build, _tags = parse_wheel_filename(path.name)
    sha256, size = sha256_file(path)
    return LockedWheel(path.name, str(name), str(version), sha256, size)


def dumps_lock(lock: Lock) -> str:
    data: dict[str, Any] = {
        "lock-version": LOCK_VERSION,
        "requirements": sorted(lock.requirements),
        "sets": [
            {
                "variant": item.variant,
                "platform": item.platform,
                "wheels": [w.__dict__.copy() for w in sorted(item.wheels)],
            }
            for item in sorted(lock.sets, key=_set_key)
        ],
    }
    return HEADER + tomli_w.dumps(data)


def write_lock(path: Path, lock: Lock) -> Path:
    return write_text_atomic(path, dumps_lock(lock))


def _wheel(path: Path, where: str, raw: Any) -> LockedWheel:
    if not isinstance(raw, dict):
        raise InputFileError(f"{path}: {where} must be a table")
    try:
        wheel = LockedWheel(
            file=str(raw["file"]),
            project=str(raw["project"]),
            version=str(raw["version"]),
            sha256=str(raw["sha256"]).lower(),
            size=int(raw["size"]),
        )
    except KeyError as exc:
        raise InputFileError(f"{path}: {where} lacks {exc.args[0]!r}") from None
    except (ValueError, TypeError) as exc:
        raise InputFileError(f"{path}: {where}: {exc}") from None
    try:
        parse_wheel_filename(wheel.file)
    except InvalidWheelFilename as exc:
        raise InputFileError(f"{path}: {where}: file {wheel.file!r}: {exc}") from None
    if len(wheel.sha256) != 64 or not set(wheel.sha256) <= _HEX_DIGITS:
        raise InputFileError(f"{path}: {where}: sha256 {wheel.sha256!r} is not a sha256 digest")
    if wheel.size < 0:
        raise InputFileError(f"{path}: {where}: size {wheel.size} is negative")
    return wheel


def parse_lock(text: str, path: Path) -> Lock:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputFileError(f"{path}: not valid TOML: {exc}") from None
    if data.get("lock-version") != LOCK_VERSION:
        found = data.get("lock-version")
        raise InputFileError(f"{path}: lock-version {found!r} is not supported ({LOCK_VERSION})")
    sets = []
    raw_sets = data.get("sets", [])
    if not isinstance(raw_sets, list):
        raise InputFileError(f"{path}: sets must be an array of tables")
    for index, raw in enumerate(raw_sets):
        where = f"sets[{index}]"
        if not isinstance(raw, dict) or "variant" not in raw or "platform" not in raw:
            raise InputFileError(f"{path}: {where} needs 'variant' and 'platform'")
        raw_wheels = raw.get("wheels", [])
        if not isinstance(raw_wheels, list):
            raise InputFileError(f"{path}: {where}.wheels must be an array of tables")
        wheels = tuple(_wheel(path, f"{where}.wheels[{i}]", w) for i, w in enumerate(raw_wheels))
        sets.append(LockedSet(str(raw["variant"]), str(raw["platform"]), wheels))
    requirements = data.get("requirements", [])
    if not isinstance(requirements, list) or not all(isinstance(r, str) for r in requirements):
        raise InputFileError(f"{path}: requirements must be a list of strings")
    return Lock(tuple(requirements), tuple(sets))


def read_lock(path: Path) -> Lock | None:
    """The lock at ``path``, None when there is none; a malformed one is an InputFileError.

    Parsed once per process and file version (every session of a run reads it)."""
    try:
        stat = path.stat()
    except OSError:
        stat = None
    if stat is None:
        text = read_text_if_exists(path, "lock")
        return None if text is None else parse_lock(text, path)
    return _read_lock(str(path), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=4)
def _read_lock(path_text: str, _mtime_ns: int, _size: int) -> Lock | None:
    path = Path(path_text)
    text = read_text_if_exists(path, "lock")
    return None if text is None else parse_lock(text, path)


def _finding(kind: str, message: str, file: str) -> Finding:
    return Finding("integrity", "lock", kind, message, file)


def check_against_lock(locked: LockedSet, wheel: Path, sha256: str, size: int) -> Finding | None:
    """A wheel of the folder against the lock: None when it is pinned byte for byte."""
    pinned = {w.file: w for w in locked.wheels}.get(wheel.name)
    where = f"packages.lock ({locked.variant}, {locked.platform})"
    if pinned is None:
        return _finding("lock-extra", f"not pinned in {where}: {wheel.name}", wheel.name)
    if (pinned.sha256, pinned.size) != (sha256, size):
        message = (
            f"differs from its pin in {where}: {wheel.name} has sha256 {sha256[:16]}… "
            f"({size} bytes), pinned {pinned.sha256[:16]}… ({pinned.size} bytes)"
        )
        return _finding("lock-changed", message, wheel.name)
    return None


def missing_from_folder(locked: LockedSet, present: Iterable[str]) -> list[LockedWheel]:
    """Pinned wheels that are not in the folder."""
    names = set(present)
    return [w for w in locked.wheels if w.file not in names]
