"""The import-only floor: what importing every extension costs, with nothing else around it.

ONE uv venv gets every wheel of the folder, installed offline in one go
(``uv pip install --no-index --find-links PACKAGES *.whl``; if the set conflicts, wheel by
wheel, skipping the ones that fail, and says so). Then one process per wheel imports all of
that wheel's extension modules, ``--workers`` processes at a time. The module list is the
checker's own (``checker.wheel.contents.open_wheel`` + ``extension_candidates`` with the target's
``EXTENSION_SUFFIXES`` + ``checker.wheel.modules.plan_modules``), so the floor imports exactly what
a probe imports. Each process runs like the probe's: ``-I`` (isolated), bytecode writing on,
an empty working directory.

For each worker count the imports run twice: first after every ``__pycache__`` of the venv
was removed (as in a freshly installed venv: the ``.pyc`` files get written), then again with
the ``.pyc`` files in place. The first is "the floor"; the second is a stricter lower bound.

    python benchmarks/floor.py PACKAGES --python PY --workers 1 2 --work DIR [--json OUT]

Installing is not part of the floor (its time is printed separately).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the checker package (read-only use)

from checker.probe.install import find_uv, uv_environment  # noqa: E402
from checker.wheel.contents import extension_candidates, open_wheel  # noqa: E402
from checker.wheel.modules import plan_modules  # noqa: E402

IMPORT_TIMEOUT = 300.0

# Imports every module named on the command line; a failure is printed, never fatal.
_IMPORTER = """
import importlib, sys, traceback
bad = 0
for name in sys.argv[1:]:
    try:
        importlib.import_module(name)
    except BaseException as exc:
        bad += 1
        print(f"{name}: {type(exc).__name__}: {exc}".splitlines()[0], file=sys.stderr)
sys.exit(1 if bad else 0)
"""


def extension_suffixes(python: str) -> list[str]:
    code = "import importlib.machinery as m, json; print(json.dumps(m.EXTENSION_SUFFIXES))"
    out = subprocess.run([python, "-c", code], capture_output=True, text=True, check=True)
    return [str(s) for s in json.loads(out.stdout)]


def modules_of(wheel: Path, suffixes: list[str]) -> list[str]:
    contents, _findings = open_wheel(wheel)
    if contents is None:
        return []
    with contents:
        plan = plan_modules(contents, extension_candidates(contents, suffixes), ())
        return [c.module for c in plan.to_import]


def install_all(uv: str, python: str, venv: Path, packages: Path, wheels: list[Path]) -> str:
    """Install the wheels into one venv; returns a note about what could not be installed."""
    env = uv_environment()
    subprocess.run(
        [uv, "venv", "--quiet", "--no-config", "--no-project", "--no-python-downloads",
         "--python", python, str(venv)],
        check=True, env=env,
    )  # fmt: skip
    vpython = str(venv / "bin" / "python")
    base = [uv, "pip", "install", "--quiet", "--no-config", "--offline", "--no-index",
            "--no-build", "--find-links", str(packages), "--python", vpython]  # fmt: skip
    proc = subprocess.run(
        [*base, *map(str, wheels)], capture_output=True, text=True, env=env, check=False
    )
    if proc.returncode == 0:
        return ""
    skipped = []
    for wheel in wheels:
        one = subprocess.run([*base, str(wheel)], capture_output=True, env=env, check=False)
        if one.returncode != 0:
            skipped.append(wheel.name)
    return "the set does not install together; installed wheel by wheel, skipped: " + (
        ", ".join(skipped) or "none"
    )


def purge_bytecode(venv: Path) -> None:
    for cache in list(venv.rglob("__pycache__")):
        shutil.rmtree(cache, ignore_errors=True)


def import_round(
    vpython: str, jobs: list[list[str]], workers: int, cwd: Path
) -> tuple[float, list[str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env.pop("VIRTUAL_ENV", None)

    def one(modules: list[str]) -> str:
        try:
            proc = subprocess.run(
                [vpython, "-I", "-c", _IMPORTER, *modules],
                capture_output=True, text=True, env=env, cwd=cwd, timeout=IMPORT_TIMEOUT,
                check=False,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            return f"{modules[0]}...: timeout"
        return proc.stderr.strip() if proc.returncode else ""

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        errors = [e for e in pool.map(one, jobs) if e]
    return time.perf_counter() - started, errors


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("packages", type=Path, help="folder of wheels")
    parser.add_argument("--python", default=sys.executable, help="target interpreter")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--work", type=Path, required=True, help="work folder (emptied first)")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args(argv)
    packages: Path = args.packages.resolve()
    wheels = sorted(packages.glob("*.whl"))
    if not wheels:
        print(f"floor: no wheels in {packages}", file=sys.stderr)
        return 2
    work: Path = args.work.resolve()
    if work.exists():
        shutil.rmtree(work)
    cwd = work / "cwd"
    cwd.mkdir(parents=True)
    venv = work / "venv"
    started = time.perf_counter()
    note = install_all(find_uv(), args.python, venv, packages, wheels)
    install_seconds = time.perf_counter() - started
    if note:
        print(f"floor: {note}")
    suffixes = extension_suffixes(args.python)
    jobs = [mods for mods in (modules_of(w, suffixes) for w in wheels) if mods]
    count = sum(map(len, jobs))
    print(
        f"floor: installed {len(wheels)} wheels into one venv in {install_seconds:.2f} s; "
        f"{count} extension modules in {len(jobs)} wheels"
    )
    vpython = str(venv / "bin" / "python")
    results = []
    errors: list[str] = []
    for workers in args.workers:
        purge_bytecode(venv)
        cold, errors = import_round(vpython, jobs, workers, cwd)
        warm, _ = import_round(vpython, jobs, workers, cwd)
        print(f"floor: {workers} workers: {cold:.2f} s (no .pyc yet), {warm:.2f} s (.pyc cached)")
        results.append({"workers": workers, "seconds": cold, "seconds_pyc_cached": warm})
    for error in errors:
        print(f"floor: import failed: {error}")
    if args.json:
        args.json.write_text(
            json.dumps({"install_seconds": install_seconds, "note": note, "modules": count,
                        "processes": len(jobs), "rounds": results, "errors": errors},
                       indent=1),
            encoding="utf-8",
        )  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
