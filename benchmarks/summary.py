"""The report of benchmarks/run.py: the table of the scenarios, the goals of issue 7, where
the time goes, memory and disk, as a Markdown section appended to RESULTS.md."""

from __future__ import annotations

import contextlib
import datetime
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from measure import SAMPLE_EVERY, Measurement
from scenarios import Bench


def _mib(kib: int) -> str:
    return f"{kib / 1024:.0f} MiB"


def _ratio(a: float | None, b: float | None) -> str:
    if not a or not b:
        return "-"
    return f"{a / b:.2f}x"


@dataclass(frozen=True)
class Row:
    label: str
    seconds: float
    vs_original: str
    vs_floor: str
    vs_pyc_floor: str
    measured: Measurement | None


def _rows(bench: Bench, extra: dict[str, Any]) -> list[Row]:
    jobs, res = bench.jobs, bench.results
    floors = {int(r["workers"]): r for r in extra["floor"]["rounds"]}
    floor_of = {w: float(floors[w]["seconds"]) for w in (1, jobs)}
    pyc_floor_of = {w: float(floors[w]["seconds_pyc_cached"]) for w in (1, jobs)}
    original = res.get("a original")
    orig_s = original.seconds if original else None

    def faster(seconds: float) -> str:
        return _ratio(orig_s, seconds) + " faster" if orig_s else "-"

    rows = []
    if original:
        rows.append(Row(f"a. original method, {jobs} threads", original.seconds, "1.00x",
                        _ratio(original.seconds, floor_of[jobs]),
                        _ratio(original.seconds, pyc_floor_of[jobs]), original))  # fmt: skip
    for key, par in nox_scenarios(jobs):
        m = res[key]
        rows.append(Row(f"{key[0]}. check_native, {key[2:]}", m.seconds, faster(m.seconds),
                        _ratio(m.seconds, floor_of[par]), _ratio(m.seconds, pyc_floor_of[par]),
                        m))  # fmt: skip
    for workers in sorted(floors):
        cold, warm = float(floors[workers]["seconds"]), float(floors[workers]["seconds_pyc_cached"])
        measured = res["f floor"] if workers == jobs else None
        rows.append(Row(f"f. import-only floor, {workers} worker(s)", cold, faster(cold),
                        "1.00x", _ratio(cold, warm), measured))  # fmt: skip
        rows.append(Row(f"f. floor, {workers} worker(s), .pyc already cached", warm,
                        faster(warm), "", "1.00x", None))  # fmt: skip
    listed = extra["listed"]
    rows.append(
        Row("`nox -l` (load the noxfile, list sessions)", listed.seconds, "", "", "", listed)
    )
    return rows


def nox_scenarios(jobs: int) -> list[tuple[str, int]]:
    """The nox scenarios and their parallelism."""
    return [
        ("b cold, sequential", 1),
        ("c warm, sequential", 1),
        (f"d cold, --jobs {jobs}", jobs),
        (f"e warm, --jobs {jobs}", jobs),
        (f"g warm, nox --parallel {jobs}", jobs),
        (f"h unchanged re-run, --jobs {jobs}", jobs),
    ]


def _goals(bench: Bench, extra: dict[str, Any]) -> list[str]:
    jobs, res = bench.jobs, bench.results
    rounds = {int(r["workers"]): r for r in extra["floor"]["rounds"]}
    cold, warm = res["b cold, sequential"], res["c warm, sequential"]
    cold_jobs, warm_jobs = res[f"d cold, --jobs {jobs}"], res[f"e warm, --jobs {jobs}"]
    par, again = res[f"g warm, nox --parallel {jobs}"], res[f"h unchanged re-run, --jobs {jobs}"]
    lines = []
    if "a original" in res:
        for m, what in ((cold, "sequential"), (cold_jobs, f"--jobs {jobs}")):
            speedup = res["a original"].seconds / m.seconds
            lines.append(
                f"- cold, {what}, at least 10x faster than the original ({jobs} threads): "
                f"{speedup:.1f}x ({'met' if speedup >= 10 else 'NOT met'})"
            )
    for m, workers, what in (
        (warm, 1, "sequential"),
        (warm_jobs, jobs, f"--jobs {jobs}"),
        (par, jobs, f"nox --parallel {jobs}"),
    ):
        ratio = m.seconds / float(rounds[workers]["seconds"])
        pyc = m.seconds / float(rounds[workers]["seconds_pyc_cached"])
        lines.append(
            f"- warm, within 1.3x of the import-only floor ({what}): {ratio:.2f}x "
            f"({'met' if ratio <= 1.3 else 'NOT met'}); against the floor with its .pyc "
            f"already written: {pyc:.2f}x ({'met' if pyc <= 1.3 else 'NOT met'}), the "
            "like-for-like bound when the checker's bytecode cache is warm"
        )
    for full, what in ((cold_jobs, "d, cold"), (warm_jobs, "e, warm")):
        share = again.seconds / full.seconds
        lines.append(
            f"- unchanged-folder re-run under 5% of a full run ({what}, same jobs): "
            f"{share * 100:.1f}% ({'met' if share < 0.05 else 'NOT met'})"
        )
    return lines


