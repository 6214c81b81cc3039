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

This file parses the arguments and runs the rest: measure.py (one process tree: time and
peak memory), facts.py (the machine, disk use, fragments), scenarios.py (the runs, in order)
and summary.py (the Markdown section and appending it to ``--output``).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from facts import load_average, machine_facts
from scenarios import Bench, default_python, run_all
from summary import append_section, render

HERE = Path(__file__).resolve().parent


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
    load_before = load_average()
    if load_before != "?" and float(load_before) > 0.5:
        print(f"warning: load average {load_before}: other work on this machine skews the times")
    try:
        extra = run_all(bench, args.skip_original)
        facts = machine_facts(python)
        facts["load average (1 min) before / after"] = f"{load_before} / {load_average()}"
        section = render(bench, facts, extra)
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    print()
    print(section)
    output: Path = args.output
    append_section(output, section)
    print(f"appended to {output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
