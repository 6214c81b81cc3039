"""``nox -s audit``: the static checks of every wheel of a folder, for any platform, without
installing anything. Same settings, same report.json schema, same exit codes as check_native."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

from checker.audit import audit_wheel
from checker.discover import WheelRef
from checker.fragment import Fragment, sha256_file
from checker.integrity import integrity_findings
from checker.lock import LockedSet, check_against_lock
from checker.reports.outputs import write_report_files
from checker.settings import Settings
from checker.verdict import Report, build_report
from checker.wheel import open_wheel
from checker.whitelist import Whitelist

log = logging.getLogger(__name__)


def audit_fragment(ref: WheelRef, settings: Settings, locked: LockedSet | None) -> Fragment:
    """Integrity, lock and static audit of one wheel: a fragment with no import results."""
    started = time.perf_counter()
    sha256, size = sha256_file(ref.path)
    contents, findings = open_wheel(ref.path)
    if locked is not None:
        problem = check_against_lock(locked, ref.path, sha256, size)
        findings += [problem] if problem else []
    details: dict[str, Any] = {}
    if contents is not None:
        with contents:
            findings += integrity_findings(contents)
            audit = audit_wheel(contents, min_glibc=settings.min_glibc)
            findings += audit.findings
            details["audit"] = audit.to_json()
    return Fragment(
        wheel=ref.filename, project=ref.project, version=ref.version, sha256=sha256,
        size=size, run_id="", fingerprint="", python="", interpreter="", platform="",
        variant="", duration=time.perf_counter() - started, install="skipped",
        findings=tuple(findings), extra=details,
    )  # fmt: skip


def run_audit(
    refs: Sequence[WheelRef],
    settings: Settings,
    whitelist: Whitelist,
    *,
    platform: str,
    variant: str,
    locked: LockedSet | None = None,
) -> Report:
    """Audit ``refs`` and write the reports into the report dir."""
    fragments = [audit_fragment(ref, settings, locked) for ref in refs]
    report = build_report(
        fragments,
        whitelist,
        platform=platform,
        variant=variant,
        python="",
        interpreter="static audit: nothing installed",
        strict_whitelist=settings.strict_whitelist,
    )
    write_report_files(report, settings.report_dir)
    return report
