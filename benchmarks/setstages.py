"""The set check against the probes beside it (issue 22): stage timings from the fragments.

    python benchmarks/setstages.py FOLDER --python PY [--jobs 2] [--output benchmarks/RESULTS.md]

Runs ``nox -s check_native`` on FOLDER twice, both fresh (``NATIVE_CHECK_FRESH=1``): cold
(empty uv cache and work folder) and warm (uv cache, bytecode tree and static facts kept).
For each run it reports the wall time, the set check's stages (``details.seconds`` of the set
fragment: prepare, install, static, forward, reverse, passes = both import passes at once,
alone), how many of the set venv's static facts were read rather than computed, the probes'
summed stages, when the last probe ended (seconds after the set check began) and the load
average before the run. On a heavy folder (torch with its CUDA wheels) the set check is the
long pole when it ends well after the last probe.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from facts import load_average  # noqa: E402
from scenarios import Bench  # noqa: E402


def stages(fragments: Path) -> dict[str, Any]:
    """The set fragment's stages and the probes' summed stages, from ``fragments``."""
    data = json.loads((fragments / "_set.json").read_text(encoding="utf-8"))
    details = data["details"]
    begun = float(details.get("started", 0.0))
    probes: dict[str, float] = {}
    last = 0.0
    for path in fragments.glob("*.whl.json"):
        frag = json.loads(path.read_text(encoding="utf-8"))
        extra = frag.get("extra") or {}
        for name, value in (extra.get("seconds") or {}).items():
            probes[name] = probes.get(name, 0.0) + float(value)
        last = max(last, float(extra.get("started", begun)) + float(frag["duration"]) - begun)
    return {
        "set": round(float(data["duration"]), 2),
        "set_stages": {k: round(float(v), 2) for k, v in details.get("seconds", {}).items()},
        "static_facts": details.get("static_facts", {}),
        "probes": {k: round(v, 2) for k, v in sorted(probes.items())},
        "last_probe_end": round(last, 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--python", required=True)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--output", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument("--label", default="")
    parser.add_argument("--tmp", default=None, help="where the temp folder goes")
    args = parser.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="nic-setstages-", dir=args.tmp))
    wheels = sorted(args.folder.glob("*.whl"))
    bench = Bench(args.folder, args.python, True, args.jobs, tmp, wheels)
    bench.logs.mkdir(parents=True, exist_ok=True)
    rows = []
    try:
        for label in ("cold", "warm"):
            if label == "cold":
                bench.make_cold()
            shutil.rmtree(bench.report_dir, ignore_errors=True)
            load = load_average()
            result = bench.run_nox(label, jobs=args.jobs)
            row = {"run": label, "wall": round(result.seconds, 2), "load": load,
                   "cpu": result.extra.get("cpu"),
                   "exit": result.returncode, **stages(bench.report_dir / "fragments")}  # fmt: skip
            print(row, flush=True)
            rows.append(row)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    lines = [
        "",
        f"## Set check stages{' ' + args.label if args.label else ''} "
        f"({time.strftime('%Y-%m-%d %H:%M')}, `benchmarks/setstages.py`, --jobs {args.jobs})",
        "",
        f"Folder: `{args.folder}`, {len(wheels)} wheels; target {args.python}.",
        "",
        "| run | wall s | CPU s | set check s | set stages s | static facts | probes' stages s "
        "| last probe ends s | load before |",
        "| --- | ---: | ---: | ---: | --- | --- | --- | ---: | --- |",
    ]
    for r in rows:
        lines.append(
            f"| {r['run']} | {r['wall']} | {r['cpu']} | {r['set']} | {r['set_stages']} "
            f"| {r['static_facts']} "
            f"| {r['probes']} | {r['last_probe_end']} | {r['load']} |"
        )
    text = "\n".join(lines) + "\n"
    print(text)
    with args.output.open("a", encoding="utf-8") as handle:
        handle.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
