"""``nox -s audit``: the static checks of every wheel of a folder, for any platform, without
installing anything. Same settings, same report.json schema, same exit codes as check_native."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from packaging.tags import parse_tag

from checker.audit import audit_wheel
from checker.audit.across import Surroundings, resolve_across
from checker.audit.surroundings import surroundings
from checker.config.context import RunContext
from checker.config.platforms import markers_for
from checker.config.settings import Settings
from checker.findings import Finding
from checker.folder.deps import index_folder, installable_extras
from checker.reports.outputs import write_report_files
from checker.setcheck.requirements import declared_requirements, unsatisfiable_requirements
from checker.verdict.report import Report, build_report
from checker.verdict.whitelist import load_whitelist
from checker.wheel.contents import WheelContents, open_wheel
from checker.wheel.discover import WheelRef
from checker.wheel.fragment import Fragment, sha256_file
from checker.wheel.integrity import integrity_findings
from checker.wheel.lock import LockedSet, check_against_lock

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Folder:
    """The folder being audited, for the libraries resolved across an install."""

    refs: Sequence[WheelRef]
    platform: str
    markers: Mapping[str, str]  # of the machine running the audit (made the platform's)
    accepted: Sequence[str] = ()

    def around(self, contents: WheelContents) -> Surroundings:
        """The wheel's surroundings when installed from this folder on ``platform``: every
        wheel of the folder counts (it is that platform's), extras the folder satisfies."""
        markers = markers_for(self.platform, self.markers)
        python = _python_of(contents.tags)
        if python is not None:
            markers |= {"python_version": python, "python_full_version": f"{python}.0"}
        index = index_folder(self.refs, None)
        return surroundings(
            contents,
            self.refs,
            markers=markers,
            supported=None,
            extras=installable_extras(contents.requires_dist, index, markers),
            accepted=self.accepted,
            platform=self.platform,
        )


def folder_of(ctx: RunContext, refs: Sequence[WheelRef]) -> Folder:
    """The folder ``refs`` (every wheel of it) as the run's settings and platform see it."""
    accepted = ctx.settings.accepted_libraries(ctx.platform)
    return Folder(tuple(refs), ctx.platform, ctx.info.markers, accepted)


def _python_of(tags: Iterable[str]) -> str | None:
    """``3.12`` of a wheel tagged only ``cp312-...``; None for several or none."""
    versions = {
        f"{t.interpreter[2]}.{t.interpreter[3:]}"
        for text in tags
        for t in parse_tag(text)
        if t.interpreter.startswith("cp") and t.interpreter[2:].isdigit()
    }
    return versions.pop() if len(versions) == 1 else None


def _audit_findings(
    contents: WheelContents, settings: Settings, folder: Folder | None, details: dict[str, Any]
) -> list[Finding]:
    audit = audit_wheel(contents, min_glibc=settings.min_glibc, x86_64_level=settings.x86_64_level)
    if folder is not None:
        audit = resolve_across(audit, folder.around(contents))
    details["audit"] = audit.to_json()
    return list(audit.findings)


def audit_fragment(
    ref: WheelRef, settings: Settings, locked: LockedSet | None, folder: Folder | None = None
) -> Fragment:
    """Integrity, lock and static audit of one wheel: a fragment with no import results."""
    started = time.perf_counter()
    # The whole file's sha256 on a thread of its own (hashlib releases the GIL) while the
    # members are inflated and hashed: on a big wheel one member's stream is the long pole.
    with ThreadPoolExecutor(max_workers=1) as pool:
        digest = pool.submit(sha256_file, ref.path)
        contents, findings = open_wheel(ref.path)
        opened = len(findings)  # the lock's finding comes after these, as it always did
        details: dict[str, Any] = {}
        if contents is not None:
            with contents:
                findings += integrity_findings(contents)
                findings += _audit_findings(contents, settings, folder, details)
        sha256, size = digest.result()
    if locked is not None:
        problem = check_against_lock(locked, ref.path, sha256, size)
        findings[opened:opened] = [problem] if problem else []
    return Fragment(
        wheel=ref.filename, project=ref.project, version=ref.version, sha256=sha256,
        size=size, run_id="", fingerprint="", python="", interpreter="", platform="",
        variant="", duration=time.perf_counter() - started, install="skipped",
        findings=tuple(findings), extra=details,
    )  # fmt: skip


def audit_report(
    ctx: RunContext, refs: Sequence[WheelRef], folder_refs: Sequence[WheelRef]
) -> Report:
    """The static audit of ``refs`` (of the folder ``folder_refs``: libraries resolved across
    an install) against the context's whitelist."""
    whitelist = load_whitelist(ctx.whitelist_path, required=ctx.settings.whitelist is not None)
    folder = folder_of(ctx, folder_refs)
    fragments = [audit_fragment(ref, ctx.settings, ctx.locked, folder) for ref in refs]
    # Declared requirements resolved for the folder's platform (checker.setcheck.requirements).
    declared = bool(declared_requirements(ctx).requirements)
    return build_report(
        fragments,
        whitelist,
        platform=ctx.platform,
        variant=ctx.variant,
        python="",
        interpreter="static audit: nothing installed",
        strict_whitelist=ctx.settings.strict_whitelist,
        set_findings=unsatisfiable_requirements(ctx) if declared else None,
    )


def run_audit(ctx: RunContext, refs: Sequence[WheelRef], folder_refs: Sequence[WheelRef]) -> Report:
    """Audit ``refs`` and write the reports into the report dir."""
    report = audit_report(ctx, refs, folder_refs)
    write_report_files(report, ctx.settings.report_dir)
    return report
