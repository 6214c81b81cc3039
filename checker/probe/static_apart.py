"""Static facts computed in child processes, apart from the threads of this one.

The set check computes the static facts of every wheel of the folder (RECORD hashes, the
audit, the exports) while the probes beside it, threads of the same nox process, compute
theirs and start their imports. Hashing releases the GIL; parsing binaries and walking
RECORD do not, and on a heavy folder (torch with its CUDA wheels) the two then take turns
on one core: the set check's static stage took 7 s where the same work alone takes 3 s.

So the set check hands the wheels whose facts are not known yet to two child processes
(this module run by the checker's own Python, ``-I``; about the same bytes each, the
largest wheels first), which compute them exactly as a thread would
(checker.probe.static_facts, the installed files read where uv put them) and write them to
the static cache; the set check then reads them from there. A wheel a probe is computing at
that moment (its per-content lock is taken) is left to that probe; a wheel a child computes
keeps its lock taken until the child says it is done, so a probe asking for it meanwhile
waits for the child's result instead of computing it again. When a child fails, or an entry
cannot be written, the facts are computed in this process as before: only time is lost.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import tempfile
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import checker
from checker.config.context import RunContext
from checker.cpus import usable_cpus
from checker.probe.install import installed_files
from checker.probe.static_facts import claim, is_known, static_facts
from checker.wheel.contents import WheelContents, open_wheel

log = logging.getLogger(__name__)

MIN_BYTES = 64 << 20
"""Below this many bytes of wheels to compute, a child's start-up costs more than it saves."""

CHILDREN = 2
"""At most this many children (and no more than the usable CPUs), each given about the same
bytes: one child computing torch (4 s) and then the rest kept torch's probe, which had asked
for torch meanwhile, and the set check waiting for both in turn."""

_CHILD = (
    "import sys; sys.path.insert(0, sys.argv[1]); "
    "from checker.probe.static_apart import child_main; sys.exit(child_main())"
)


@dataclass(frozen=True)
class Job:
    """One wheel to compute apart: its contents, sha256 and the venv it is installed in."""

    contents: WheelContents
    sha256: str
    python: Path  # the venv's interpreter, whose files are read instead of inflating


def compute_apart(ctx: RunContext, jobs: Sequence[Job]) -> set[str]:
    """Compute the static facts of ``jobs`` in child processes (``CHILDREN``, each given
    about the same bytes), into the static cache, the largest wheels first. Returns the
    sha256 of the wheels computed there; the members whose installed file is not the
    archive's are added to their store's ``differing``. Wheels already known, or being
    computed by a thread of this process, are left out; so is everything when there is too
    little to compute for a child to pay off. Each wheel's lock is held until its child
    says it is done: a probe asking for it waits that long."""
    with ExitStack() as held:
        locks: dict[str, threading.Lock] = {}
        held.callback(_release_all, locks)  # those no child reported done
        mine = []
        for job in sorted(jobs, key=lambda job: -_size(job)):
            if job.sha256 in locks or is_known(ctx, job.sha256):
                continue
            lock = claim(job.sha256)
            if lock is not None:
                locks[job.sha256] = lock
                mine.append(job)
        if not mine or not sys.executable or sum(_size(j) for j in mine) < MIN_BYTES:
            return set()  # no interpreter of our own to start (embedded), or not worth it
        groups = _balanced(mine, min(CHILDREN, usable_cpus()))
        if len(groups) == 1:
            return _run_child(ctx, groups[0], locks)
        with ThreadPoolExecutor(max_workers=len(groups)) as pool:
            parts = [pool.submit(_run_child, ctx, group, locks) for group in groups]
            return set().union(*(part.result() for part in parts))


def _size(job: Job) -> int:
    return job.contents.path.stat().st_size


def _balanced(jobs: Sequence[Job], count: int) -> list[list[Job]]:
    """``jobs`` (the largest first) dealt to ``count`` groups of about equal bytes, each
    group the largest first; empty groups left out."""
    groups: list[list[Job]] = [[] for _ in range(max(1, count))]
    sizes = [0] * len(groups)
    for job in jobs:
        smallest = sizes.index(min(sizes))
        groups[smallest].append(job)
        sizes[smallest] += _size(job)
    return [group for group in groups if group]


def _run_child(ctx: RunContext, jobs: Sequence[Job], locks: dict[str, threading.Lock]) -> set[str]:
    """Run the child on ``jobs``; release each wheel's lock (and drop it from ``locks``) as
    the child reports the wheel done."""
    request = {
        "cache": str(ctx.static_cache),
        "min_glibc": ctx.settings.min_glibc,
        "x86_64_level": ctx.settings.x86_64_level,
        "wheels": [
            {"path": str(j.contents.path), "sha256": j.sha256, "python": str(j.python)}
            for j in jobs
        ],
    }
    by_sha = {job.sha256: job for job in jobs}
    root = str(Path(checker.__file__).resolve().parent.parent)
    done: set[str] = set()
    with tempfile.TemporaryFile() as errors:
        try:
            proc = subprocess.Popen(
                [sys.executable, "-I", "-c", _CHILD, root],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=errors,
                text=True,
                encoding="utf-8",
                errors="replace",
            )
        except OSError as exc:
            log.info("static facts apart: cannot start %s: %s", sys.executable, exc)
            return done
        with proc:
            assert proc.stdin is not None and proc.stdout is not None
            try:
                proc.stdin.write(json.dumps(request))
                proc.stdin.close()
            except OSError:  # the child ended before reading: its exit code says why
                pass
            for line in proc.stdout:
                sha256, differing = _report(line)
                job = by_sha.get(sha256)
                if job is None or sha256 in done:
                    continue
                job.contents.store.differing.update(differing)
                done.add(sha256)
                locks.pop(sha256).release()
        if proc.returncode != 0:
            errors.seek(0)
            tail = errors.read()[-2000:].decode("utf-8", "replace")
            log.info("static facts apart: the child ended with %s: %s", proc.returncode, tail)
    return done


def _release_all(locks: dict[str, threading.Lock]) -> None:
    for lock in locks.values():
        lock.release()
    locks.clear()


def _report(line: str) -> tuple[str, list[str]]:
    """(sha256, differing members) of one line of the child's, ("", []) if it is not one."""
    try:
        data = json.loads(line)
        sha256, differing = data["sha256"], data["differing"]
    except (ValueError, KeyError, TypeError):
        return "", []
    if not isinstance(sha256, str) or not isinstance(differing, list):
        return "", []
    return sha256, [str(member) for member in differing]


def child_main() -> int:
    """The child: compute each requested wheel's facts into the cache, in order; as each is
    done, print a line: its sha256 and the members whose installed file was not the
    archive's."""
    request: dict[str, Any] = json.loads(sys.stdin.read())
    cache = Path(request["cache"])
    for item in request["wheels"]:
        contents, _findings = open_wheel(Path(item["path"]))
        if contents is None:
            continue  # unreadable: the set check's own reading says so
        with contents:
            contents.store.use_installed(installed_files(contents, Path(item["python"])))
            static_facts(
                contents,
                item["sha256"],
                min_glibc=request["min_glibc"],
                cache=cache,
                x86_64_level=request["x86_64_level"],
            )
            differing = sorted(contents.store.differing)
        print(json.dumps({"sha256": item["sha256"], "differing": differing}), flush=True)
    return 0