def _time_notes(bench: Bench, extra: dict[str, Any]) -> list[str]:
    res = bench.results
    lines = []
    sessions = len(bench.wheels) + 1
    for key in ("b cold, sequential", "c warm, sequential"):
        m = res[key]
        frags, frag_s = int(m.extra["fragments"]), float(m.extra["fragment_seconds"])
        reused = int(m.extra["reused"])
        overhead = m.seconds - frag_s
        startup = extra["listed"].seconds
        per_session = max(overhead - startup, 0.0)
        lines.append(
            f"- {key}: {frags} fragments written ({reused} reused an earlier result); the "
            f"`duration` of the {frags - reused} checked anew sums to {frag_s:.2f} s; "
            f"the rest, {overhead:.2f} s ({overhead / m.seconds * 100:.0f}% of the run), is "
            f"nox and session overhead: nox's start-up and the noxfile (`nox -l`, "
            f"{startup:.2f} s) and {per_session / sessions * 1000:.1f} ms per session "
            f"({sessions} sessions, {per_session / m.seconds * 100:.1f}% of the run: the "
            "sessions themselves, the aggregate and the report files)"
        )
    again = res[f"h unchanged re-run, --jobs {bench.jobs}"]
    lines.append(
        f"- h unchanged re-run: {int(again.extra['reused'])} of {int(again.extra['fragments'])} "
        f"fragments reused; {again.seconds:.2f} s in all, of which `nox -l` (start nox, load "
        f"the noxfile) is {extra['listed'].seconds:.2f} s: "
        f"{(again.seconds - extra['listed'].seconds) / sessions * 1000:.1f} ms per session"
    )
    for key, how in (
        (f"e warm, --jobs {bench.jobs}", "checks run ahead of their sessions in one nox process"),
        (f"g warm, nox --parallel {bench.jobs}", "nox runs each session in its own "
         "`python -m nox` child, which loads nox and the noxfile again"),
    ):  # fmt: skip
        m = res[key]
        busy, frag_s = m.seconds * bench.jobs, float(m.extra["fragment_seconds"])
        lines.append(
            f"- {key}: the fragments' `duration` sums to {frag_s:.2f} s of {busy:.2f} "
            f"worker-seconds ({bench.jobs} x {m.seconds:.2f} s); the rest is "
            f"{(busy - frag_s) / sessions * 1000:.0f} ms per session (an upper bound: it "
            f"includes idle workers): {how}"
        )
    steps = extra["steps"]
    lines.append(
        f"- the install step alone, sequential, warm cache: `uv venv` {steps['uv venv']:.2f} s "
        f"+ `uv pip install` {steps['uv pip install']:.2f} s for {len(bench.wheels)} wheels"
    )
    lines.append(
        "- `nox -l` alone (start nox, load the noxfile, compute the plan): "
        f"{extra['listed'].seconds:.2f} s"
    )
    floor_install = float(extra["floor"]["install_seconds"])
    lines.append(f"- the floor's one-venv install of every wheel: {floor_install:.2f} s")
    orig = extra["original"]
    if orig:
        ws = orig["wheels"]
        venv_s = sum(w["venv_seconds"] for w in ws)
        pip_s = sum(w["install_seconds"] for w in ws)
        imp_s = sum(w["import_seconds"] for w in ws)
        bad = [w for w in ws if w["failures"]]
        lines.append(
            f"- original, summed over its threads: `python -m venv` {venv_s:.1f} s, "
            f"`pip install` {pip_s:.1f} s, imports {imp_s:.1f} s; "
            f"{sum(len(w['modules']) for w in ws)} modules by its .so/.pyd scan; "
            f"{len(bad)} wheels with failures"
        )
    return lines


