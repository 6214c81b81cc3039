"""What a run checks: the wheels named after ``--`` and, with sharding, this shard's share
(and ``--jobs N``: how many at once)."""

from __future__ import annotations

import fnmatch
import heapq
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from checker.config.settings import as_jobs
from checker.errors import UsageError
from checker.wheel.discover import WheelRef, matches, select

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Shard:
    index: int  # 1-based
    count: int

    @classmethod
    def parse(cls, text: str, source: str) -> Shard:
        index_text, _, count_text = text.partition("/")
        try:
            index, count = int(index_text), int(count_text)
        except ValueError:
            raise UsageError(f"{source} {text!r} is not of the form i/n (e.g. 1/4)") from None
        if not 1 <= index <= count:
            raise UsageError(f"{source} {text!r}: i must be between 1 and n")
        return cls(index, count)


@dataclass(frozen=True)
class Selection:
    patterns: tuple[str, ...]
    shard: Shard | None
    jobs: int | None = None  # --jobs N after ``--``; None: the jobs setting
    variants: tuple[str, ...] = ()  # --variant NAME|GLOB (repeatable); none: every variant


def parse_posargs(posargs: Sequence[str], shard_setting: str | None) -> Selection:
    """Names after ``--``; ``--shard i/n`` there wins over NATIVE_CHECK_SHARD, ``--jobs N``
    (or ``-j N``) over NATIVE_CHECK_JOBS; ``--variant NAME`` (a glob, repeatable) selects
    variants."""
    patterns: list[str] = []
    shard = Shard.parse(shard_setting, "NATIVE_CHECK_SHARD") if shard_setting else None
    jobs: int | None = None
    variants: list[str] = []
    items = list(posargs)
    while items:
        item = items.pop(0)
        option, has_value, value = item.partition("=")
        if option in ("--shard", "--jobs", "-j", "--variant") and not has_value:
            if not items:
                raise UsageError(
                    f"{option} needs a value" + (" i/n" if option == "--shard" else "")
                )
            value = items.pop(0)
        if option == "--shard" and (has_value or item == option):
            shard = Shard.parse(value, "--shard")
        elif option in ("--jobs", "-j") and (has_value or item == option):
            jobs = as_jobs(option, value)
        elif option == "--variant" and (has_value or item == option):
            variants.append(value)
        else:
            patterns.append(item)
    return Selection(tuple(patterns), shard, jobs, tuple(variants))


def _size(ref: WheelRef) -> int:
    try:
        return ref.path.stat().st_size
    except OSError:
        return 0


def shard_wheels(refs: Sequence[WheelRef], shard: Shard) -> list[WheelRef]:
    """A stable share of ``refs``, balanced by file size (largest first to the lightest shard).

    Every shard computes the same assignment from the same folder, so the shards together
    cover every wheel exactly once.
    """
    loads = [(0, i) for i in range(shard.count)]
    owner: dict[str, int] = {}
    for ref in sorted(refs, key=lambda r: (-_size(r), r.filename)):
        load, index = heapq.heappop(loads)
        owner[ref.filename] = index
        heapq.heappush(loads, (load + max(_size(ref), 1), index))
    return [r for r in refs if owner[r.filename] == shard.index - 1]


def selected_wheels(refs: Sequence[WheelRef], selection: Selection) -> list[WheelRef]:
    chosen = select(refs, selection.patterns)
    return shard_wheels(chosen, selection.shard) if selection.shard else chosen


def selected_variant_names(names: Sequence[str], selection: Selection) -> list[str]:
    """The variants ``--variant`` selects (names or globs, without case); all without it.
    A pattern that matches no variant is an error, never a silent empty run."""
    if not selection.variants:
        return list(names)
    unmatched = [
        p
        for p in selection.variants
        if not any(fnmatch.fnmatch(n.lower(), p.lower()) for n in names)
    ]
    if unmatched:
        raise UsageError(
            f"--variant {', '.join(map(repr, unmatched))} matches no configured variant "
            f"(variants: {', '.join(names)})"
        )
    return [
        n for n in names if any(fnmatch.fnmatch(n.lower(), p.lower()) for p in selection.variants)
    ]


def selected_pairs(
    folders: Sequence[tuple[str, Sequence[WheelRef]]], selection: Selection
) -> list[tuple[str, WheelRef]]:
    """(variant, wheel) pairs selected across variants: wheel names must match a wheel of some
    selected variant; shards split by file name, so every variant's copy of a wheel lands in
    one shard (where its check is shared)."""
    chosen = selected_variant_names([name for name, _ in folders], selection)
    pairs = [(name, ref) for name, refs in folders if name in chosen for ref in refs]
    patterns = [p for p in selection.patterns if p.strip()]
    if patterns:
        unmatched = [p for p in patterns if not any(matches(r, p) for _, r in pairs)]
        if unmatched:
            raise UsageError(
                f"no wheel of the selected variants matches {', '.join(map(repr, unmatched))} "
                "(give a wheel file name, a glob such as 'numpy-*', or a project name)"
            )
        pairs = [(n, r) for n, r in pairs if any(matches(r, p) for p in patterns)]
    if selection.shard is None:
        return pairs
    unique = {r.filename: r for _, r in pairs}
    kept = {
        r.filename
        for r in shard_wheels(sorted(unique.values(), key=lambda r: r.filename), selection.shard)
    }
    return [(n, r) for n, r in pairs if r.filename in kept]
