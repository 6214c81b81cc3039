"""What a run checks: the wheels named after ``--`` and, with sharding, this shard's share
(and ``--jobs N``: how many at once)."""

from __future__ import annotations

import heapq
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from checker.discover import WheelRef, select
from checker.errors import UsageError
from checker.settings import as_jobs

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


def parse_posargs(posargs: Sequence[str], shard_setting: str | None) -> Selection:
    """Names after ``--``; ``--shard i/n`` there wins over NATIVE_CHECK_SHARD, ``--jobs N``
    (or ``-j N``) over NATIVE_CHECK_JOBS."""
    patterns: list[str] = []
    shard = Shard.parse(shard_setting, "NATIVE_CHECK_SHARD") if shard_setting else None
    jobs: int | None = None
    items = list(posargs)
    while items:
        item = items.pop(0)
        option, has_value, value = item.partition("=")
        if option in ("--shard", "--jobs", "-j") and not has_value:
            if not items:
                raise UsageError(
                    f"{option} needs a value" + (" i/n" if option == "--shard" else "")
                )
            value = items.pop(0)
        if option == "--shard" and (has_value or item == option):
            shard = Shard.parse(value, "--shard")
        elif option in ("--jobs", "-j") and (has_value or item == option):
            jobs = as_jobs(option, value)
        else:
            patterns.append(item)
    return Selection(tuple(patterns), shard, jobs)


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
