"""Co-import: every native module of the folder imported in one interpreter process.

The folder is installed into one venv (checker.probe.install.install_together); then the
modules of every wheel are imported in one process, in the wheels' sorted order and again in
the reverse order, with the probe's crash and timeout recovery (a new process goes on after
the module that killed one). A module that fails there is imported alone in a fresh process
of the same venv: if it fails alone too, the per-wheel check reports it; if it imports alone,
it is a ``co-import`` failure, and the modules imported before it in that process are
bisected (delta debugging) down to the smallest set that still makes it fail: the import
that triggers it (a library loaded with ``RTLD_GLOBAL`` whose symbols interpose on another
package's, a runtime initialised twice, ...). When its wheel's probe of this run already
recorded the same failure, that is the per-wheel check reporting it, and the module is not
imported alone again (the probes run beside the set check: on a torch folder that import
alone is seconds).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from checker.findings import ModuleResult, SetFinding
from checker.probe.classify import ImportContext, classify, same_failure
from checker.probe.runner import ProbeOptions, Sandbox, run_probe

log = logging.getLogger(__name__)

MAX_BISECT_RUNS = 48
_NO_CONTEXT = ImportContext(set(), set())


@dataclass(frozen=True)
class CoImport:
    """What the co-import found, and what it cost."""

    findings: tuple[SetFinding, ...]
    modules: int
    processes: int
    seconds: dict[str, float]  # "forward", "reverse", "alone" (and bisecting)
    from_probes: int = 0  # failures the wheels' probes had already recorded (not run alone)


def _segments(results: Sequence[Mapping[str, Any]]) -> list[int]:
    """For each result, the index where its process started (after a crash or timeout)."""
    starts, start = [], 0
    for index, result in enumerate(results):
        starts.append(start)
        if "crash" in result or "timeout" in result:
            start = index + 1
    return starts


def _failed(result: Mapping[str, Any]) -> bool:
    return not result.get("ok")


def smallest_trigger(
    earlier: Sequence[str], fails_after: Callable[[Sequence[str]], bool], budget: int
) -> list[str] | None:
    """The smallest subset of ``earlier`` (ddmin: 1-minimal) after which the module still
    fails; None when it does not fail after all of them again (not reproducible)."""
    runs = 0

    def test(subset: Sequence[str]) -> bool:
        nonlocal runs
        runs += 1
        return fails_after(subset)

    items = list(earlier)
    if not test(items):
        return None
    granularity = 2
    while len(items) >= 2 and runs < budget:
        size = max(1, len(items) // granularity)
        chunks = [items[i : i + size] for i in range(0, len(items), size)]
        for chunk in chunks:
            if runs < budget and test(chunk):
                items, granularity = chunk, 2
                break
        else:
            for chunk in chunks:
                rest = [m for m in items if m not in chunk]
                if rest and runs < budget and test(rest):
                    items, granularity = rest, max(granularity - 1, 2)
                    break
            else:
                if granularity >= len(items):
                    break
                granularity = min(len(items), granularity * 2)
    return items


def co_import(
    python: Path,
    modules: Sequence[tuple[str, str]],
    sandbox: Sandbox,
    options: ProbeOptions,
    reported: Callable[[str, str], ModuleResult | None] = lambda wheel, module: None,
) -> CoImport:
    """Import ``modules`` ((module, wheel file name), in the wheels' sorted order) in one
    process, forwards and backwards; a finding per module that fails only together.
    ``reported(wheel, module)``: the module's result as its wheel's probe of this run
    recorded it, if known."""
    wheel_of = dict(modules)
    names = [m for m, _ in modules]
    findings: dict[str, SetFinding] = {}
    processes = 0
    alone: dict[str, bool] = {}  # module -> fails alone too
    from_probes = 0
    seconds = {"forward": 0.0, "reverse": 0.0, "alone": 0.0}
    passes = _both_passes(python, names, sandbox, options, seconds)
    for order, results in passes:
        if results and "startup" in results[0]:  # the one venv's interpreter cannot start
            error = f"the set's venv interpreter {str(python)!r} cannot start: "
            error += str(results[0]["startup"])
            finding = SetFinding("interpreter", tuple(dict.fromkeys(wheel_of.values())), error)
            return CoImport((finding,), len(names), 1, seconds)
        started = time.perf_counter()
        processes += 1 + sum(1 for r in results if "crash" in r or "timeout" in r)
        starts = _segments(results)
        for index, result in enumerate(results):
            module = str(result["module"])
            if not _failed(result) or module in findings:
                continue
            if module not in alone:
                known = reported(wheel_of[module], module)
                if known is not None and same_failure(result, known):
                    alone[module], from_probes = True, from_probes + 1
                else:
                    alone[module] = _failed(run_probe(python, [module], sandbox, options)[-1])
                    processes += 1
            if alone[module]:
                continue  # not a matter of the set: the module's own check reports it

            def fails_after(earlier: Sequence[str], module: str = module) -> bool:
                last = run_probe(python, [*earlier, module], sandbox, options)[-1]
                return last["module"] == module and _failed(last)

            earlier = order[starts[index] : index]
            trigger = smallest_trigger(earlier, fails_after, MAX_BISECT_RUNS)
            processes += MAX_BISECT_RUNS if trigger is None else len(trigger) + 1
            findings[module] = _finding(module, result, trigger, wheel_of)
        seconds["alone"] += time.perf_counter() - started
    return CoImport(tuple(findings.values()), len(names), processes, seconds, from_probes)


def _both_passes(
    python: Path,
    names: Sequence[str],
    sandbox: Sandbox,
    options: ProbeOptions,
    seconds: dict[str, float],
) -> list[tuple[list[str], list[dict[str, Any]]]]:
    """The forward and the reverse pass, each in its own process and sandbox, run at once
    (neither depends on the other); their results are then read in that order, as if run
    one after the other, so the findings do not depend on which finished first."""
    orders = {"forward": list(names), "reverse": list(names)[::-1]}
    reverse_box = Sandbox(sandbox.root.with_name(sandbox.root.name + "-reverse"))
    boxes = {"forward": sandbox, "reverse": reverse_box}
    started = time.perf_counter()

    def one(label: str) -> list[dict[str, Any]]:
        results = run_probe(python, orders[label], boxes[label], options)
        seconds[label] = time.perf_counter() - started
        return results

    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="co-import") as pool:
        futures = {label: pool.submit(one, label) for label in orders}
        done = [(orders[label], futures[label].result()) for label in orders]
    seconds["passes"] = time.perf_counter() - started
    return done


def _finding(
    module: str,
    result: Mapping[str, Any],
    trigger: list[str] | None,
    wheel_of: Mapping[str, str],
) -> SetFinding:
    error = classify(dict(result), None, _NO_CONTEXT).error or "failed"
    wheel = wheel_of[module]
    if trigger is None:
        how = "after the modules imported before it in one process (not reproduced alone again)"
        wheels: tuple[str, ...] = (wheel,)
    else:
        shown = ", ".join(f"{m} ({wheel_of[m]})" for m in trigger) or "nothing else"
        how = f"after importing {shown}"
        wheels = (wheel, *dict.fromkeys(wheel_of[m] for m in trigger if wheel_of[m] != wheel))
    text = f"{module} imports alone but fails {how}: {error}"
    return SetFinding("co-import", wheels, text)
