"""Benchmark of variants (issue 12): what a run over variants that share their wheels costs.

    python benchmarks/variants.py SHARED POOL --python PY [--extra 2] [--many 12]

From the wheels of the folders SHARED (a set closed under its requirements) and POOL (wheels
that need nothing beyond SHARED), all for the interpreter PY, it lays out in a temp folder:

- ``one``: a variant of the SHARED wheels alone;
- ``two``: that variant and a second one with the same wheels plus EXTRA wheels of POOL;
- ``many``: MANY variants, each the SHARED wheels plus one wheel of POOL (rotating), so they
  share most of their wheels;

all on the interpreter PY (variants that share an interpreter can share checks). Every
scenario runs once untimed (warm uv cache, bytecode tree, static facts), then once timed with
fresh results (``NATIVE_CHECK_FRESH=1``): "warm caches, fresh results". The driver prints a
Markdown table and appends it to ``--output`` (default benchmarks/RESULTS.md).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
NOXFILE = HERE.parent / "noxfile.py"


def _layout(tmp: Path, name: str, wheels: list[Path]) -> Path:
    folder = tmp / "folders" / name
    folder.mkdir(parents=True)
    for wheel in wheels:
        os.link(wheel, folder / wheel.name)  # the same bytes, as copies of one wheel are
    return folder


def _config(tmp: Path, scenario: str, variants: dict[str, list[Path]], python: str) -> Path:
    lines = []
    for name, wheels in variants.items():
        folder = _layout(tmp / scenario, name, wheels)
        lines += [f'[variants."{name}"]', f'python = "{python}"', f'packages = "{folder}"', ""]
    path = tmp / f"{scenario}.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _run(tmp: Path, config: Path, jobs: int) -> tuple[float, dict[str, object]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NATIVE_CHECK_", "UV_"))}
    env.pop("VIRTUAL_ENV", None)
    env.update(
        NATIVE_CHECK_VARIANTS=str(config),
        NATIVE_CHECK_REPORT_DIR=str(tmp / "report"),
        NATIVE_CHECK_WORK_DIR=str(tmp / "work"),
        NATIVE_CHECK_FRESH="1",
        NATIVE_CHECK_JOBS=str(jobs),
        UV_PYTHON_DOWNLOADS="never",
        UV_CACHE_DIR=str(tmp / "uv-cache"),
        NO_COLOR="1",
    )
    command = [sys.executable, "-m", "nox", "-f", str(NOXFILE), "--envdir", str(tmp / "env")]
    command += ["--script-mode", "none", "-s", "check_native"]
    start = time.perf_counter()
    proc = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    report_path = tmp / "report" / "report.json"
    if proc.returncode not in (0, 1) or not report_path.exists():
        tail = proc.stdout[-2000:] + proc.stderr[-2000:]
        raise SystemExit(f"nox failed ({proc.returncode}):\n{tail}")
    report = json.loads(report_path.read_text(encoding="utf-8"))
    return seconds, report["summary"]


def _first(item: tuple[float, dict[str, object]]) -> float:
    return item[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("shared", type=Path)
    parser.add_argument("pool", type=Path)
    parser.add_argument("--python", required=True)
    parser.add_argument("--extra", type=int, default=2)
    parser.add_argument("--many", type=int, default=12)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs; the median counts")
    parser.add_argument("--output", type=Path, default=HERE / "RESULTS.md")
    args = parser.parse_args(argv)
    shared, rest = sorted(args.shared.glob("*.whl")), sorted(args.pool.glob("*.whl"))
    if len(rest) < args.extra or not shared:
        raise SystemExit(f"{args.pool}: needs at least {args.extra} wheels")
    many = {f"v{i:02d}": [*shared, rest[i % len(rest)]] for i in range(args.many)}
    distinct = len({w for ws in many.values() for w in ws})
    scenarios = {
        "one": {"base": shared},
        "two": {"base": shared, "extra": shared + rest[: args.extra]},
        "many": many,
    }
    results: dict[str, tuple[float, dict[str, object]]] = {}
    with tempfile.TemporaryDirectory(prefix="nic-variants-bench-") as name:
        tmp = Path(name)
        for scenario, variants in scenarios.items():
            config = _config(tmp, scenario, variants, args.python)
            _run(tmp, config, args.jobs)  # warm-up: uv cache, bytecode, static facts
            runs = sorted((_run(tmp, config, args.jobs) for _ in range(args.repeat)), key=_first)
            results[scenario] = runs[len(runs) // 2]
            print(f"{scenario}: {results[scenario][0]:.1f} s {results[scenario][1]}", flush=True)
        shutil.rmtree(tmp / "work", ignore_errors=True)
    one, two, lots = (results[k][0] for k in ("one", "two", "many"))
    checks = sum(len(v) for v in many.values())
    rows = [
        "| scenario | variants | wheel checks | shared | seconds | vs one variant |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for scenario, variants in scenarios.items():
        seconds, summary = results[scenario]
        rows.append(
            f"| {scenario} | {len(variants)} | {summary['total']} | {summary['shared']} "
            f"| {seconds:.1f} | {seconds / one:.2f}x |"
        )
    text = "\n".join(
        [
            "",
            f"## Variants (issue 12), {time.strftime('%Y-%m-%d')}",
            "",
            f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {args.python}; "
            f"{len(shared)} shared wheels, a pool of {len(rest)}, --jobs {args.jobs}, "
            "warm caches, fresh results, the median of "
            f"{args.repeat} runs (`benchmarks/variants.py`).",
            "",
            *rows,
            "",
            f"- Two variants sharing {len(shared)} wheels, one with {args.extra} more: "
            f"{two / one:.2f}x one variant alone (goal: at most 1.3x).",
            f"- {args.many} variants ({checks} wheel checks, {distinct} distinct wheels): "
            f"{lots / one:.2f}x one variant of {len(shared)} wheels; the distinct wheels are "
            f"{distinct / len(shared):.2f}x a variant's, {args.many} separate variants would be "
            f"~{args.many}x.",
            "",
        ]
    )
    print(text)
    with args.output.open("a", encoding="utf-8") as handle:
        handle.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
