"""Measuring one process tree: wall time, exit code and peak memory (benchmarks/run.py).

``measure()`` runs a command to its end, its output going to a log file. Peak memory, two
numbers:
- "largest process": ``ru_maxrss`` from ``os.wait4`` on the top process, which the kernel
  takes over the process and every descendant it waited for: the largest SINGLE process of
  the tree, not a sum;
- "tree total": the sum of the RSS of every live process of the tree, sampled from /proc
  every ``SAMPLE_EVERY`` seconds (Linux only; short-lived processes between two samples are
  missed).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_EVERY = 0.1


@dataclass
class Measurement:
    name: str
    seconds: float
    returncode: int
    largest_kib: int  # ru_maxrss: the largest single process of the tree
    tree_kib: int  # sampled sum over the live tree
    log: Path
    extra: dict[str, Any] = field(default_factory=dict)


def _proc_table() -> dict[int, tuple[int, int]]:
    """pid -> (ppid, rss pages) of every process that /proc shows."""
    table = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry.name}/stat").read_bytes()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2 :].split()
        table[int(entry.name)] = (int(fields[1]), int(fields[21]))
    return table


def _tree_rss_kib(root: int, page_kib: int) -> int:
    table = _proc_table()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _rss) in table.items():
        children.setdefault(ppid, []).append(pid)
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        if pid in table:
            total += table[pid][1] * page_kib
        todo.extend(children.get(pid, ()))
    return total


def measure(name: str, command: list[str], env: dict[str, str], logs: Path) -> Measurement:
    """Run ``command`` to its end; wall time, exit code, peak memory; output to a log file."""
    log = logs / f"{name}.log"
    page_kib = os.sysconf("SC_PAGE_SIZE") // 1024 if hasattr(os, "sysconf") else 4
    peak = [0]
    done = threading.Event()
    with log.open("w", encoding="utf-8") as out:
        out.write("$ " + " ".join(command) + "\n")
        out.flush()
        started = time.perf_counter()
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT)

        def sample() -> None:
            while not done.wait(SAMPLE_EVERY):
                with contextlib.suppress(OSError):
                    peak[0] = max(peak[0], _tree_rss_kib(proc.pid, page_kib))

        sampler = threading.Thread(target=sample, daemon=True)
        if Path("/proc/self/stat").exists():
            sampler.start()
        _pid, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        done.set()
        proc.returncode = os.waitstatus_to_exitcode(status)
    if sampler.is_alive():
        sampler.join()
    # ru_maxrss is in KiB on Linux, in bytes on macOS.
    largest = usage.ru_maxrss // 1024 if sys.platform == "darwin" else usage.ru_maxrss
    result = Measurement(name, seconds, proc.returncode, largest, peak[0], log)
    # CPU seconds of the tree (user + system, the waited-for descendants included): on a
    # machine shared with other work, less skewed by it than the wall time.
    result.extra["cpu"] = round(usage.ru_utime + usage.ru_stime, 2)
    print(
        f"  {name}: {seconds:.2f} s (exit {proc.returncode}; largest process "
        f"{largest / 1024:.0f} MiB, tree {peak[0] / 1024:.0f} MiB)",
        flush=True,
    )
    return result
