"""Known errors: ``{"wheel-or-glob.whl": {"module": "error substring"}}``.

Compatible with the original tool's files. A value may also be a list of substrings.
Matching: the wheel key is the file name or a glob over file names (case-insensitive), the
module is exact, the pattern is a case-insensitive substring of the error.
"""

from __future__ import annotations

import fnmatch
import json
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.utils import InvalidWheelFilename, parse_wheel_filename

from checker.atomic import read_text_if_exists
from checker.errors import InputFileError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Entry:
    wheel_key: str
    module: str
    pattern: str

    def matches_wheel(self, wheel_filename: str) -> bool:
        return fnmatch.fnmatchcase(wheel_filename.lower(), self.wheel_key.lower())

    def matches(self, wheel_filename: str, module: str, error: str) -> bool:
        return (
            self.matches_wheel(wheel_filename)
            and module == self.module
            and self.pattern.lower() in error.lower()
        )


@dataclass(frozen=True)
class Whitelist:
    path: Path | None
    entries: tuple[Entry, ...]

    def match(self, wheel_filename: str, module: str, error: str) -> Entry | None:
        return next((e for e in self.entries if e.matches(wheel_filename, module, error)), None)

    def unused(self, used: Iterable[Entry], wheel_filenames: Iterable[str]) -> list[Entry]:
        """Entries that matched no failure, among keys that matched a wheel of this run."""
        names = list(wheel_filenames)
        used_set = set(used)
        return [
            e
            for e in self.entries
            if e not in used_set and any(e.matches_wheel(name) for name in names)
        ]


def _no_duplicates(path: Path) -> Any:
    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        for key, value in pairs:
            if key in seen:
                raise InputFileError(f"{path}: duplicate key {key!r}")
            seen[key] = value
        return seen

    return hook


def parse_whitelist(text: str, path: Path) -> Whitelist:
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicates(path))
    except json.JSONDecodeError as exc:
        raise InputFileError(
            f"{path}:{exc.lineno}:{exc.colno}: malformed whitelist JSON: {exc.msg}"
        ) from None
    if not isinstance(data, dict):
        raise InputFileError(f"{path}: a whitelist is a JSON object, not {type(data).__name__}")
    entries = []
    for wheel_key, modules in data.items():
        if not isinstance(modules, dict):
            raise InputFileError(f"{path}: {wheel_key!r} must map module names to error substrings")
        if not wheel_key.strip():
            raise InputFileError(f"{path}: empty wheel key (give a file name or a glob)")
        for module, patterns in modules.items():
            if not module.strip():
                raise InputFileError(f"{path}: {wheel_key!r}: empty module name")
            values = [patterns] if isinstance(patterns, str) else patterns
            if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                raise InputFileError(
                    f"{path}: {wheel_key!r} / {module!r}: expected a string or a list of "
                    f"strings, got {patterns!r}"
                )
            for value in values:
                if not value.strip():
                    raise InputFileError(f"{path}: {wheel_key!r} / {module!r}: empty substring")
                entries.append(Entry(wheel_key, module, value))
    return Whitelist(path, tuple(entries))


def load_whitelist(path: Path, *, required: bool) -> Whitelist:
    """Read a whitelist; a missing optional one is empty, a missing required one an error."""
    text = read_text_if_exists(path, "whitelist")
    if text is None:
        if required:
            raise InputFileError(f"{path}: whitelist file does not exist")
        return Whitelist(None, ())
    return parse_whitelist(text, path)


def wheel_glob(wheel_filename: str) -> str:
    """A wheel key that survives a version bump: ``{distribution}-*.whl``."""
    try:
        parse_wheel_filename(wheel_filename)
    except InvalidWheelFilename:
        return wheel_filename
    # The file's own distribution part: the canonical name would not match older file names
    # that keep dots or runs of underscores (``ruamel.yaml.clib-0.2.8-...whl``).
    return f"{wheel_filename.split('-', 1)[0].lower()}-*.whl"


_PATH = re.compile(r"[\\/]")
_HEX = re.compile(r"0x[0-9a-fA-F]{4,}")
# A Windows exception status (NTSTATUS: eight digits, warning or error severity) is the same
# on every machine, an address is not: "exit status 0x80000100", "access violation (0xC0000005)".
_NTSTATUS = re.compile(r"0x[48cC][0-9a-fA-F]{7}")


def _unstable(segment: str) -> bool:
    """A path, or a hex number that is not a Windows exception status (an address)."""
    if _PATH.search(segment):
        return True
    return any(not _NTSTATUS.fullmatch(found.group()) for found in _HEX.finditer(segment))


_AT_FRAME = re.compile(r" \(at [^)]*\)$")


def stable_substring(error: str, limit: int = 120) -> str:
    """A contiguous part of the error that stays the same across machines and runs.

    The first non-blank line is cut at ": " into segments; the longest run of segments without
    paths (a slash or backslash) or hex addresses wins (a Windows exception status such as
    0xC0000005 is no address); library names such as libfoo.so.1 are kept, they are the point
    of the message. It is always a substring of ``error``.
    """
    first = next((text for text in error.splitlines() if text.strip()), "")
    line = _AT_FRAME.sub("", first).strip()
    segments = line.split(": ")
    best: list[str] = []
    run: list[str] = []
    for segment in segments:
        if _unstable(segment):
            run = []
            continue
        run.append(segment)
        if len(": ".join(run)) > len(": ".join(best)):
            best = list(run)
    if not best:  # every segment has a path: keep what comes before the first one
        unstable = _PATH.search(line) or _HEX.search(line)
        best = [line[: unstable.start()] if unstable else line]
    text = ": ".join(best).strip() or line
    return text[:limit].strip()


Snippet = dict[str, dict[str, "str | list[str]"]]


def snippet(failures: Iterable[tuple[str, str, str]]) -> Snippet:
    """A ready-to-paste whitelist for (wheel file name, module, error) failures.

    One substring per module, or a list when a module fails in several ways (say a static
    finding and its import error) that no single substring covers.
    """
    found: dict[str, dict[str, list[str]]] = {}
    for wheel, module, error in failures:
        patterns = found.setdefault(wheel_glob(wheel), {}).setdefault(module, [])
        if not any(p.lower() in error.lower() for p in patterns):
            patterns.append(stable_substring(error))
    return {
        key: {m: p[0] if len(p) == 1 else p for m, p in sorted(modules.items())}
        for key, modules in sorted(found.items())
    }
