"""Fragments + whitelist -> the report model and the exit code. Reports only read this."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from checker.errors import EXIT_FINDINGS, EXIT_OK
from checker.findings import WARNING_KINDS, Finding, ModuleResult, SetFinding
from checker.verdict.whitelist import Entry, Snippet, Whitelist, snippet
from checker.wheel.fragment import Fragment

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
# A wheel without a fresh result, or whose venv interpreter cannot start, is never a pass,
# whatever the whitelist says.
NEVER_WHITELISTED = frozenset({"no-fragment", "interpreter"})


@dataclass(frozen=True)
class CheckedModule:
    result: ModuleResult
    status: str  # ok | failed | whitelisted | skipped
    whitelist: Entry | None


@dataclass(frozen=True)
class CheckedFinding:
    finding: Finding
    status: str  # failed | warning (not in strict mode) | whitelisted
    whitelist: Entry | None


@dataclass(frozen=True)
class WheelVerdict:
    wheel: str
    project: str | None
    version: str | None
    status: str  # passed | failed | whitelisted
    install: str
    duration: float
    modules: tuple[CheckedModule, ...]
    findings: tuple[CheckedFinding, ...]
    extra: Mapping[str, Any]

    def failures(self) -> list[tuple[str, str, str, str]]:
        """(module, kind, error, status) of every failed or whitelisted item."""
        items = [
            (f.finding.module, f.finding.kind, f.finding.error, f.status)
            for f in self.findings
            if f.status != "warning"
        ]
        items += [
            (m.result.module, m.result.kind or "", m.result.explained, m.status)
            for m in self.modules
            if m.status in ("failed", "whitelisted")
        ]
        return items

    def warnings(self) -> list[CheckedFinding]:
        """The findings that are warnings (fail the run only in strict mode)."""
        return [f for f in self.findings if f.status == "warning"]


@dataclass(frozen=True)
class CheckedSetFinding:
    finding: SetFinding
    status: str  # failed | warning | whitelisted
    whitelist: Entry | None


@dataclass(frozen=True)
class Report:
    platform: str
    variant: str
    python: str
    interpreter: str
    whitelist_path: str | None
    strict_whitelist: bool  # strict mode: stale entries and warnings fail the run
    wheels: tuple[WheelVerdict, ...]
    unused_whitelist: tuple[Entry, ...]
    snippet: Snippet
    set_findings: tuple[CheckedSetFinding, ...] | None = None  # None: no set check judged

    @property
    def exit_code(self) -> int:
        failed = any(w.status == "failed" for w in self.wheels)
        stale = self.strict_whitelist and bool(self.unused_whitelist)
        set_status = {f.status for f in self.set_findings or ()}
        set_failed = "failed" in set_status or (self.strict_whitelist and "warning" in set_status)
        warned = self.strict_whitelist and any(w.warnings() for w in self.wheels)
        return EXIT_FINDINGS if failed or stale or set_failed or warned else EXIT_OK

    def counts(self) -> dict[str, int]:
        result = {"passed": 0, "failed": 0, "whitelisted": 0}
        for wheel in self.wheels:
            result[wheel.status] += 1
        return result


def _check_modules(
    wheel: str, modules: Sequence[ModuleResult], whitelist: Whitelist
) -> list[CheckedModule]:
    checked = []
    for module in modules:
        if module.status != "failed":
            checked.append(CheckedModule(module, module.status, None))
            continue
        # One failure: its import error is what an entry matches (as in the original tool);
        # an entry written for one of the static findings that explain it covers it too.
        entry = None
        for error in [module.error or "", *(f.error for f in module.explanation)]:
            entry = entry or whitelist.match(wheel, module.module, error)
        checked.append(CheckedModule(module, "whitelisted" if entry else "failed", entry))
    return checked


def _check_findings(
    wheel: str, findings: Sequence[Finding], whitelist: Whitelist, strict: bool
) -> list[CheckedFinding]:
    checked = []
    for finding in findings:
        entry = None
        if finding.kind not in NEVER_WHITELISTED:
            entry = whitelist.match(wheel, finding.module, finding.error)
        # A warning (its severity, or a kind that is always one) fails only in strict mode.
        warns = finding.severity == "warning" or finding.kind in WARNING_KINDS
        status = "whitelisted" if entry else "warning" if warns and not strict else "failed"
        checked.append(CheckedFinding(finding, status, entry))
    return checked


def judge_set(findings: Sequence[SetFinding], whitelist: Whitelist) -> list[CheckedSetFinding]:
    """Each set finding against the entries of pseudo-module ``set`` of any of its wheels."""
    checked = []
    for finding in findings:
        entry = None
        if finding.kind not in NEVER_WHITELISTED:
            entry = next(
                (e for w in finding.wheels if (e := whitelist.match(w, "set", finding.error))),
                None,
            )
        status = (
            "whitelisted" if entry else "warning" if finding.severity == "warning" else "failed"
        )
        checked.append(CheckedSetFinding(finding, status, entry))
    return checked


def judge_wheel(fragment: Fragment, whitelist: Whitelist, strict: bool = False) -> WheelVerdict:
    """``strict``: a warning (WARNING_KINDS) fails the wheel."""
    modules = _check_modules(fragment.wheel, fragment.modules, whitelist)
    findings = _check_findings(fragment.wheel, fragment.findings, whitelist, strict)
    statuses = {m.status for m in modules} | {f.status for f in findings}
    if "failed" in statuses:
        status = "failed"
    elif "whitelisted" in statuses:
        status = "whitelisted"
    else:
        status = "passed"
    return WheelVerdict(
        wheel=fragment.wheel,
        project=fragment.project,
        version=fragment.version,
        status=status,
        install=fragment.install,
        duration=fragment.duration,
        modules=tuple(modules),
        findings=tuple(findings),
        extra=fragment.extra,
    )


def missing_fragment(wheel: str, reason: str) -> Fragment:
    """A stand-in for a wheel whose session left no fresh fragment: never a pass."""
    finding = Finding("run", "fragment", "no-fragment", reason)
    return Fragment(
        wheel=wheel, project=None, version=None, sha256="", size=0, run_id="", fingerprint="",
        python="", interpreter="", platform="", variant="", duration=0.0, install="skipped",
        findings=(finding,),
    )  # fmt: skip


def build_report(
    fragments: Sequence[Fragment],
    whitelist: Whitelist,
    *,
    platform: str,
    variant: str,
    python: str,
    interpreter: str,
    strict_whitelist: bool,
    set_findings: Sequence[SetFinding] | None = None,
) -> Report:
    """``set_findings``: the set check's (None: not part of this report)."""
    verdicts = [
        judge_wheel(f, whitelist, strict_whitelist)
        for f in sorted(fragments, key=lambda f: f.wheel)
    ]
    checked_set = None if set_findings is None else judge_set(set_findings, whitelist)
    used = [m.whitelist for v in verdicts for m in v.modules if m.whitelist]
    used += [f.whitelist for v in verdicts for f in v.findings if f.whitelist]
    used += [f.whitelist for f in checked_set or () if f.whitelist]
    unused = whitelist.unused(used, [v.wheel for v in verdicts])
    new = [
        (v.wheel, module, error)
        for v in verdicts
        for module, kind, error, status in v.failures()
        if status == "failed" and kind not in NEVER_WHITELISTED
    ]
    new += [
        (wheel, "set", f.finding.error)
        for f in checked_set or ()
        if f.status == "failed" and f.finding.kind not in NEVER_WHITELISTED
        for wheel in f.finding.wheels[: None if f.finding.kind == "file-collision" else 1]
    ]
    return Report(
        platform=platform,
        variant=variant,
        python=python,
        interpreter=interpreter,
        whitelist_path=str(whitelist.path) if whitelist.path else None,
        strict_whitelist=strict_whitelist,
        wheels=tuple(verdicts),
        unused_whitelist=tuple(unused),
        snippet=snippet(new),
        set_findings=None if checked_set is None else tuple(checked_set),
    )


