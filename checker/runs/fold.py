"""A wheel the set check found uninstallable goes back to that wheel's own verdict.

A wheel with nothing to import has no venv of its own (checker.probe.pure): the set check's
venv proves it installs. When the set check names it as a wheel that cannot install even
alone (checker.setcheck.alone), its fragment gets that ``install-error`` as its own install
failure, as a per-wheel install would have reported it (pseudo-module ``install``), and the
set findings keep the rest.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from checker.findings import Finding, SetFinding
from checker.probe.pure import RESOLVED
from checker.wheel.fragment import Fragment


def fold_install_failures(
    fragments: Sequence[Fragment], set_findings: Sequence[SetFinding] | None
) -> tuple[list[Fragment], list[SetFinding] | None]:
    """(fragments, set findings) with each set ``install-error`` of one resolved wheel moved
    into that wheel's fragment (install "failed")."""
    if not set_findings:
        return list(fragments), None if set_findings is None else []
    by_wheel = {f.wheel: f for f in fragments if f.install == RESOLVED}
    kept: list[SetFinding] = []
    folded: dict[str, list[Finding]] = {}
    for finding in set_findings:
        wheel = finding.wheels[0] if len(finding.wheels) == 1 else None
        if finding.kind == "install-error" and wheel in by_wheel:
            error = f"the set check's install: {finding.error}"
            folded.setdefault(wheel, []).append(Finding("install", "install", finding.kind, error))
        else:
            kept.append(finding)
    out = [
        replace(f, install="failed", findings=(*folded[f.wheel], *f.findings))
        if f.wheel in folded
        else f
        for f in fragments
    ]
    return out, kept
