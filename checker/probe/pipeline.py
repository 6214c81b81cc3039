"""Checking wheels ahead of their sessions, N at a time, inside one nox process (``--jobs N``).

nox runs the ``probe-<wheel>`` sessions one after another. With ``jobs > 1`` each probe session
hands its wheel to a shared :class:`Pipeline`, together with the probe sessions nox will run
after it; the pipeline keeps ``jobs`` wheels in work, in that order, and the session waits for
its own wheel and reports it. The work is the same function a session runs alone, so every
wheel still gets its own venv, probe process and fragment, and each session's output is its
own wheel's, in session order.

What runs ahead is started the costliest first (``cost``, e.g. a wheel's size), in session
order among equals: a torch wheel that would otherwise come last alphabetically no longer
ends the run alone, and the set check, which reads what the probes beside it recorded,
finds the heavy wheels' results written.

This is the cheap way to use several cores: ``nox --parallel`` starts a new nox process per
session, which costs more than a small wheel's whole check (see benchmarks/RESULTS.md).

Interrupting stops the pipeline: the running wheels finish, nothing new starts.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Hashable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable, Generic, TypeVar

log = logging.getLogger(__name__)

K = TypeVar("K", bound=Hashable)
R = TypeVar("R")


class Pipeline(Generic[K, R]):
    """Runs ``work(key)`` for the keys sessions will ask for, at most ``jobs`` at once."""

    def __init__(
        self, work: Callable[[K], R], jobs: int, cost: Callable[[K], float] | None = None
    ) -> None:
        if jobs < 1:
            raise ValueError(f"jobs must be at least 1, got {jobs!r}")
        self.jobs = jobs
        self._work = work
        self._cost = cost
        self._costs: dict[K, float] = {}  # each key's cost asked once
        self._pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="native-check")
        self._lock = threading.RLock()  # a done callback may run inside _submit
        self._futures: dict[K, Future[R]] = {}  # submitted, not yet handed to a session
        self._running = 0
        self._upcoming: list[K] = []
        self._stopped = False

    def result(self, key: K, upcoming: Sequence[K] = ()) -> R:
        """``work(key)``'s result (or exception), once it is done. ``upcoming`` are the keys
        the following sessions will ask for, in order: they are started while this one runs."""
        with self._lock:
            self._upcoming = [k for k in upcoming if k != key and k not in self._futures]
            if self._cost is not None:  # stable: session order among equal costs
                self._upcoming.sort(key=self._cost_of, reverse=True)
            future = self._futures.get(key) or self._submit(key)
            self._fill()
        try:
            return future.result()
        except KeyboardInterrupt:
            self.stop()
            raise
        finally:
            with self._lock:
                self._futures.pop(key, None)

    def stop(self) -> None:
        """Start nothing new; the wheels in work finish (their processes are never orphaned)."""
        with self._lock:
            self._stopped = True
            self._upcoming = []
        self._pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        """Wait for whatever is still in work (keys no session asked for) and end the pool."""
        self.stop()
        self._pool.shutdown(wait=True)

    def _cost_of(self, key: K) -> float:
        assert self._cost is not None
        if key not in self._costs:
            self._costs[key] = self._cost(key)
        return self._costs[key]

    def _submit(self, key: K) -> Future[R]:
        self._running += 1
        future = self._pool.submit(self._work, key)
        self._futures[key] = future
        future.add_done_callback(self._on_done)
        return future

    def _fill(self) -> None:
        while not self._stopped and self._running < self.jobs and self._upcoming:
            key = self._upcoming.pop(0)
            if key not in self._futures:
                try:
                    self._submit(key)
                except RuntimeError:  # the interpreter is shutting down: nothing new
                    self._running -= 1
                    self._stopped = True

    def _on_done(self, _future: Future[R]) -> None:
        with self._lock:
            self._running -= 1
            self._fill()
