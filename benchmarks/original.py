"""The original tool's method, re-implemented from its description (issue 7), stdlib only.

For each wheel of the folder, in a thread pool of ``--workers`` threads:

1. ``PY -m venv VENV`` (with pip, as the original did: ensurepip runs every time);
2. ``VENV/bin/python -m pip install --no-index --find-links PACKAGES WHEEL``;
3. find the native extension modules by a plain scan of the wheel's name list for ``.so`` /
   ``.pyd`` files (members under ``*.data/`` are ignored, as the original did);
4. one fresh ``VENV/bin/python -c "import m"`` per module.

    python benchmarks/original.py PACKAGES --python PY --workers N --work DIR [--json OUT]

pip runs isolated from this machine's configuration (``PIP_CONFIG_FILE`` = the null device,
every other ``PIP_*`` variable dropped): the original ran with ``--no-index`` and nothing else.
Prints the failures of each wheel and the total time; exit code 0 even when imports fail
(this is a benchmark, not a check), 2 on a usage error.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

IMPORT_TIMEOUT = 120.0


@dataclass
class WheelRun:
    wheel: str
    seconds: float = 0.0
    venv_seconds: float = 0.0
    install_seconds: float = 0.0
    import_seconds: float = 0.0
    modules: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def pip_environment() -> dict[str, str]:
    """This process's environment without any pip setting, plus the original's isolation."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env.pop("VIRTUAL_ENV", None)
    env.pop("PYTHONPATH", None)
    env["PIP_CONFIG_FILE"] = os.devnull
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["PIP_NO_INPUT"] = "1"
    return env


def native_modules(wheel: Path) -> list[str]:
    """Import names of the ``.so`` / ``.pyd`` members, by the original's simple scan."""
    modules: set[str] = set()
    with zipfile.ZipFile(wheel) as archive:
        for name in archive.namelist():
            if not name.endswith((".so", ".pyd")):
                continue
            parts = name.split("/")
            # ``.data/`` is ignored; ``x.dist-info`` / ``x.libs`` folders are not packages.
            if any("." in part for part in parts[:-1]):
                continue
            leaf = parts[-1].split(".", 1)[0]
            modules.add(".".join([*parts[:-1], leaf]))
    return sorted(modules)


def venv_python(venv: Path) -> Path:
    if sys.platform == "win32":
        return venv / "Scripts" / "python.exe"
    return venv / "bin" / "python"


def _tail(text: str, lines: int = 3) -> str:
    kept = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return " | ".join(kept[-lines:])


def check_wheel(
    wheel: Path, packages: Path, python: str, work: Path, env: dict[str, str]
) -> WheelRun:
    run = WheelRun(wheel.name)
    started = time.perf_counter()
    venv = work / "venvs" / wheel.name.removesuffix(".whl")
    cwd = work / "cwd"
    step = time.perf_counter()
    proc = subprocess.run(
        [python, "-m", "venv", str(venv)], capture_output=True, text=True, env=env, check=False
    )
    run.venv_seconds = time.perf_counter() - step
    if proc.returncode != 0:
        run.failures.append(f"venv: {_tail(proc.stderr + proc.stdout)}")
        run.seconds = time.perf_counter() - started
        return run
    vpython = str(venv_python(venv))
    step = time.perf_counter()
    proc = subprocess.run(
        [vpython, "-m", "pip", "install", "--no-index", "--find-links", str(packages),
         str(wheel)],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    run.install_seconds = time.perf_counter() - step
    if proc.returncode != 0:
        run.failures.append(f"install: {_tail(proc.stderr + proc.stdout)}")
        run.seconds = time.perf_counter() - started
        return run
    run.modules = native_modules(wheel)
    step = time.perf_counter()
    for module in run.modules:
        try:
            proc = subprocess.run(
                [vpython, "-c", f"import {module}"],
                capture_output=True, text=True, env=env, cwd=cwd, timeout=IMPORT_TIMEOUT,
                check=False,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            run.failures.append(f"{module}: timeout after {IMPORT_TIMEOUT:.0f} s")
            continue
        if proc.returncode != 0:
            run.failures.append(f"{module}: {_tail(proc.stderr, 1)}")
    run.import_seconds = time.perf_counter() - step
    run.seconds = time.perf_counter() - started
    return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("packages", type=Path, help="folder of wheels")
    parser.add_argument("--python", default=sys.executable, help="target interpreter")
    parser.add_argument("--workers", type=int, default=2, help="threads (wheels at once)")
    parser.add_argument("--work", type=Path, required=True, help="work folder (emptied first)")
    parser.add_argument("--json", type=Path, help="write the per-wheel results here")
    args = parser.parse_args(argv)
    packages: Path = args.packages.resolve()
    wheels = sorted(packages.glob("*.whl"))
    if not wheels:
        print(f"original: no wheels in {packages}", file=sys.stderr)
        return 2
    work: Path = args.work.resolve()
    if work.exists():
        shutil.rmtree(work)
    (work / "cwd").mkdir(parents=True)
    env = pip_environment()
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=max(1, args.workers)) as pool:
        runs = list(pool.map(lambda w: check_wheel(w, packages, args.python, work, env), wheels))
    total = time.perf_counter() - started
    failed = 0
    for run in runs:
        if run.failures:
            failed += 1
            print(f"FAIL {run.wheel} ({run.seconds:.1f} s)")
            for failure in run.failures:
                print(f"     {failure}")
    modules = sum(len(r.modules) for r in runs)
    print(
        f"original: {len(runs)} wheels, {modules} modules, {failed} with failures, "
        f"{args.workers} workers: {total:.2f} s"
    )
    if args.json:
        args.json.write_text(
            json.dumps({"seconds": total, "workers": args.workers,
                        "wheels": [asdict(r) for r in runs]}, indent=1),
            encoding="utf-8",
        )  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
