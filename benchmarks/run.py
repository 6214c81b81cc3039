"""Benchmark driver of issue 7: the original method vs ``nox -s check_native``, in one run.

    python benchmarks/run.py PACKAGES [--python PY] [--jobs 2] [--skip-original]
                             [--output benchmarks/RESULTS.md] [--keep] [--tmp DIR]

Scenarios (see benchmarks/README.md): a) the original method with ``--jobs`` threads;
b) ``nox -s check_native`` cold (empty uv cache and work folder), sequential (``--jobs 1``);
c) the same, warm (uv cache, bytecode tree and static facts kept); d) cold with
``--jobs JOBS``; e) warm with ``--jobs JOBS``; g) warm, ``nox --parallel JOBS``; h) an unchanged
re-run without ``NATIVE_CHECK_FRESH`` (incremental reuse); f) the import-only floor with 1 and
with JOBS workers. Every fresh scenario sets ``NATIVE_CHECK_FRESH=1``. Plus ``nox -l``
(loading the noxfile), the uv venv + install steps alone, nox's per-session overhead, peak
memory and the disk the venvs take. Prints a table and appends a Markdown section to
``--output``.

Peak memory, two numbers per scenario:
- "largest process": ``ru_maxrss`` from ``os.wait4`` on the scenario's top process, which
  the kernel takes over the process and every descendant it waited for: the largest SINGLE
  process of the tree, not a sum;
- "tree total": the sum of the RSS of every live process of the tree, sampled from /proc
  every 0.1 s (Linux only; short-lived processes between two samples are missed).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
NOXFILE = ROOT / "noxfile.py"
SAMPLE_EVERY = 0.1
# nox's exit codes that still mean "the run completed" (1: some wheel failed the check).
COMPLETED = (0, 1)


@dataclass
class Measurement:
    name: str
    seconds: float
    returncode: int
    largest_kib: int  # ru_maxrss: the largest single process of the tree
    tree_kib: int  # sampled sum over the live tree
    log: Path
    extra: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------------- measuring processes


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
    print(
        f"  {name}: {seconds:.2f} s (exit {proc.returncode}; largest process "
        f"{largest / 1024:.0f} MiB, tree {peak[0] / 1024:.0f} MiB)",
        flush=True,
    )
    return result


# ---------------------------------------------------------------------- facts about the run


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _output(command: list[str]) -> str:
    try:
        proc = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unavailable ({exc})"
    return (proc.stdout or proc.stderr).strip().splitlines()[0] if proc.returncode == 0 else "?"


def _load() -> str:
    """The 1-minute load average: other work on the machine skews every number."""
    return f"{os.getloadavg()[0]:.2f}" if hasattr(os, "getloadavg") else "?"


def find_uv() -> str:
    try:
        from uv import find_uv_bin

        return str(find_uv_bin())
    except (ImportError, FileNotFoundError):
        return shutil.which("uv") or "uv"


def machine_facts(python: str) -> dict[str, str]:
    cpuinfo = _read("/proc/cpuinfo")
    model = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.MULTILINE)
    mem = re.search(r"^MemTotal:\s*(\d+) kB", _read("/proc/meminfo"), re.MULTILINE)
    os_name = re.search(r'^PRETTY_NAME="?([^"\n]+)', _read("/etc/os-release"), re.MULTILINE)
    return {
        "cpus (nproc)": str(os.cpu_count()),
        "cpu": model.group(1).strip() if model else platform.processor() or "?",
        "ram": f"{int(mem.group(1)) / 1024**2:.1f} GiB" if mem else "?",
        "os": f"{os_name.group(1) if os_name else platform.system()} (kernel {platform.release()})",
        "target python": f"{python} ({_output([python, '--version'])})",
        "pip (original method)": _output([python, "-m", "pip", "--version"]).split(" from ")[0],
        "uv": _output([find_uv(), "--version"]),
        "nox": _output([sys.executable, "-m", "nox", "--version"]),
    }


def du_kib(*paths: Path, apparent: bool = False) -> int:
    """Disk use of the paths together (``du -s``: a hard-linked file counts once)."""
    existing = [str(p) for p in paths if p.exists()]
    if not existing:
        return 0
    command = ["du", "-s", "-c", "-k", *(["--apparent-size"] if apparent else []), *existing]
    proc = subprocess.run(command, capture_output=True, text=True, check=False)
    lines = proc.stdout.strip().splitlines()
    return int(lines[-1].split()[0]) if lines else 0


def fragment_stats(fragments: Path, since: float) -> tuple[int, int, float]:
    """Fragments written since ``since`` (a time.time()): how many, how many of them reuse
    an earlier result (``extra.reused_from``), and the summed ``duration`` of the others."""
    count, reused, total = 0, 0, 0.0
    for path in fragments.glob("*.whl.json"):
        try:
            if path.stat().st_mtime < since:
                continue
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        count += 1
        if (data.get("extra") or {}).get("reused_from"):
            reused += 1
        else:
            total += float(data.get("duration", 0.0))
    return count, reused, total


# ---------------------------------------------------------------------- the run


@dataclass
class Bench:
    packages: Path
    python: str
    python_given: bool
    jobs: int
    tmp: Path
    wheels: list[Path]
    results: dict[str, Measurement] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def logs(self) -> Path:
        return self.tmp / "logs"

    @property
    def uv_cache(self) -> Path:
        return self.tmp / "uv-cache"

    @property
    def report_dir(self) -> Path:
        return self.tmp / "report"

    @property
    def work_dir(self) -> Path:
        return self.tmp / "work"

    def base_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("NATIVE_CHECK_", "UV_"))}
        env.pop("VIRTUAL_ENV", None)
        env.update(
            NATIVE_CHECK_PACKAGES=str(self.packages),
            NATIVE_CHECK_REPORT_DIR=str(self.report_dir),
            NATIVE_CHECK_WORK_DIR=str(self.work_dir),
            UV_PYTHON_DOWNLOADS="never",
            UV_CACHE_DIR=str(self.uv_cache),
            NO_COLOR="1",
        )
        return env

    def nox(self, *args: str) -> list[str]:
        command = [sys.executable, "-m", "nox", "-f", str(NOXFILE),
                   "--envdir", str(self.tmp / "envdir")]  # fmt: skip
        if _script_deps_present():
            command += ["--script-mode", "none"]
        if self.python_given:
            command += ["-P", self.python]
        return [*command, *args]

    def make_cold(self) -> None:
        """Empty the uv cache and the work folder (bytecode tree, static facts, venvs)."""
        shutil.rmtree(self.uv_cache, ignore_errors=True)
        shutil.rmtree(self.work_dir, ignore_errors=True)
        self.uv_cache.mkdir(parents=True)

    def run(self, name: str, command: list[str], env: dict[str, str]) -> Measurement:
        result = measure(name, command, env, self.logs)
        self.results[name] = result
        return result

    def run_nox(self, name: str, *args: str, jobs: int = 1, fresh: bool = True) -> Measurement:
        env = self.base_env()
        env["NATIVE_CHECK_JOBS"] = str(jobs)
        if fresh:
            env["NATIVE_CHECK_FRESH"] = "1"
        since = time.time()
        result = self.run(name, self.nox(*args, "-s", "check_native"), env)
        count, reused, total = fragment_stats(self.report_dir / "fragments", since)
        result.extra.update(fragments=count, reused=reused, fragment_seconds=total)
        if result.returncode not in COMPLETED:
            tail = result.log.read_text(encoding="utf-8", errors="replace").splitlines()[-5:]
            self.notes.append(
                f"`{name}`: nox exited {result.returncode} (not a completed check); "
                f"its log ends: {' / '.join(line.strip() for line in tail)}"
            )
        return result


def _script_deps_present() -> bool:
    """nox's PEP 723 script mode is skipped when this Python already has the noxfile's
    dependencies (else nox builds its script venv once, in the untimed warm-up)."""
    import importlib.util

    names = ("nox", "packaging", "tomli_w", "elftools", "macholib", "pefile")
    return all(importlib.util.find_spec(n) is not None for n in names)


def default_python() -> str:
    """The interpreter nox targets when not told: the one running it (its base if a venv)."""
    if sys.prefix != sys.base_prefix:
        base = Path(sys.base_prefix) / ("python.exe" if os.name == "nt" else "bin/python3")
        if base.exists():
            return str(base)
    return str(Path(sys.executable).resolve())


def run_all(bench: Bench, skip_original: bool) -> dict[str, Any]:
    jobs = bench.jobs
    here = str(HERE)
    bench.logs.mkdir(parents=True, exist_ok=True)
    print(f"benchmark: {len(bench.wheels)} wheels of {bench.packages}, temp {bench.tmp}")
    # Untimed warm-up (nox's script venv, if any; the OS file cache for the wheels), then
    # the time it takes nox to load the noxfile and list the sessions.
    subprocess.run(
        bench.nox("-l"), env=bench.base_env(), cwd=ROOT, capture_output=True, check=False
    )
    shutil.rmtree(bench.uv_cache, ignore_errors=True)
    listed = bench.run("nox -l", bench.nox("-l"), bench.base_env())
    if not skip_original:
        bench.run(
            "a original",
            [sys.executable, f"{here}/original.py", str(bench.packages), "--python",
             bench.python, "--workers", str(jobs), "--work", str(bench.tmp / "original"),
             "--json", str(bench.tmp / "original.json")],
            bench.base_env(),
        )  # fmt: skip
    bench.make_cold()
    bench.run_nox("b cold, sequential")
    bench.run_nox("c warm, sequential")
    disk = {
        "venvs": du_kib(bench.work_dir / "venvs"),
        "venvs apparent": du_kib(bench.work_dir / "venvs", apparent=True),
        "uv cache": du_kib(bench.uv_cache),
        "venvs + uv cache": du_kib(bench.work_dir / "venvs", bench.uv_cache),
        "original venvs": du_kib(bench.tmp / "original" / "venvs"),
        "original venvs apparent": du_kib(bench.tmp / "original" / "venvs", apparent=True),
    }
    venvs = bench.work_dir / "venvs"
    venv_count = len(list(venvs.iterdir())) if venvs.exists() else 0
    bench.make_cold()
    bench.run_nox(f"d cold, --jobs {jobs}", jobs=jobs)
    bench.run_nox(f"e warm, --jobs {jobs}", jobs=jobs)
    bench.run_nox(f"g warm, nox --parallel {jobs}", "--parallel", str(jobs))
    # Sub-second and mostly nox's start-up: the median of three runs, not one noisy sample.
    name = f"h unchanged re-run, --jobs {jobs}"
    runs = sorted(
        (bench.run_nox(name, jobs=jobs, fresh=False) for _ in range(3)), key=lambda m: m.seconds
    )
    bench.results[name] = runs[1]
    bench.run(
        "f floor",
        [sys.executable, f"{here}/floor.py", str(bench.packages), "--python", bench.python,
         "--workers", "1", str(jobs), "--work", str(bench.tmp / "floor"),
         "--json", str(bench.tmp / "floor.json")],
        bench.base_env(),
    )  # fmt: skip
    steps = install_steps(bench)
    floor = json.loads((bench.tmp / "floor.json").read_text(encoding="utf-8"))
    original = None
    if (bench.tmp / "original.json").exists():
        original = json.loads((bench.tmp / "original.json").read_text(encoding="utf-8"))
    return {
        "listed": listed,
        "disk": disk,
        "venv_count": venv_count,
        "floor": floor,
        "original": original,
        "steps": steps,
    }


def install_steps(bench: Bench) -> dict[str, float]:
    """``uv venv`` + offline ``uv pip install`` per wheel, sequential, warm cache: what the
    checker's install step costs by itself (the same commands as checker/install.py)."""
    uv = find_uv()
    env = bench.base_env()
    root = bench.tmp / "steps"
    venv_s = install_s = 0.0
    for wheel in bench.wheels:
        venv = root / wheel.name.removesuffix(".whl")
        started = time.perf_counter()
        subprocess.run(
            [uv, "venv", "--quiet", "--no-config", "--no-project", "--no-python-downloads",
             "--python", bench.python, str(venv)],
            env=env, capture_output=True, check=False,
        )  # fmt: skip
        middle = time.perf_counter()
        subprocess.run(
            [uv, "pip", "install", "--quiet", "--no-config", "--offline", "--no-index",
             "--no-build", "--find-links", str(bench.packages), "--python",
             str(venv / "bin" / "python"), str(wheel)],
            env=env, capture_output=True, check=False,
        )  # fmt: skip
        venv_s += middle - started
        install_s += time.perf_counter() - middle
    shutil.rmtree(root, ignore_errors=True)
    print(f"  uv steps alone: venv {venv_s:.2f} s + install {install_s:.2f} s")
    return {"uv venv": venv_s, "uv pip install": install_s}


