"""The probes importing now (checker.probe.underway): a waiter gets the probe's result when
it ends, nothing is waited for where no probe is importing, and an ended probe is forgotten."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from checker.probe import underway
from checker.wheel.fragment import Fragment


def _fragment(wheel: str) -> Fragment:
    return Fragment(
        wheel=wheel, project="nicunder", version="1.0", sha256="0" * 64, size=1,
        run_id="run", fingerprint="f", python="3.12", interpreter="/py", platform="linux-x64",
        variant="", duration=0.1, install="ok", findings=(), modules=(), extra={},
    )  # fmt: skip


def test_nothing_is_waited_for_where_no_probe_is_importing(tmp_path: Path) -> None:
    assert underway.result_if_importing(tmp_path / "a.whl.json") is None
    underway.ended(tmp_path / "a.whl.json", _fragment("a.whl"))  # never said: nothing kept
    assert underway.result_if_importing(tmp_path / "a.whl.json") is None


def test_a_waiter_gets_the_result_when_the_probe_ends(tmp_path: Path) -> None:
    path = tmp_path / "b.whl.json"
    underway.importing(path)
    started = threading.Event()

    def wait() -> Fragment | None:
        started.set()
        return underway.result_if_importing(path)

    with ThreadPoolExecutor(max_workers=1) as pool:
        waiting = pool.submit(wait)
        assert started.wait(timeout=30)
        assert not waiting.done()  # blocked until the probe ends
        result = _fragment("b.whl")
        underway.ended(path, result)
        assert waiting.result(timeout=30) is result
    assert underway.result_if_importing(path) is None  # ended: forgotten


def test_a_probe_that_failed_wakes_its_waiter_with_none(tmp_path: Path) -> None:
    path = tmp_path / "c.whl.json"
    underway.importing(path)
    with ThreadPoolExecutor(max_workers=1) as pool:
        waiting = pool.submit(underway.result_if_importing, path)
        underway.ended(path, None)
        assert waiting.result(timeout=30) is None
