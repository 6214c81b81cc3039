"""The aggregate: fresh fragments of the selected wheels + whitelist -> verdict -> reports."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace

from checker.config.context import RunContext
from checker.config.selection import Selection
from checker.errors import InputFileError
from checker.findings import Finding, SetFinding
from checker.reports.outputs import write_report_files
from checker.runs.fold import fold_install_failures
from checker.setcheck.job import read_set_result, set_fingerprint, set_fragment_path
from checker.verdict.report import Report, build_report, missing_fragment
from checker.verdict.whitelist import load_whitelist
from checker.wheel.discover import WheelRef, discover, matches, wheel_ref
from checker.wheel.fragment import Fragment, fragment_path, read_fragment, sha256_file
from checker.wheel.lock import missing_from_folder

log = logging.getLogger(__name__)


def fresh_fragment(ctx: RunContext, ref: WheelRef) -> Fragment:
    """The fragment this run wrote for ``ref``, or a no-fragment stand-in saying why not.

    In aggregate-only mode the fragments come from other runs (shards) by design: the run id
    is not compared, the fingerprint (wheel bytes, interpreter, platform, ...) still is.
    """
    path = fragment_path(ctx.fragments_dir, ref.filename)
    try:
        fragment = read_fragment(path)
    except InputFileError as exc:
        return missing_fragment(ref.filename, str(exc))
    if fragment is None:
        return missing_fragment(
            ref.filename, f"no result: the probe session of {ref.filename} did not run or crashed"
        )
    sha256, _size = sha256_file(ref.path, ctx.hash_memo)
    if fragment.fingerprint != ctx.fingerprint(ref.filename, sha256).digest():
        return missing_fragment(
            ref.filename,
            f"stale result in {path.name}: written for another wheel file, interpreter, "
            f"platform or checker version (python {fragment.python}, {fragment.platform})",
        )
    if fragment.run_id != ctx.run_id and not ctx.settings.aggregate_only:
        return missing_fragment(
            ref.filename, f"stale result in {path.name}: from an earlier run ({fragment.run_id})"
        )
    return fragment


def missing_pinned(ctx: RunContext, patterns: Sequence[str]) -> list[Fragment]:
    """Stand-ins for wheels pinned in packages.lock (and selected) but absent from the folder."""
    if ctx.locked is None:
        return []
    present = [p.name for p in ctx.packages.glob("*.whl")]
    absent = []
    for pinned in missing_from_folder(ctx.locked, present):
        ref = wheel_ref(ctx.packages / pinned.file)
        if patterns and not any(matches(ref, p) for p in patterns):
            continue
        error = f"pinned in packages.lock but missing from the packages folder: {pinned.file}"
        finding = Finding("integrity", "lock", "lock-missing", error, pinned.file)
        stand_in = missing_fragment(pinned.file, error)
        absent.append(replace(stand_in, project=pinned.project, findings=(finding,)))
    return absent


def aggregate(
    ctx: RunContext, selected: Sequence[WheelRef], selection: Selection | None = None
) -> Report:
    """Judge the selected wheels and write report.json; the caller prints and exits."""
    report = judge(ctx, selected, selection)
    write_report_files(report, ctx.settings.report_dir)
    return report


def set_expected(ctx: RunContext, selection: Selection | None) -> bool:
    """Whether this run checks the folder as one environment: the whole folder only (no
    wheel names), in the first shard (or when judging every shard's fragments)."""
    if not ctx.settings.set_check or (selection is not None and selection.patterns):
        return False
    shard = selection.shard if selection else None
    return shard is None or shard.index == 1 or ctx.settings.aggregate_only


def fresh_set_findings(ctx: RunContext) -> list[SetFinding]:
    """The set check's findings of this run, or a no-fragment finding saying why there are none."""
    path = set_fragment_path(ctx)
    try:
        result = read_set_result(path)
    except InputFileError as exc:
        return [SetFinding("no-fragment", (), str(exc))]
    if result is None:
        why = "no result: the set-check session did not run or crashed"
    elif result.fingerprint != set_fingerprint(ctx, discover(ctx.packages)):
        why = f"stale result in {path.name}: written for another folder, interpreter or checker"
    elif result.run_id != ctx.run_id and not ctx.settings.aggregate_only:
        why = f"stale result in {path.name}: from an earlier run ({result.run_id})"
    else:
        return list(result.findings)
    return [SetFinding("no-fragment", (), why)]


def judge(
    ctx: RunContext, selected: Sequence[WheelRef], selection: Selection | None = None
) -> Report:
    """The report of the selected wheels' fresh fragments (and the set check's, when the run
    has one) against the context's whitelist."""
    whitelist = load_whitelist(ctx.whitelist_path, required=ctx.settings.whitelist is not None)
    fragments = [fresh_fragment(ctx, ref) for ref in selected]
    if selection is None or selection.shard is None:  # a shard cannot tell what is missing
        fragments += missing_pinned(ctx, selection.patterns if selection else ())
    set_findings = fresh_set_findings(ctx) if set_expected(ctx, selection) else None
    fragments, set_findings = fold_install_failures(fragments, set_findings)
    report = build_report(
        fragments,
        whitelist,
        platform=ctx.platform,
        variant=ctx.variant,
        python=ctx.info.version,
        interpreter=str(ctx.interpreter),
        strict_whitelist=ctx.settings.strict_whitelist,
        set_findings=set_findings,
    )
    return report