# ---------------------------------------------------------------------- the report


def _mib(kib: int) -> str:
    return f"{kib / 1024:.0f} MiB"


def _ratio(a: float | None, b: float | None) -> str:
    if not a or not b:
        return "-"
    return f"{a / b:.2f}x"


@dataclass(frozen=True)
class Row:
    label: str
    seconds: float
    vs_original: str
    vs_floor: str
    vs_pyc_floor: str
    measured: Measurement | None


def _rows(bench: Bench, extra: dict[str, Any]) -> list[Row]:
    jobs, res = bench.jobs, bench.results
    floors = {int(r["workers"]): r for r in extra["floor"]["rounds"]}
    floor_of = {w: float(floors[w]["seconds"]) for w in (1, jobs)}
    pyc_floor_of = {w: float(floors[w]["seconds_pyc_cached"]) for w in (1, jobs)}
    original = res.get("a original")
    orig_s = original.seconds if original else None

    def faster(seconds: float) -> str:
        return _ratio(orig_s, seconds) + " faster" if orig_s else "-"

    rows = []
    if original:
        rows.append(Row(f"a. original method, {jobs} threads", original.seconds, "1.00x",
                        _ratio(original.seconds, floor_of[jobs]),
                        _ratio(original.seconds, pyc_floor_of[jobs]), original))  # fmt: skip
    for key, par in nox_scenarios(jobs):
        m = res[key]
        rows.append(Row(f"{key[0]}. check_native, {key[2:]}", m.seconds, faster(m.seconds),
                        _ratio(m.seconds, floor_of[par]), _ratio(m.seconds, pyc_floor_of[par]),
                        m))  # fmt: skip
    for workers in sorted(floors):
        cold, warm = float(floors[workers]["seconds"]), float(floors[workers]["seconds_pyc_cached"])
        measured = res["f floor"] if workers == jobs else None
        rows.append(Row(f"f. import-only floor, {workers} worker(s)", cold, faster(cold),
                        "1.00x", _ratio(cold, warm), measured))  # fmt: skip
        rows.append(Row(f"f. floor, {workers} worker(s), .pyc already cached", warm,
                        faster(warm), "", "1.00x", None))  # fmt: skip
    listed = extra["listed"]
    rows.append(
        Row("`nox -l` (load the noxfile, list sessions)", listed.seconds, "", "", "", listed)
    )
    return rows


