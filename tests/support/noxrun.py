"""Run the real ``python -m nox`` on the project's noxfile, every output under a temp folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
# Variables of the calling environment that would change what a run prints or does (a test
# run inside GitHub Actions must not write to the real step summary).
FOREIGN = ("GITHUB_", "NOX_", "NATIVE_CHECK_")


@dataclass(frozen=True)
class NoxRun:
    code: int
    stdout: str
    stderr: str
    report: dict[str, Any] | None
    seconds: float
    report_dir: Path

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def nox_run(
    tmp: Path,
    packages: Path,
    *args: str,
    env: Mapping[str, str] | None = None,
    noxfile: Path = ROOT / "noxfile.py",
) -> NoxRun:
    """nox with the packages folder, report, work and env dirs set, and report.json read."""
    report_dir = tmp / "report"
    environ = {k: v for k, v in os.environ.items() if not k.startswith(FOREIGN)}
    environ.update(
        {
            "NATIVE_CHECK_PACKAGES": str(packages),
            "NATIVE_CHECK_REPORT_DIR": str(report_dir),
            "NATIVE_CHECK_WORK_DIR": str(tmp / "work"),
            "UV_PYTHON_DOWNLOADS": "never",
            **(env or {}),
        }
    )
    command = [sys.executable, "-m", "nox", "-f", str(noxfile)]
    command += ["--envdir", str(tmp / "nox-envs"), *args]
    start = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True, env=environ, check=False)
    seconds = time.perf_counter() - start
    report_path = report_dir / "report.json"
    report = json.loads(report_path.read_text()) if report_path.exists() else None
    return NoxRun(proc.returncode, proc.stdout, proc.stderr, report, seconds, report_dir)


def run_nox(
    tmp: Path, packages: Path, *args: str, env: Mapping[str, str] | None = None
) -> tuple[int, str, dict[str, Any] | None]:
    """(exit code, stdout + stderr, report.json) of a nox run (see nox_run)."""
    run = nox_run(tmp, packages, *args, env=env)
    return run.code, run.output, run.report
