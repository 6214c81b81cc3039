"""Tests for checker.probe.pipeline: ahead-of-session work, at most N at once, results in order."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from checker.probe.pipeline import Pipeline


class Recorder:
    """A work function that records when each key runs and how many run at once."""

    def __init__(self, fail: str | None = None) -> None:
        self.lock = threading.Lock()
        self.started: list[str] = []
        self.running = 0
        self.most = 0
        self.fail = fail
        self.calls: dict[str, int] = {}

    def __call__(self, key: str) -> str:
        with self.lock:
            self.started.append(key)
            self.calls[key] = self.calls.get(key, 0) + 1
            self.running += 1
            self.most = max(self.most, self.running)
        time.sleep(0.05)
        with self.lock:
            self.running -= 1
        if key == self.fail:
            raise RuntimeError(f"{key} broke")
        return key.upper()


def _run_sessions(pipeline: Pipeline[str, str], keys: list[str]) -> list[str]:
    """What nox does: one session after another, each waiting for its own key."""
    return [pipeline.result(key, keys[i + 1 :]) for i, key in enumerate(keys)]


def test_results_in_session_order_with_at_most_jobs_at_once() -> None:
    work = Recorder()
    pipeline = Pipeline(work, jobs=3)
    keys = [f"w{i}" for i in range(12)]
    assert _run_sessions(pipeline, keys) == [k.upper() for k in keys]
    pipeline.close()
    assert work.most == 3
    assert work.started == keys  # started in the order the sessions come
    assert set(work.calls.values()) == {1}  # every key worked once, none twice


def test_what_runs_ahead_starts_the_costliest_first() -> None:
    """With a cost, the keys run ahead are started the costliest first, in session order among
    equal costs, and each key's cost is asked once; the results still come in session order."""
    work = Recorder()
    costs = {"a": 1.0, "b": 1.0, "big": 9.0, "c": 1.0, "huge": 20.0}
    asked: list[str] = []

    def cost(key: str) -> float:
        asked.append(key)
        return costs[key]

    pipeline = Pipeline(work, jobs=2, cost=cost)
    keys = list(costs)
    assert _run_sessions(pipeline, keys) == [k.upper() for k in keys]
    pipeline.close()
    assert work.started[:2] == ["a", "huge"]  # the first session's own key, then the costliest
    assert work.started.index("big") < work.started.index("b") < work.started.index("c")
    assert sorted(asked) == sorted(set(asked))


def test_one_job_runs_nothing_ahead() -> None:
    work = Recorder()
    pipeline = Pipeline(work, jobs=1)
    assert _run_sessions(pipeline, ["a", "b", "c"]) == ["A", "B", "C"]
    pipeline.close()
    assert work.most == 1


def test_an_exception_reaches_the_session_of_its_key_only() -> None:
    work = Recorder(fail="b")
    pipeline = Pipeline(work, jobs=2)
    keys = ["a", "b", "c"]
    assert pipeline.result("a", keys[1:]) == "A"
    with pytest.raises(RuntimeError, match="b broke"):
        pipeline.result("b", keys[2:])
    assert pipeline.result("c") == "C"
    pipeline.close()


def test_a_key_nobody_announced_is_worked_on_demand() -> None:
    work = Recorder()
    pipeline = Pipeline(work, jobs=2)
    assert pipeline.result("a", ["b"]) == "A"
    assert pipeline.result("z") == "Z"  # not announced: run when asked
    assert pipeline.result("b") == "B"
    pipeline.close()
    assert work.calls == {"a": 1, "b": 1, "z": 1}


def test_stop_starts_nothing_new() -> None:
    work = Recorder()
    pipeline = Pipeline(work, jobs=1)
    assert pipeline.result("a", ["b", "c", "d"]) == "A"
    pipeline.stop()
    pipeline.close()
    # "b" was started when "a" finished (one job); nothing after the stop.
    assert "c" not in work.started and "d" not in work.started


def test_jobs_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        Pipeline(Recorder(), jobs=0)


def test_upcoming_probes_read_from_nox_queue_or_none(tmp_path: Path) -> None:
    """The probe sessions after this one come from nox's queue; without one, none."""
    from checker.config.plan import Plan, probe_session_name
    from checker.sessions import probes
    from checker.wheel.discover import wheel_ref

    refs = [wheel_ref(tmp_path / f"p{i}-1.0-py3-none-any.whl") for i in range(3)]
    plan = Plan(tmp_path, tuple(refs), None)
    names = [probe_session_name(r) for r in refs]
    queue = [SimpleNamespace(name=n) for n in (names[2], "check_native", names[0])]
    session = SimpleNamespace(_runner=SimpleNamespace(manifest=SimpleNamespace(_queue=queue)))
    assert probes._upcoming_probes(session, plan) == [refs[2], refs[0]]  # type: ignore[arg-type]
    for shapeless in (SimpleNamespace(), SimpleNamespace(_runner=SimpleNamespace(manifest=None))):
        assert probes._upcoming_probes(shapeless, plan) == []  # type: ignore[arg-type]
