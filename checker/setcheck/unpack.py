"""The largest wheel unpacked first, beside the set venv's install.

uv unpacks the wheels of one install into its cache several at a time, in an order of its
own, and each member is one inflate stream on one core. On the torch folder (28 wheels,
2.9 GB, an empty uv cache, 2 cores) uv kept both cores busy for 11.5 s and then one core for
8 s while it finished its last wheels' largest members (torch's libtorch_cuda.so alone is
1 GB). Unpacked at the same time by a second uv process started with it, torch overlaps the
rest: the install took 16.4 s instead of 19.7 s (benchmarks/RESULTS.md, issue 22).

So with cores to spare (``--jobs`` above 1) the set check has uv unpack the largest wheel it
installs on its own, into a throw-away folder, while the set venv's install runs; uv's
per-wheel cache lock makes that install link what the other process unpacked instead of
unpacking it again. A wheel already in uv's cache costs one dry run of uv (0.1 s).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from checker.config.context import RunContext
from checker.cpus import usable_cpus
from checker.probe.install import find_uv, unpack_into_cache

MIN_BYTES = 64 << 20
"""A smaller wheel unpacks in well under a second: not worth a process of its own."""


def largest(wheels: Sequence[Path]) -> Path | None:
    """The largest of ``wheels`` when it has ``MIN_BYTES`` or more (None otherwise)."""
    sized = sorted(((w.stat().st_size, w.name, w) for w in wheels), reverse=True)
    if not sized or sized[0][0] < MIN_BYTES:
        return None
    return sized[0][2]


@contextmanager
def largest_unpacked_first(
    ctx: RunContext, wheels: Sequence[Path], scratch: Path, details: dict[str, Any]
) -> Iterator[None]:
    """While the body installs ``wheels``, the largest of them is unpacked into uv's cache
    by a uv process of its own (into ``scratch``, removed afterwards), when the run has
    cores to spare; ``details["unpacked_first"]`` names it and says what uv did with it
    (checker.probe.install.unpack_into_cache). Ends when both are done."""
    wheel = largest(wheels) if ctx.settings.jobs > 1 and usable_cpus() > 1 else None
    if wheel is None:
        yield
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="set-unpack") as pool:
        done = pool.submit(unpack_into_cache, find_uv(), ctx.interpreter, wheel, scratch)
        try:
            yield
        finally:
            details["unpacked_first"] = {"wheel": wheel.name, "uv": done.result()}
