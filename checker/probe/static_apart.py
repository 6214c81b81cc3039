"""Static facts computed in a child process, apart from the threads of this one.

The set check computes the static facts of every wheel of the folder (RECORD hashes, the
audit, the exports) while the probes beside it, threads of the same nox process, compute
theirs and start their imports. Hashing releases the GIL; parsing binaries and walking
RECORD do not, and on a heavy folder (torch with its CUDA wheels) the two then take turns
on one core: the set check's static stage took 7 s where the same work alone takes 3 s.

So the set check hands the wheels whose facts are not known yet to one child process (this
module run by the checker's own Python, ``-I``), which computes them exactly as a thread
would (checker.probe.static_facts, the installed files read where uv put them) and writes
them to the static cache; the set check then reads them from there. A wheel a probe is
computing at that moment (its per-content lock is taken) is left to that probe. When the
child fails, or an entry cannot be written, the facts are computed in this process as
before: only time is lost.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import checker
from checker.config.context import RunContext
from checker.probe.install import installed_files
from checker.probe.static_facts import claim, is_known, static_facts
from checker.wheel.contents import WheelContents, open_wheel

log = logging.getLogger(__name__)

MIN_BYTES = 64 << 20
"""Below this many bytes of wheels to compute, a child's start-up costs more than it saves."""

_CHILD = (
    "import sys; sys.path.insert(0, sys.argv[1]); "
    "from checker.probe.static_apart import child_main; sys.exit(child_main())"
)


@dataclass(frozen=True)
class Job:
    """One wheel to compute apart: its contents, sha256 and the venv it is installed in."""

    contents: WheelContents
    sha256: str
    python: Path | None  # the venv's interpreter, whose files are read instead of inflating


def compute_apart(ctx: RunContext, jobs: Sequence[Job]) -> set[str]:
    """Compute the static facts of ``jobs`` in one child process, into the static cache.
    Returns the sha256 of the wheels computed there; the members whose installed file is
    not the archive's are added to their store's ``differing``. Wheels already known, or
    being computed by a thread of this process, are left out; so is everything when there
    is too little to compute for a child to pay off."""
    with ExitStack() as held:
        mine = []
        for job in jobs:
            if is_known(ctx, job.sha256):
                continue
            lock = claim(job.sha256)  # held until the child is done: a probe asking waits
            if lock is not None:
                held.callback(lock.release)
                mine.append(job)
        if sum(job.contents.path.stat().st_size for job in mine) < MIN_BYTES:
            return set()
        return _run_child(ctx, mine)


def _run_child(ctx: RunContext, jobs: Sequence[Job]) -> set[str]:
    request = {
        "cache": str(ctx.static_cache),
        "min_glibc": ctx.settings.min_glibc,
        "x86_64_level": ctx.settings.x86_64_level,
        "wheels": [
            {"path": str(j.contents.path), "sha256": j.sha256, "python": _text(j.python)}
            for j in jobs
        ],
    }
    root = str(Path(checker.__file__).resolve().parent.parent)
    try:
        proc = subprocess.run(
            [sys.executable, "-I", "-c", _CHILD, root],
            input=json.dumps(request),
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            check=False,
        )
    except OSError as exc:
        log.info("static facts apart: cannot start %s: %s", sys.executable, exc)
        return set()
    try:
        answer = json.loads(proc.stdout) if proc.returncode == 0 else None
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        log.info("static facts apart failed (exit %s): %s", proc.returncode, proc.stderr[-2000:])
        return set()
    done = set()
    for job in jobs:
        differing = answer.get(job.sha256)
        if isinstance(differing, list):
            job.contents.store.differing.update(str(member) for member in differing)
            done.add(job.sha256)
    return done


def _text(path: Path | None) -> str | None:
    return None if path is None else str(path)


def child_main() -> int:
    """The child: compute each requested wheel's facts into the cache; print, per sha256
    computed, the members whose installed file was not the archive's."""
    request: dict[str, Any] = json.loads(sys.stdin.read())
    cache = Path(request["cache"])
    done: dict[str, list[str]] = {}
    for item in request["wheels"]:
        contents, _findings = open_wheel(Path(item["path"]))
        if contents is None:
            continue  # unreadable: the set check's own reading says so
        with contents:
            if item["python"]:
                contents.store.use_installed(installed_files(contents, Path(item["python"])))
            static_facts(
                contents,
                item["sha256"],
                min_glibc=request["min_glibc"],
                cache=cache,
                x86_64_level=request["x86_64_level"],
            )
            done[item["sha256"]] = sorted(contents.store.differing)
    sys.stdout.write(json.dumps(done))
    return 0