def used_entries(report: Report) -> set[Entry]:
    """The whitelist entries that matched a failure of the report."""
    used = {m.whitelist for w in report.wheels for m in w.modules if m.whitelist}
    used |= {f.whitelist for w in report.wheels for f in w.findings if f.whitelist}
    used |= {f.whitelist for f in report.set_findings or () if f.whitelist}
    return used


@dataclass(frozen=True)
class RunReport:
    """The verdict of a run over several variants: each judged against its own whitelist,
    stale entries across them, one exit code for the whole."""

    platform: str
    variants: tuple[Report, ...]

    @property
    def exit_code(self) -> int:
        return max((r.exit_code for r in self.variants), default=EXIT_OK)

    def counts(self) -> dict[str, int]:
        total = {"passed": 0, "failed": 0, "whitelisted": 0}
        for report in self.variants:
            for status, count in report.counts().items():
                total[status] += count
        return total

    @property
    def wheel_count(self) -> int:
        return sum(len(r.wheels) for r in self.variants)

    @property
    def unused_whitelist(self) -> tuple[tuple[str | None, Entry], ...]:
        """(whitelist file, entry) stale in the whole run, each once."""
        found = {(r.whitelist_path, e): None for r in self.variants for e in r.unused_whitelist}
        return tuple(found)


def combine_reports(reports: Sequence[Report]) -> RunReport:
    """One run of several variants. An entry is stale only when no variant of the run whose
    whitelist is the entry's file used it (among the variants whose wheels its key matched):
    a variant's own view keeps only those, so strict mode and prune never act on an entry
    another variant needs."""
    used: dict[str | None, set[Entry]] = {}
    for report in reports:
        used.setdefault(report.whitelist_path, set()).update(used_entries(report))
    kept = [
        replace(
            report,
            unused_whitelist=tuple(
                e for e in report.unused_whitelist if e not in used[report.whitelist_path]
            ),
        )
        for report in reports
    ]
    platforms = sorted({r.platform for r in reports})
    return RunReport(platform=", ".join(platforms), variants=tuple(kept))