def nox_scenarios(jobs: int) -> list[tuple[str, int]]:
    """The nox scenarios and their parallelism."""
    return [
        ("b cold, sequential", 1),
        ("c warm, sequential", 1),
        (f"d cold, --jobs {jobs}", jobs),
        (f"e warm, --jobs {jobs}", jobs),
        (f"g warm, nox --parallel {jobs}", jobs),
        (f"h unchanged re-run, --jobs {jobs}", jobs),
    ]


def _goals(bench: Bench, extra: dict[str, Any]) -> list[str]:
    jobs, res = bench.jobs, bench.results
    rounds = {int(r["workers"]): r for r in extra["floor"]["rounds"]}
    cold, warm = res["b cold, sequential"], res["c warm, sequential"]
    cold_jobs, warm_jobs = res[f"d cold, --jobs {jobs}"], res[f"e warm, --jobs {jobs}"]
    par, again = res[f"g warm, nox --parallel {jobs}"], res[f"h unchanged re-run, --jobs {jobs}"]
    lines = []
    if "a original" in res:
        for m, what in ((cold, "sequential"), (cold_jobs, f"--jobs {jobs}")):
            speedup = res["a original"].seconds / m.seconds
            lines.append(
                f"- cold, {what}, at least 10x faster than the original ({jobs} threads): "
                f"{speedup:.1f}x ({'met' if speedup >= 10 else 'NOT met'})"
            )
    for m, workers, what in (
        (warm, 1, "sequential"),
        (warm_jobs, jobs, f"--jobs {jobs}"),
        (par, jobs, f"nox --parallel {jobs}"),
    ):
        ratio = m.seconds / float(rounds[workers]["seconds"])
        pyc = m.seconds / float(rounds[workers]["seconds_pyc_cached"])
        lines.append(
            f"- warm, within 1.3x of the import-only floor ({what}): {ratio:.2f}x "
            f"({'met' if ratio <= 1.3 else 'NOT met'}); against the floor with its .pyc "
            f"already written: {pyc:.2f}x ({'met' if pyc <= 1.3 else 'NOT met'}), the "
            "like-for-like bound when the checker's bytecode cache is warm"
        )
    for full, what in ((cold_jobs, "d, cold"), (warm_jobs, "e, warm")):
        share = again.seconds / full.seconds
        lines.append(
            f"- unchanged-folder re-run under 5% of a full run ({what}, same jobs): "
            f"{share * 100:.1f}% ({'met' if share < 0.05 else 'NOT met'})"
        )
    return lines