def _disk_note(extra: dict[str, Any]) -> str:
    disk = extra["disk"]
    text = (
        f"Disk: the checker's {extra['venv_count']} venvs (after c) take "
        f"{_mib(disk['venvs'])} (`du -s`, hard links once; apparent size "
        f"{_mib(disk['venvs apparent'])}); uv cache {_mib(disk['uv cache'])}; venvs and cache "
        f"together {_mib(disk['venvs + uv cache'])}, so the venvs' own blocks are "
        f"{_mib(disk['venvs + uv cache'] - disk['uv cache'])} (the rest is hard-linked from "
        f"the cache)."
    )
    if disk["original venvs"]:
        text += (
            f" The original's venvs: {_mib(disk['original venvs'])} (apparent "
            f"{_mib(disk['original venvs apparent'])})."
        )
    return text


def slowest(bench: Bench, count: int = 8) -> list[str]:
    """A table of the slowest wheels of the last nox run and where their time went (the
    ``details.seconds`` of each fragment: install, static facts, imports; the set check's)."""
    found = []
    for path in (bench.report_dir / "fragments").glob("*.json"):
        with contextlib.suppress(OSError, ValueError):
            data = json.loads(path.read_text(encoding="utf-8"))
            extra = data.get("extra") or data.get("details") or {}
            name = data.get("wheel") or "the set check (folder as one environment)"
            found.append((float(data.get("duration", 0.0)), name, extra.get("seconds") or {}))
    lines = ["| wheel | total | stages |", "| --- | ---: | --- |"]
    for total, name, stages in sorted(found, key=lambda item: -item[0])[:count]:
        shown = ", ".join(f"{k} {float(v):.2f}" for k, v in stages.items())
        lines.append(f"| {name} | {total:.2f} | {shown} |")
    return lines


def render(bench: Bench, facts: dict[str, str], extra: dict[str, Any]) -> str:
    sizes = sum(w.stat().st_size for w in bench.wheels)
    projects = sorted({w.name.split("-", 1)[0].lower() for w in bench.wheels})
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    floor = extra["floor"]
    lines = [
        f"## {now}: {len(bench.wheels)} wheels, --jobs {bench.jobs}",
        "",
        f"Corpus: `{bench.packages}`, {len(bench.wheels)} wheels, {sizes / 1024**2:.1f} MiB "
        f"({floor['modules']} extension modules in {floor['processes']} wheels): "
        f"{', '.join(projects)}.",
        "",
        "Machine: " + "; ".join(f"{k}: {v}" for k, v in facts.items()) + ".",
        "",
        "| scenario | seconds | vs original | vs floor (same parallelism) "
        "| vs floor with .pyc | largest process | process tree |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in _rows(bench, extra):
        m = row.measured
        largest = _mib(m.largest_kib) if m else ""
        tree = _mib(m.tree_kib) if m and m.tree_kib else ""
        lines.append(
            f"| {row.label} | {row.seconds:.2f} | {row.vs_original} | {row.vs_floor} "
            f"| {row.vs_pyc_floor} | {largest} | {tree} |"
        )
    lines += ["", "Goals of issue 7:", "", *_goals(bench, extra)]
    lines += ["", "The slowest wheels of the last run, by stage (seconds):", "", *slowest(bench)]
    lines += ["", "Where the time goes:", "", *_time_notes(bench, extra)]
    lines += [
        "",
        _disk_note(extra),
        "",
        'Memory: "largest process" is ru_maxrss of the scenario\'s process tree as '
        '`os.wait4` reports it, the largest single process (not a sum); "process tree" is '
        f"the peak of the summed RSS of all live processes, sampled every {SAMPLE_EVERY} s.",
    ]
    exits = ", ".join(
        f"{m.name}: {m.returncode}" for m in bench.results.values() if m.name[0] in "bcdegh"
    )
    lines.append(f"\nExit codes of nox (1 = some wheel failed the check): {exits}.")
    if floor.get("note"):
        lines.append(f"\nFloor: {floor['note']}.")
    if floor.get("errors"):
        errors = "; ".join(e.replace("\n", " / ") for e in floor["errors"])
        lines.append(f"\nFloor import errors ({len(floor['errors'])}): {errors}")
    lines += [f"\n{note}" for note in bench.notes]
    return "\n".join(lines) + "\n"


HEADER = """# Benchmark results (issue 7)

Written by `python benchmarks/run.py PACKAGES`; see benchmarks/README.md for the scenarios.
Newest run last.

"""


def append_section(output: Path, section: str) -> None:
    """Append ``section`` to ``output`` (started with ``HEADER`` if it does not exist)."""
    existing = output.read_text(encoding="utf-8") if output.exists() else HEADER
    output.write_text(existing.rstrip("\n") + "\n\n" + section, encoding="utf-8")
