"""One wheel, start to end: read -> integrity -> tags -> plan -> install -> probe -> fragment."""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Sequence
from typing import Any

from packaging.tags import Tag, parse_tag

from checker.classify import ImportContext, classify
from checker.context import RunContext
from checker.deps import find_missing, index_folder, optional_requirements, requirement_names
from checker.discover import WheelRef
from checker.findings import Finding, ModuleResult
from checker.fragment import Fragment, sha256_file, write_fragment
from checker.install import find_uv, install_wheel
from checker.integrity import integrity_findings
from checker.lock import check_against_lock
from checker.modules import plan_modules
from checker.platforms import describe_tags, supported_tags
from checker.runner import Sandbox, run_probe
from checker.wheel import WheelContents, extension_candidates, open_wheel

log = logging.getLogger(__name__)


def _tag_finding(contents: WheelContents, supported: Sequence[Tag]) -> Finding | None:
    wheel_tags = {t for text in contents.tags for t in parse_tag(text)}
    if wheel_tags & set(supported):
        return None
    error = (
        f"{contents.path.name} is tagged {describe_tags(wheel_tags)}, which this interpreter "
        f"does not install (it takes e.g. {describe_tags(supported[:3])})"
    )
    return Finding("install", "install", "incompatible-wheel", error)


def _not_installed(
    candidates: Sequence[Any], decided: Sequence[ModuleResult]
) -> list[ModuleResult]:
    reason = "not imported: the wheel was not installed"
    return list(decided) + [
        ModuleResult(c.module, c.installed, "skipped", "not-installed", reason) for c in candidates
    ]


def _declared_import_names(ctx: RunContext, refs: Sequence[WheelRef], names: set[str]) -> set[str]:
    """Top-level import names that the folder's wheels for ``names`` provide."""
    provided: set[str] = set()
    for ref in refs:
        if ref.project in names:
            other, _ = open_wheel(ref.path)
            if other is not None:
                with other:
                    provided |= other.top_level_names()
    return provided


def _install_failure(
    ctx: RunContext, contents: WheelContents, refs: Sequence[WheelRef], fallback: Finding
) -> Finding:
    index = index_folder(refs, supported_tags(ctx.info))
    missing = find_missing(contents.project, contents.requires_dist, index, ctx.info.markers)
    if missing:
        return Finding("install", "install", "missing-dependency", missing)
    return fallback


def check_wheel(ctx: RunContext, ref: WheelRef, refs: Sequence[WheelRef]) -> Fragment:
    """Check one wheel and return its fragment (findings are data, never exceptions)."""
    started = time.perf_counter()
    sha256, size = sha256_file(ref.path)
    findings: list[Finding] = []
    modules: list[ModuleResult] = []
    install = "skipped"
    extra: dict[str, Any] = {}
    lock_problem = check_against_lock(ctx.locked, ref.path, sha256, size) if ctx.locked else None
    contents, findings = open_wheel(ref.path)
    if lock_problem is not None:
        findings.insert(0, lock_problem)
    if contents is not None:
        with contents:
            # A wheel that differs from its pin is never installed: its code is not trusted.
            trusted = lock_problem is None or lock_problem.kind != "lock-changed"
            install, modules, more = _check_contents(ctx, ref, refs, contents, trusted)
            findings += more
    return Fragment(
        wheel=ref.filename,
        project=ref.project,
        version=ref.version,
        sha256=sha256,
        size=size,
        run_id=ctx.run_id,
        fingerprint=ctx.fingerprint(sha256).digest(),
        python=ctx.info.version,
        interpreter=str(ctx.interpreter),
        platform=ctx.platform,
        variant=ctx.variant,
        duration=time.perf_counter() - started,
        install=install,
        findings=tuple(findings),
        modules=tuple(modules),
        extra=extra,
    )


def _check_contents(
    ctx: RunContext,
    ref: WheelRef,
    refs: Sequence[WheelRef],
    contents: WheelContents,
    trusted: bool,
) -> tuple[str, list[ModuleResult], list[Finding]]:
    findings = integrity_findings(contents)
    candidates = extension_candidates(contents, ctx.info.ext_suffixes)
    plan = plan_modules(contents, candidates, ctx.settings.skip_modules)
    tag_problem = _tag_finding(contents, supported_tags(ctx.info))
    if tag_problem is not None:
        findings.append(tag_problem)
    if findings or not trusted:  # never install a damaged, unsafe, changed or foreign wheel
        return "skipped", _not_installed(plan.to_import, plan.decided), findings
    uv = find_uv()
    venv = ctx.venv_dir(ref.session_id)
    result = install_wheel(uv, ctx.interpreter, venv, ref.path, ctx.packages)
    if result.python is None:
        assert result.finding is not None
        failure = _install_failure(ctx, contents, refs, result.finding)
        return "failed", _not_installed(plan.to_import, plan.decided), [*findings, failure]
    sandbox = Sandbox(ctx.sandbox_dir(ref.session_id))
    names = [c.module for c in plan.to_import]
    raws = run_probe(
        result.python,
        names,
        sandbox,
        timeout=ctx.settings.import_timeout,
        isolate=ctx.settings.isolate,
        keep_env=ctx.settings.keep_env,
    )
    required = requirement_names(contents.requires_dist, ctx.info.markers)
    needs_declared = any(r.get("exc_type") == "ModuleNotFoundError" for r in raws)
    declared: set[str] = set()
    optional: dict[str, str] = {}
    if needs_declared:
        declared = _declared_import_names(ctx, refs, required)
        for dist, extras in optional_requirements(contents.requires_dist, ctx.info.markers).items():
            label = "extra " + ", ".join(repr(e) for e in extras)
            optional[dist] = label
            for name in _declared_import_names(ctx, refs, {dist}):
                optional.setdefault(name, label)
    import_ctx = ImportContext(declared, required, optional)
    files = {c.module: c.installed for c in plan.to_import}
    imported = [classify(raw, files.get(str(raw["module"])), import_ctx) for raw in raws]
    shutil.rmtree(sandbox.root, ignore_errors=True)
    return "ok", sorted([*plan.decided, *imported], key=lambda m: m.module), findings


def run_probe_session(ctx: RunContext, ref: WheelRef, refs: Sequence[WheelRef]) -> Fragment:
    """What a probe-<wheel> session does: check the wheel and write its fragment."""
    fragment = check_wheel(ctx, ref, refs)
    write_fragment(ctx.fragments_dir, fragment)
    return fragment