def _time_notes(bench: Bench, extra: dict[str, Any]) -> list[str]:
    res = bench.results
    lines = []
    sessions = len(bench.wheels) + 1
    for key in ("b cold, sequential", "c warm, sequential"):
        m = res[key]
        frags, frag_s = int(m.extra["fragments"]), float(m.extra["fragment_seconds"])
        reused = int(m.extra["reused"])
        overhead = m.seconds - frag_s
        startup = extra["listed"].seconds
        per_session = max(overhead - startup, 0.0)
        lines.append(
            f"- {key}: {frags} fragments written ({reused} reused an earlier result); the "
            f"`duration` of the {frags - reused} checked anew sums to {frag_s:.2f} s; "
            f"the rest, {overhead:.2f} s ({overhead / m.seconds * 100:.0f}% of the run), is "
            f"nox and session overhead: nox's start-up and the noxfile (`nox -l`, "
            f"{startup:.2f} s) and {per_session / sessions * 1000:.1f} ms per session "
            f"({sessions} sessions, {per_session / m.seconds * 100:.1f}% of the run: the "
            "sessions themselves, the aggregate and the report files)"
        )
    again = res[f"h unchanged re-run, --jobs {bench.jobs}"]
    lines.append(
        f"- h unchanged re-run: {int(again.extra['reused'])} of {int(again.extra['fragments'])} "
        f"fragments reused; {again.seconds:.2f} s in all, of which `nox -l` (start nox, load "
        f"the noxfile) is {extra['listed'].seconds:.2f} s: "
        f"{(again.seconds - extra['listed'].seconds) / sessions * 1000:.1f} ms per session"
    )
    for key, how in (
        (f"e warm, --jobs {bench.jobs}", "checks run ahead of their sessions in one nox process"),
        (f"g warm, nox --parallel {bench.jobs}", "nox runs each session in its own "
         "`python -m nox` child, which loads nox and the noxfile again"),
    ):  # fmt: skip
        m = res[key]
        busy, frag_s = m.seconds * bench.jobs, float(m.extra["fragment_seconds"])
        lines.append(
            f"- {key}: the fragments' `duration` sums to {frag_s:.2f} s of {busy:.2f} "
            f"worker-seconds ({bench.jobs} x {m.seconds:.2f} s); the rest is "
            f"{(busy - frag_s) / sessions * 1000:.0f} ms per session (an upper bound: it "
            f"includes idle workers): {how}"
        )
    steps = extra["steps"]
    lines.append(
        f"- the install step alone, sequential, warm cache: `uv venv` {steps['uv venv']:.2f} s "
        f"+ `uv pip install` {steps['uv pip install']:.2f} s for {len(bench.wheels)} wheels"
    )
    lines.append(
        "- `nox -l` alone (start nox, load the noxfile, compute the plan): "
        f"{extra['listed'].seconds:.2f} s"
    )
    floor_install = float(extra["floor"]["install_seconds"])
    lines.append(f"- the floor's one-venv install of every wheel: {floor_install:.2f} s")
    orig = extra["original"]
    if orig:
        ws = orig["wheels"]
        venv_s = sum(w["venv_seconds"] for w in ws)
        pip_s = sum(w["install_seconds"] for w in ws)
        imp_s = sum(w["import_seconds"] for w in ws)
        bad = [w for w in ws if w["failures"]]
        lines.append(
            f"- original, summed over its threads: `python -m venv` {venv_s:.1f} s, "
            f"`pip install` {pip_s:.1f} s, imports {imp_s:.1f} s; "
            f"{sum(len(w['modules']) for w in ws)} modules by its .so/.pyd scan; "
            f"{len(bad)} wheels with failures"
        )
    return lines


