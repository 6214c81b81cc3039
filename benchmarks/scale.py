"""Scale benchmark (issue 22): per-wheel overhead of ``nox -s check_native`` at N wheels.

    python benchmarks/scale.py --sizes 100 1000 [--native-share 0.1] [--jobs 2]
                               [--python PY] [--output benchmarks/RESULTS.md] [--keep]

For each size N a corpus is generated (``generate``): N small real-format wheels, a share of
them with a gcc-built C extension (one module each), the rest pure Python, in requirement
chains of up to five (wheel i needs wheel i-1 unless i is a multiple of 5). Then
``nox -s check_native`` runs cold (empty uv cache and work folder) and warm (caches kept),
both fresh (``NATIVE_CHECK_FRESH=1``), with ``--jobs``. The per-wheel overhead beyond the
native imports is (wall time - the imports' seconds / jobs) / N, the imports' seconds being
the sum of ``details.seconds.imports`` of the fragments (the probes' own measure).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from facts import load_average, machine_facts  # noqa: E402
from scenarios import Bench, default_python  # noqa: E402

from tests.support.wheelbuild import (  # noqa: E402
    compile_shared,
    make_wheel,
    module_source,
    python_build,
)

CHAIN = 5


def generate(folder: Path, count: int, native_share: float, python: str, build_dir: Path) -> int:
    """Write ``count`` wheels into ``folder``; returns how many are native."""
    build = python_build(Path(python))
    every = max(1, round(1 / native_share)) if native_share > 0 else 0
    natives = 0
    for i in range(count):
        name = f"nicscale{i:04d}"
        files: dict[str, bytes | str] = {
            f"{name}/__init__.py": f"VALUE = {i}\n",
            f"{name}/util.py": "def f(x):\n    return x + 1\n",
        }
        requires = [f"nicscale{i - 1:04d}"] if i % CHAIN else []
        tag = "py3-none-any"
        if every and i % every == 0:
            leaf = f"_ext{i:04d}"
            out = build_dir / name / f"{leaf}{build.ext_suffix}"
            files[f"{name}/{leaf}{build.ext_suffix}"] = compile_shared(
                build, module_source(leaf), out
            )
            tag = build.tag
            natives += 1
        make_wheel(folder, name, "1.0", files, tag=tag, requires_dist=requires)
    return natives


def _imports_seconds(fragments: Path) -> tuple[float, int, dict[str, int]]:
    """Sum of the probes' import seconds, fragments read, install statuses."""
    total, count, installs = 0.0, 0, {}
    for path in fragments.glob("*.json"):
        if path.name.startswith("_"):
            continue
        data = json.loads(path.read_text(encoding="utf-8"))
        count += 1
        installs[data["install"]] = installs.get(data["install"], 0) + 1
        total += float((data.get("extra") or {}).get("seconds", {}).get("imports", 0.0))
    return total, count, installs


def _set_seconds(fragments: Path) -> dict[str, float]:
    path = fragments / "_set.json"
    if not path.exists():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return {**data["details"].get("seconds", {}), "total": round(data["duration"], 2)}


def run_size(
    size: int, args: argparse.Namespace, python: str, tmp: Path
) -> list[dict[str, object]]:
    folder = tmp / f"packages-{size}"
    started = time.perf_counter()
    natives = generate(folder, size, args.native_share, python, tmp / f"build-{size}")
    print(f"generated {size} wheels ({natives} native) in {time.perf_counter() - started:.1f} s")
    bench = Bench(folder, python, args.python is not None, args.jobs, tmp / f"run-{size}",
                  sorted(folder.glob("*.whl")))  # fmt: skip
    bench.logs.mkdir(parents=True, exist_ok=True)
    rows = []
    for label in ("cold", "warm"):
        if label == "cold":
            bench.make_cold()
        shutil.rmtree(bench.report_dir, ignore_errors=True)
        load = load_average()
        result = bench.run_nox(f"{size} {label}", jobs=args.jobs)
        imports, count, installs = _imports_seconds(bench.report_dir / "fragments")
        overhead = (result.seconds - imports / args.jobs) / size
        rows.append({
            "wheels": size, "native": natives, "run": label, "seconds": round(result.seconds, 2),
            "exit": result.returncode, "imports": round(imports, 2), "fragments": count,
            "installs": installs, "per_wheel": round(overhead, 4), "load": load,
            "set": _set_seconds(bench.report_dir / "fragments"),
        })  # fmt: skip
        print(f"  {rows[-1]}", flush=True)
    return rows


def render(rows: list[dict[str, object]], facts: dict[str, str], jobs: int) -> str:
    lines = [
        f"## Scale ({time.strftime('%Y-%m-%d %H:%M')}, `benchmarks/scale.py`, --jobs {jobs})",
        "",
        f"Machine: {facts.get('cpu', '?')}, {facts.get('cpus (nproc)', '?')} CPUs; "
        f"python {facts.get('target python', '?')}.",
        "",
        "| wheels | native | run | wall s | imports s | overhead s/wheel | set check s "
        "| load before | installs |",
        "| ---: | ---: | --- | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for r in rows:
        set_total = r["set"].get("total", "") if isinstance(r["set"], dict) else ""
        lines.append(
            f"| {r['wheels']} | {r['native']} | {r['run']} | {r['seconds']} | {r['imports']} "
            f"| {r['per_wheel']} | {set_total} | {r['load']} | {r['installs']} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--native-share", type=float, default=0.1)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--python", help="target interpreter (default: the one running nox)")
    parser.add_argument("--output", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument("--tmp", type=Path, help="where to make the temp folder")
    parser.add_argument("--keep", action="store_true", help="keep the temp folder")
    args = parser.parse_args(argv)
    python = args.python or default_python()
    tmp = Path(tempfile.mkdtemp(prefix="scale-", dir=args.tmp))
    try:
        rows = [row for size in args.sizes for row in run_size(size, args, python, tmp)]
        section = render(rows, machine_facts(python), args.jobs)
        print(section)
        with args.output.open("a", encoding="utf-8") as out:
            out.write("\n" + section)
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
