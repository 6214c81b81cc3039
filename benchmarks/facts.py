"""Facts about a benchmark run (benchmarks/run.py): the machine and its load, the tools'
versions, the disk a folder takes and the result fragments a run wrote."""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import subprocess
import sys
from pathlib import Path


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


def load_average() -> str:
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