def _disk_note(extra: dict[str, Any]) -> str:
    disk = extra["disk"]
    text = (
        f"Disk: the checker's {extra['venv_count']} venvs (after c) take "
        f"{_mib(disk['venvs'])} (`du -s`, hard links once; apparent size "
        f"{_mib(disk['venvs apparent'])}); uv cache {_mib(disk['uv cache'])}; venvs and cache "
        f"together {_mib(disk['venvs + uv cache'])}, so the venvs' own blocks are "
        f"{_mib(disk['venvs + uv cache'] - disk['uv cache'])} (the rest is hard-linked from "
        f"the cache)."
    )
    if disk["original venvs"]:
        text += (
            f" The original's venvs: {_mib(disk['original venvs'])} (apparent "
            f"{_mib(disk['original venvs apparent'])})."
        )
    return text


def slowest(bench: Bench, count: int = 8) -> list[str]:
    """A table of the slowest wheels of the last nox run and where their time went (the
    ``details.seconds`` of each fragment: install, static facts, imports; the set check's)."""
    found = []
    for path in (bench.report_dir / "fragments").glob("*.json"):
        with contextlib.suppress(OSError, ValueError):
            data = json.loads(path.read_text(encoding="utf-8"))
            extra = data.get("extra") or data.get("details") or {}
            name = data.get("wheel") or "the set check (folder as one environment)"
            found.append((float(data.get("duration", 0.0)), name, extra.get("seconds") or {}))
    lines = ["| wheel | total | stages |", "| --- | ---: | --- |"]
    for total, name, stages in sorted(found, key=lambda item: -item[0])[:count]:
        shown = ", ".join(f"{k} {float(v):.2f}" for k, v in stages.items())
        lines.append(f"| {name} | {total:.2f} | {shown} |")
    return lines


