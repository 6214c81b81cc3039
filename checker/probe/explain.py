"""One verdict per module: static findings that explain a failed import join that failure.

A module whose import fails for a library that cannot be found has two findings of one
cause: the import error (``libtbb.so.12: cannot open shared object file``) and the static
audit's ``external-library`` on the same binary. They are one failure: the import error is its
message (what a whitelist entry of the original tool matches), the static findings its
explanation. A static finding joins the failures of the modules that load its binary (the
module's own file, or a library it loads from the wheel, transitively) when every such module
failed; when one of them imports fine, the finding stays a failure of its own: it is what the
import cannot see.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace

from checker.audit import AuditResult, BinaryAudit
from checker.findings import Finding, ModuleResult

log = logging.getLogger(__name__)


def _loaded_files(audit: AuditResult) -> dict[str, set[str]]:
    """Module name -> the members its import loads from the wheel (itself included)."""
    by_path = {b.module: b for b in audit.binaries}  # non-extensions: their installed path
    loads: dict[str, set[str]] = {}
    for binary in audit.binaries:
        seen: set[str] = set()
        todo: list[BinaryAudit] = [binary]
        while todo:
            current = todo.pop()
            if current.file in seen:
                continue
            seen.add(current.file)
            for link in current.links:
                target = by_path.get(link.resolved or "") if link.how == "bundled" else None
                if target is not None:
                    todo.append(target)
        loads[binary.module] = seen
    return loads


def explain(
    modules: Sequence[ModuleResult], static: Sequence[Finding], audit: AuditResult
) -> tuple[list[ModuleResult], list[Finding]]:
    """The modules with the static findings that explain their failure, and the static
    findings that stay failures of their own."""
    loads = _loaded_files(audit)
    tried = [m for m in modules if m.status in ("ok", "failed")]
    joined: dict[str, list[Finding]] = {}
    alone: list[Finding] = []
    for finding in static:
        loaders = [m for m in tried if finding.file in loads.get(m.module, ())]
        if loaders and all(m.status == "failed" for m in loaders):
            for module in loaders:
                joined.setdefault(module.module, []).append(finding)
        else:
            alone.append(finding)
    explained = [
        replace(m, explanation=(*m.explanation, *joined[m.module])) if m.module in joined else m
        for m in modules
    ]
    return explained, alone
