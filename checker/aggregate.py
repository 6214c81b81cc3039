"""The aggregate: fresh fragments of the selected wheels + whitelist -> verdict -> reports."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from checker.context import RunContext
from checker.discover import WheelRef
from checker.errors import InputFileError
from checker.fragment import Fragment, fragment_path, read_fragment, sha256_file
from checker.reports.json_report import write_json_report
from checker.verdict import Report, build_report, missing_fragment
from checker.whitelist import load_whitelist

log = logging.getLogger(__name__)


def fresh_fragment(ctx: RunContext, ref: WheelRef) -> Fragment:
    """The fragment this run wrote for ``ref``, or a no-fragment stand-in saying why not."""
    path = fragment_path(ctx.fragments_dir, ref.filename)
    try:
        fragment = read_fragment(path)
    except InputFileError as exc:
        return missing_fragment(ref.filename, str(exc))
    if fragment is None:
        return missing_fragment(
            ref.filename, f"no result: the probe session of {ref.filename} did not run or crashed"
        )
    sha256, _size = sha256_file(ref.path)
    if fragment.fingerprint != ctx.fingerprint(sha256).digest():
        return missing_fragment(
            ref.filename,
            f"stale result in {path.name}: written for another wheel file, interpreter, "
            f"platform or checker version (python {fragment.python}, {fragment.platform})",
        )
    if fragment.run_id != ctx.run_id:
        return missing_fragment(
            ref.filename, f"stale result in {path.name}: from an earlier run ({fragment.run_id})"
        )
    return fragment


def aggregate(ctx: RunContext, selected: Sequence[WheelRef]) -> Report:
    """Judge the selected wheels and write report.json; the caller prints and exits."""
    whitelist = load_whitelist(ctx.whitelist_path, required=ctx.settings.whitelist is not None)
    fragments = [fresh_fragment(ctx, ref) for ref in selected]
    report = build_report(
        fragments,
        whitelist,
        platform=ctx.platform,
        variant=ctx.variant,
        python=ctx.info.version,
        interpreter=str(ctx.interpreter),
        strict_whitelist=ctx.settings.strict_whitelist,
    )
    write_json_report(report, ctx.settings.report_dir)
    return report
