"""Hand-made fragments and reports for the tests of the report renderers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from checker.findings import Finding, ModuleResult
from checker.verdict.report import Report, build_report
from checker.verdict.whitelist import Whitelist
from checker.wheel.fragment import Fragment


def fragment(
    wheel: str,
    modules: tuple[ModuleResult, ...] = (),
    findings: tuple[Finding, ...] = (),
    extra: dict[str, Any] | None = None,
    *,
    duration: float = 0.5,
) -> Fragment:
    """A fragment of ``wheel`` (project and version taken from its file name)."""
    return Fragment(
        wheel=wheel, project=wheel.partition("-")[0], version=wheel.split("-")[1], sha256="0" * 64,
        size=1, run_id="r", fingerprint="f", python="3.11.7", interpreter="/usr/bin/python3",
        platform="linux-x64", variant="python-3.11.7", duration=duration, install="ok",
        findings=findings, modules=modules, extra=extra or {},
    )  # fmt: skip


def report_of(
    fragments: Sequence[Fragment], whitelist: Whitelist | None = None, *, strict: bool = False
) -> Report:
    """The report of ``fragments`` on linux-x64 / python-3.11.7."""
    return build_report(
        fragments,
        whitelist or Whitelist(None, ()),
        platform="linux-x64",
        variant="python-3.11.7",
        python="3.11.7",
        interpreter="/usr/bin/python3.11",
        strict_whitelist=strict,
    )
