"""Benchmark of heavy wheels (issue 14): the static audit of one big wheel against
``auditwheel show``, time and peak memory, in one run.

    python benchmarks/heavy.py WHEEL --python PY [--output benchmarks/RESULTS.md]

auditwheel is installed from PyPI into a temp venv (pip); ``nox -s audit`` runs on a folder
holding only WHEEL, with a cold work folder (no static facts kept). Peak memory is the
largest process of each command's tree (``os.wait4``) and the sampled sum over the tree.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from measure import measure  # noqa: E402  (benchmarks/measure.py)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("wheel", type=Path)
    parser.add_argument("--python", required=True)
    parser.add_argument("--output", type=Path, default=HERE / "RESULTS.md")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="nic-heavy-") as name:
        tmp = Path(name)
        logs = tmp / "logs"
        logs.mkdir()
        venv = tmp / "auditwheel"
        subprocess.run([args.python, "-m", "venv", str(venv)], check=True)
        pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "auditwheel"]
        subprocess.run(pip, check=True)
        folder = tmp / "folder"
        folder.mkdir()
        os.link(args.wheel, folder / args.wheel.name)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("NATIVE_CHECK_", "UV_"))}
        env.update(
            NATIVE_CHECK_PACKAGES=str(folder),
            NATIVE_CHECK_WORK_DIR=str(tmp / "work"),
            NATIVE_CHECK_REPORT_DIR=str(tmp / "report"),
            UV_PYTHON_DOWNLOADS="never",
        )
        show = [str(venv / "bin" / "auditwheel"), "show", str(args.wheel)]
        auditwheel = measure("auditwheel show", show, env, logs)
        nox = [sys.executable, "-m", "nox", "-f", str(HERE.parent / "noxfile.py"),
               "--envdir", str(tmp / "env"), "--script-mode", "none", "-s", "audit",
               "-P", args.python]  # fmt: skip
        audit = measure("nox -s audit", nox, env, logs)
    size = args.wheel.stat().st_size / 1024**2
    rows = [
        "| command | seconds | largest process | process tree |",
        "| --- | ---: | ---: | ---: |",
    ]
    for m in (auditwheel, audit):
        rows.append(
            f"| `{m.name}` | {m.seconds:.1f} | {m.largest_kib / 1024:.0f} MiB "
            f"| {m.tree_kib / 1024:.0f} MiB |"
        )
    text = "\n".join(
        [
            "",
            f"## Heavy wheel (issue 14), {time.strftime('%Y-%m-%d')}",
            "",
            f"`{args.wheel.name}` ({size:.0f} MiB), cold (no static facts kept), "
            f"{os.cpu_count()} CPUs (`benchmarks/heavy.py`).",
            "",
            *rows,
            "",
            f"- `nox -s audit` is {auditwheel.seconds / audit.seconds:.1f}x faster than "
            f"`auditwheel show` (goal: 5x), peak {audit.largest_kib / 1024:.0f} MiB "
            "(goal: at most 300 MB). It also checks every RECORD hash, which inflates every "
            "byte of the wheel; auditwheel does not.",
            "",
        ]
    )
    print(text)
    with args.output.open("a", encoding="utf-8") as handle:
        handle.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
