"""The scenarios of benchmarks/run.py: the temp folders and environment of a run, the nox
command lines, and the runs themselves in order (a original, b-e and g-h ``nox -s
check_native``, f the import-only floor, ``nox -l`` and the uv steps alone)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from facts import du_kib, find_uv, fragment_stats
from measure import Measurement, measure

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
NOXFILE = ROOT / "noxfile.py"
# nox's exit codes that still mean "the run completed" (1: some wheel failed the check).
COMPLETED = (0, 1)


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
