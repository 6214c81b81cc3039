"""Whitelist upkeep from the last report: add the new failures, prune stale entries, check files.

Each command touches exactly one whitelist file (update, prune) or none (check), writes it
with sorted keys and a 2-space indent, and returns the lines describing what changed.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from checker.atomic import read_text_if_exists, write_text_atomic
from checker.errors import InputFileError
from checker.verdict.whitelist import Entry, Snippet, parse_whitelist
from checker.wheel.lock import Lock

log = logging.getLogger(__name__)

Data = dict[str, dict[str, Any]]


@dataclass(frozen=True)
class LastVariant:
    """One variant of the last report: where its whitelist is and its new failures."""

    variant: str
    platform: str
    whitelist_path: str | None
    snippet: Snippet


@dataclass(frozen=True)
class LastReport:
    """What upkeep needs from report.json (a single run's, or a run's over variants)."""

    variants: tuple[LastVariant, ...]
    unused: tuple[tuple[str | None, Entry], ...]
    """Stale entries with their whitelist file (across every variant of a run)."""

    @property
    def variant(self) -> str:
        return self.variants[0].variant

    @property
    def platform(self) -> str:
        return self.variants[0].platform


def _entry(data: dict[str, Any]) -> Entry:
    return Entry(data["wheel_key"], data["module"], data["pattern"])


def _last_variant(data: dict[str, Any]) -> LastVariant:
    return LastVariant(
        variant=str(data["variant"]),
        platform=str(data["platform"]),
        whitelist_path=data.get("whitelist_path"),
        snippet=dict(data["whitelist_snippet"]),
    )


def read_report(path: Path) -> LastReport:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if "variants" in data:
            return LastReport(
                variants=tuple(_last_variant(item) for item in data["variants"]),
                unused=tuple((e["whitelist_path"], _entry(e)) for e in data["unused_whitelist"]),
            )
        single = _last_variant(data)
        return LastReport(
            variants=(single,),
            unused=tuple((single.whitelist_path, _entry(e)) for e in data["unused_whitelist"]),
        )
    except FileNotFoundError:
        raise InputFileError(f"{path}: no report yet: run `nox -s check_native` first") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputFileError(f"{path}: not a readable report.json: {exc}") from None


def _load(path: Path) -> Data:
    text = read_text_if_exists(path, "whitelist")
    if text is None:
        return {}
    parse_whitelist(text, path)  # validates, with file:line:col
    data: Data = json.loads(text)
    return data


def dumps_whitelist(data: Data) -> str:
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def update(path: Path, snippet: Snippet) -> list[str]:
    """Add a report's snippet (the failures not yet whitelisted) to ``path``."""
    data = _load(path)
    changes = []
    pairs = [
        (wheel_key, module, pattern)
        for wheel_key, modules in sorted(snippet.items())
        for module, value in sorted(modules.items())
        for pattern in ([value] if isinstance(value, str) else value)
    ]
    for wheel_key, module, pattern in pairs:
        existing = data.setdefault(wheel_key, {}).get(module)
        if existing is None:
            data[wheel_key][module] = pattern
        elif pattern in ([existing] if isinstance(existing, str) else existing):
            continue
        else:
            values = [existing] if isinstance(existing, str) else list(existing)
            data[wheel_key][module] = [*values, pattern]
        changes.append(f"added {wheel_key} / {module}: {pattern!r}")
    if changes:
        write_text_atomic(path, dumps_whitelist(data))
    return changes


def prune(path: Path, stale: Iterable[Entry]) -> list[str]:
    """Remove stale entries from ``path``; empty modules and wheel keys go too."""
    data = _load(path)
    changes = []
    for entry in stale:
        modules = data.get(entry.wheel_key)
        if modules is None or entry.module not in modules:
            continue
        value = modules[entry.module]
        values = [value] if isinstance(value, str) else list(value)
        if entry.pattern not in values:
            continue
        values.remove(entry.pattern)
        if not values:
            del modules[entry.module]
        else:
            modules[entry.module] = values[0] if len(values) == 1 else values
        if not modules:
            del data[entry.wheel_key]
        changes.append(f"removed {entry.wheel_key} / {entry.module}: {entry.pattern!r}")
    if changes:
        write_text_atomic(path, dumps_whitelist(data))
    return changes


def check(root: Path, lock: Lock | None) -> list[str]:
    """Problems of every whitelist file under ``root``: validity, and keys matching no pin."""
    problems = []
    for path in sorted([*root.glob("*.json"), *root.glob("*/*.json")]):
        try:
            whitelist = parse_whitelist(path.read_text(encoding="utf-8"), path)
        except InputFileError as exc:
            problems.append(str(exc))
            continue
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(f"{path}: cannot read: {exc}")
            continue
        platform = path.stem
        if path.parent == root:  # shared by every variant: any of the lock's sets counts
            sets = [s for s in lock.sets if s.platform == platform] if lock else []
            where = f"any variant/{platform}"
        else:
            variant = path.parent.name
            minor = ".".join(variant.split(".")[:2])
            found = lock.find([variant, minor], platform) if lock else None
            sets = [found] if found else []
            where = f"{variant}/{platform}"
        if not sets:
            continue
        files = [w.file for pinned in sets for w in pinned.wheels]
        for key in sorted({e.wheel_key for e in whitelist.entries}):
            probe = Entry(key, "", "")
            if not any(probe.matches_wheel(name) for name in files):
                problems.append(f"{path}: wheel key {key!r} matches no wheel pinned for {where}")
    return problems
