"""The HTML report opens on what matters: failures first in every layout, and a top section
naming each failure, the set findings and the libraries left to the target machine."""

from __future__ import annotations

from dataclasses import replace

from checker.findings import ModuleResult, SetFinding
from checker.reports.html import render_html
from checker.reports.html_run import render_run_html
from checker.verdict.report import Report, RunReport, build_report
from checker.verdict.whitelist import Whitelist
from tests.support.reports import fragment

# 33 wheels, the one failing wheel in the middle of the alphabet.
NAMES = [f"w{i:02d}-1.0-py3-none-any.whl" for i in range(33)]
FAILING = "w17-1.0-py3-none-any.whl"
DRIVER_AUDIT = {
    "audit": {
        "policy": "manylinux_2_17_x86_64",
        "binaries": [
            {"links": [{"name": "libmpi.so.40", "resolved": "libmpi.so.*", "how": "driver"}]}
        ],
    }
}


def _report(variant: str = "base", failing: str = FAILING) -> Report:
    fragments = []
    for name in NAMES:
        if name == failing:
            bad = ModuleResult(
                "w17._m", "w17/_m.so", "failed", "missing-library", "libfoo.so.1: gone"
            )
            fragments.append(fragment(name, (bad,)))
        elif name == NAMES[0]:
            fragments.append(fragment(name, extra=DRIVER_AUDIT))
        else:
            fragments.append(fragment(name))
    conflict = SetFinding("not-co-installable", (NAMES[1],), "uv cannot install the folder")
    return build_report(
        fragments, Whitelist(None, ()), platform="linux-x64", variant=variant, python="3.11.7",
        interpreter="/usr/bin/python3.11", strict_whitelist=False, set_findings=[conflict],
    )  # fmt: skip


def _top(text: str) -> str:
    return text[text.index('<section class="top">') : text.index("</section>")]


def test_a_single_run_lists_the_failing_wheel_first_and_names_it_at_the_top() -> None:
    text = render_html(_report())
    rows = [text.index(f'data-name="{name}"') for name in NAMES]
    assert rows[NAMES.index(FAILING)] == min(rows)  # the failing wheel's row comes first
    top = _top(text)
    assert text.index(top) < min(rows)
    assert "Failures (1)" in top and FAILING in top and "w17._m" in top
    assert "[missing-library]" in top and "libfoo.so.1: gone" in top
    assert "not-co-installable" in top and "uv cannot install the folder" in top
    assert "libmpi.so.40" in top and "Left to the target machine" in top


def test_a_run_over_variants_names_each_variants_failures_at_the_top() -> None:
    other = "w03-1.0-py3-none-any.whl"
    run = RunReport("linux-x64", (_report("base"), _report("cuda", failing=other)))
    text = render_run_html(run)
    top = _top(text)
    assert "Failures (2)" in top
    assert f"base: <code>{FAILING}</code>" in top and f"cuda: <code>{other}</code>" in top
    assert text.index(top) < text.index("Wheels x variants")


def test_a_clean_report_says_so_at_the_top() -> None:
    clean = _report()
    clean = replace(
        clean, wheels=tuple(w for w in clean.wheels if w.status != "failed"), set_findings=()
    )
    top = _top(render_html(clean))
    assert "Failures</h2>" in top and "None." in top and "environment" not in top