def render(bench: Bench, facts: dict[str, str], extra: dict[str, Any]) -> str:
    sizes = sum(w.stat().st_size for w in bench.wheels)
    projects = sorted({w.name.split("-", 1)[0].lower() for w in bench.wheels})
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    floor = extra["floor"]
    lines = [
        f"## {now}: {len(bench.wheels)} wheels, --jobs {bench.jobs}",
        "",
        f"Corpus: `{bench.packages}`, {len(bench.wheels)} wheels, {sizes / 1024**2:.1f} MiB "
        f"({floor['modules']} extension modules in {floor['processes']} wheels): "
        f"{', '.join(projects)}.",
        "",
        "Machine: " + "; ".join(f"{k}: {v}" for k, v in facts.items()) + ".",
        "",
        "| scenario | seconds | vs original | vs floor (same parallelism) "
        "| vs floor with .pyc | largest process | process tree |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in _rows(bench, extra):
        m = row.measured
        largest = _mib(m.largest_kib) if m else ""
        tree = _mib(m.tree_kib) if m and m.tree_kib else ""
        lines.append(
            f"| {row.label} | {row.seconds:.2f} | {row.vs_original} | {row.vs_floor} "
            f"| {row.vs_pyc_floor} | {largest} | {tree} |"
        )
    lines += ["", "Goals of issue 7:", "", *_goals(bench, extra)]
    lines += ["", "The slowest wheels of the last run, by stage (seconds):", "", *slowest(bench)]
    lines += ["", "Where the time goes:", "", *_time_notes(bench, extra)]
    lines += [
        "",
        _disk_note(extra),
        "",
        'Memory: "largest process" is ru_maxrss of the scenario\'s process tree as '
        '`os.wait4` reports it, the largest single process (not a sum); "process tree" is '
        f"the peak of the summed RSS of all live processes, sampled every {SAMPLE_EVERY} s.",
    ]
    exits = ", ".join(
        f"{m.name}: {m.returncode}" for m in bench.results.values() if m.name[0] in "bcdegh"
    )
    lines.append(f"\nExit codes of nox (1 = some wheel failed the check): {exits}.")
    if floor.get("note"):
        lines.append(f"\nFloor: {floor['note']}.")
    if floor.get("errors"):
        errors = "; ".join(e.replace("\n", " / ") for e in floor["errors"])
        lines.append(f"\nFloor import errors ({len(floor['errors'])}): {errors}")
    lines += [f"\n{note}" for note in bench.notes]
    return "\n".join(lines) + "\n"


HEADER = """# Benchmark results (issue 7)

Written by `python benchmarks/run.py PACKAGES`; see benchmarks/README.md for the scenarios.
Newest run last.

"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("packages", type=Path, help="folder of wheels")
    parser.add_argument("--python", help="target interpreter (default: the one running nox)")
    parser.add_argument("--jobs", type=int, default=2, help="parallelism (original, d, f)")
    parser.add_argument("--skip-original", action="store_true")
    parser.add_argument("--output", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument("--tmp", type=Path, help="where to make the temp folder")
    parser.add_argument("--keep", action="store_true", help="keep the temp folder")
    args = parser.parse_args(argv)
    packages: Path = args.packages.resolve()
    wheels = sorted(packages.glob("*.whl"))
    if not wheels:
        print(f"run: no wheels in {packages}", file=sys.stderr)
        return 2
    python = args.python or default_python()
    if args.tmp:
        args.tmp.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="native-bench-", dir=args.tmp))
    bench = Bench(packages, python, args.python is not None, max(1, args.jobs), tmp, wheels)
    load_before = _load()
    if load_before != "?" and float(load_before) > 0.5:
        print(f"warning: load average {load_before}: other work on this machine skews the times")
    try:
        extra = run_all(bench, args.skip_original)
        facts = machine_facts(python)
        facts["load average (1 min) before / after"] = f"{load_before} / {_load()}"
        section = render(bench, facts, extra)
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    print()
    print(section)
    output: Path = args.output
    existing = output.read_text(encoding="utf-8") if output.exists() else HEADER
    output.write_text(existing.rstrip("\n") + "\n\n" + section, encoding="utf-8")
    print(f"appended to {output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
