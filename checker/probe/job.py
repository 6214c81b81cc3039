"""One wheel, start to end: read -> integrity -> tags -> plan -> install -> probe -> fragment."""

from __future__ import annotations

import functools
import logging
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from packaging.tags import Tag, parse_tag
from packaging.utils import canonicalize_name

from checker.audit.across import Surroundings, resolve_across
from checker.audit.surroundings import surroundings
from checker.config.context import RunContext
from checker.config.platforms import describe_tags, supported_tags
from checker.errors import InputFileError
from checker.findings import Finding, ModuleResult
from checker.folder.deps import (
    find_missing,
    index_folder,
    installable_extras,
    requirement_closure,
    sole_candidates,
)
from checker.probe import underway
from checker.probe.bytecode import shared_bytecode
from checker.probe.classify import classify, startup_failure
from checker.probe.explain import explain
from checker.probe.gil import gil_findings
from checker.probe.import_context import build_import_context
from checker.probe.install import InstallResult, find_uv, install_wheel, installed_files
from checker.probe.pure import RESOLVED, has_nothing_to_import, requirement_finding
from checker.probe.runner import ProbeOptions, Sandbox, run_probe
from checker.probe.sharing import shared_check
from checker.probe.static_facts import run_static_facts
from checker.probe.venvs import discard_venvs
from checker.wheel.contents import WheelContents, extension_candidates, open_wheel
from checker.wheel.discover import WheelRef
from checker.wheel.fragment import (
    Fragment,
    fragment_path,
    read_fragment,
    sha256_file,
    write_fragment,
)
from checker.wheel.integrity import archive_findings
from checker.wheel.lock import check_against_lock
from checker.wheel.modules import ModulePlan, plan_modules

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


def _install_failure(
    ctx: RunContext, contents: WheelContents, refs: Sequence[WheelRef], fallback: Finding
) -> Finding:
    index = index_folder(refs, supported_tags(ctx.info))
    missing = find_missing(contents.project, contents.requires_dist, index, ctx.info.markers)
    if missing:
        return Finding("install", "install", "missing-dependency", missing)
    return fallback


def _install(
    ctx: RunContext, ref: WheelRef, refs: Sequence[WheelRef], contents: WheelContents, sha256: str
) -> tuple[InstallResult, list[str]]:
    """Install the wheel with the extras the folder can satisfy (else without extras)."""
    uv = find_uv()
    venv = ctx.venv_dir(ref.session_id, sha256)
    discard_venvs(ctx, venv.parent, keep_bytecode_of=venv.name)  # a fresh venv, always
    index = index_folder(refs, supported_tags(ctx.info))
    extras = installable_extras(contents.requires_dist, index, ctx.info.markers)

    def install(extras: list[str]) -> InstallResult:
        project = canonicalize_name(contents.project)
        needed = requirement_closure(
            project, contents.requires_dist, index, ctx.info.markers, extras
        )
        closure = sole_candidates(needed, index)
        return install_wheel(
            uv, ctx.interpreter, venv, ref.path, ctx.packages,
            project=contents.project, dist_info=contents.dist_info, extras=extras,
            alongside=[dep.path for dep in closure],
        )  # fmt: skip

    result = install(extras)
    if result.python is None and extras:  # an extra does not resolve: test without extras
        log.info("%s: installing with extras %s failed; retrying without", ref.filename, extras)
        extras = []
        result = install(extras)
    return result, extras


def check_wheel(
    ctx: RunContext,
    ref: WheelRef,
    refs: Sequence[WheelRef],
    digest: tuple[str, int] | None = None,
    *,
    resolve_with_uv: bool = True,
) -> Fragment:
    """Check one wheel and return its fragment (findings are data, never exceptions).
    ``resolve_with_uv``: a wheel with nothing to import is resolved by uv too (False when
    the run's set check installs it, see checker.probe.pure)."""
    result = None
    try:
        result = _checked_wheel(ctx, ref, refs, digest, resolve_with_uv=resolve_with_uv)
        return result
    finally:  # a set check waiting for this wheel's imports gets the result (or None)
        underway.ended(fragment_path(ctx.fragments_dir, ref.filename), result)


def _checked_wheel(
    ctx: RunContext,
    ref: WheelRef,
    refs: Sequence[WheelRef],
    digest: tuple[str, int] | None,
    *,
    resolve_with_uv: bool,
) -> Fragment:
    started = time.perf_counter()
    sha256, size = digest or sha256_file(ref.path)
    findings: list[Finding] = []
    modules: list[ModuleResult] = []
    install = "skipped"
    # When the check began (Unix time): with --jobs, checks overlap; the report shows how.
    extra: dict[str, Any] = {"started": round(time.time(), 3)}
    lock_problem = check_against_lock(ctx.locked, ref.path, sha256, size) if ctx.locked else None
    contents, findings = open_wheel(ref.path)
    if lock_problem is not None:
        findings.insert(0, lock_problem)
    if contents is not None:
        with contents:
            # A wheel that differs from its pin is never installed: its code is not trusted.
            trusted = lock_problem is None or lock_problem.kind != "lock-changed"
            checked = _check_contents(
                ctx, ref, refs, contents, trusted=trusted, sha256=sha256,
                resolve_with_uv=resolve_with_uv,
            )  # fmt: skip
            install, modules = checked.install, checked.modules
            findings += checked.findings
            extra.update(checked.details)
    return Fragment(
        wheel=ref.filename,
        project=ref.project,
        version=ref.version,
        sha256=sha256,
        size=size,
        run_id=ctx.run_id,
        fingerprint=ctx.fingerprint(ref.filename, sha256).digest(),
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


@dataclass(frozen=True)
class _Checked:
    install: str  # ok | failed | skipped
    modules: list[ModuleResult]
    findings: list[Finding]
    details: dict[str, Any]


def _check_contents(
    ctx: RunContext,
    ref: WheelRef,
    refs: Sequence[WheelRef],
    contents: WheelContents,
    *,
    trusted: bool,
    sha256: str,
    resolve_with_uv: bool = True,
) -> _Checked:
    candidates = extension_candidates(contents, ctx.info.ext_suffixes)
    findings = archive_findings(contents)
    tag_problem = _tag_finding(contents, supported_tags(ctx.info))
    findings += [tag_problem] if tag_problem else []
    venv_folder = ctx.venv_dir(ref.session_id, sha256).parent
    seconds: dict[str, float] = {}
    installed: tuple[InstallResult, list[str]] | None = None
    pure = has_nothing_to_import(candidates)  # no venv of its own (see checker.probe.pure)
    if not findings and trusted and not pure:
        # uv unpacks the files and runs no code of the wheel. What it wrote is the wheel's
        # bytes: RECORD, the audit and the exports read them there instead of inflating the
        # archive again (checker.wheel.members checks each against the archive as it reads it).
        started = time.perf_counter()
        installed = _install(ctx, ref, refs, contents, sha256)
        seconds["install"] = time.perf_counter() - started
        if installed[0].python is not None:
            contents.store.use_installed(installed_files(contents, installed[0].python))
    started = time.perf_counter()
    # RECORD, the static audit and the exports: from the bytes (or their cached result).
    facts = run_static_facts(ctx, contents, sha256)
    seconds["static"] = time.perf_counter() - started
    findings += facts.record
    findings += [
        Finding("integrity", "integrity", "integrity", f"the installed file is not the archive's "
                f"member (a stale uv cache entry?): {member!r}", member)
        for member in sorted(contents.store.differing)
    ]  # fmt: skip
    plan = plan_modules(
        contents, candidates, ctx.settings.skip_modules, functools.partial(facts.exports, contents)
    )
    # The static audit's findings are about other machines: they never stop the import.
    # Its libraries are looked up in the wheels the install brings along, too.
    audit = resolve_across(facts.audit, _surroundings(ctx, refs, contents, installed))
    static = list(audit.findings)
    details: dict[str, Any] = {"audit": audit.to_json(), "seconds": seconds}
    details["static_cached"] = facts.cached  # computed by the set check or an earlier run
    if pure and not findings and trusted:
        discard_venvs(ctx, venv_folder)  # of earlier runs
        return _check_pure(ctx, refs, contents, static, details, resolve_with_uv=resolve_with_uv)
    if findings or installed is None:  # a damaged, unsafe, changed or foreign wheel
        discard_venvs(ctx, venv_folder)
        skipped = _not_installed(plan.to_import, plan.decided)
        return _Checked("skipped", skipped, [*findings, *static], details)
    result, extras = installed
    if extras:
        details["extras"] = extras
    if result.python is None:
        assert result.finding is not None
        failure = _install_failure(ctx, contents, refs, result.finding)
        skipped = _not_installed(plan.to_import, plan.decided)
        return _Checked("failed", skipped, [failure, *static], details)
    started = time.perf_counter()
    modules, found = _probe_modules(
        ctx, ref, refs, contents, plan, python=result.python, extras=extras
    )
    seconds["imports"] = time.perf_counter() - started
    modules, static = explain(modules, static, audit)
    return _Checked("ok", modules, [*found, *static], details)


def _check_pure(
    ctx: RunContext,
    refs: Sequence[WheelRef],
    contents: WheelContents,
    static: list[Finding],
    details: dict[str, Any],
    *,
    resolve_with_uv: bool,
) -> _Checked:
    """A wheel with nothing to import: its requirements resolved offline, no venv."""
    started = time.perf_counter()
    problem = requirement_finding(ctx, refs, contents, with_uv=resolve_with_uv)
    details["seconds"]["resolve"] = time.perf_counter() - started
    details["resolution"] = "uv" if resolve_with_uv else "folder"
    if problem is not None:
        return _Checked("failed", [], [problem, *static], details)
    return _Checked(RESOLVED, [], static, details)


def _surroundings(
    ctx: RunContext,
    refs: Sequence[WheelRef],
    contents: WheelContents,
    installed: tuple[InstallResult, list[str]] | None,
) -> Surroundings:
    return surroundings(
        contents,
        refs,
        markers=ctx.info.markers,
        supported=supported_tags(ctx.info),
        extras=installed[1] if installed else (),
        accepted=ctx.settings.accepted_libraries(ctx.platform),
        platform=ctx.platform,
    )


def _probe_modules(
    ctx: RunContext,
    ref: WheelRef,
    refs: Sequence[WheelRef],
    contents: WheelContents,
    plan: ModulePlan,
    *,
    python: Path,
    extras: Sequence[str],
) -> tuple[list[ModuleResult], list[Finding]]:
    """Import the planned modules in the venv and classify what happened: an interpreter
    that cannot start is one ``interpreter`` finding, its modules not imported; an import
    that turned the GIL of a free-threaded target back on is a ``gil-enabled`` finding."""
    sandbox = Sandbox(ctx.sandbox_dir(ref.session_id))
    options = ProbeOptions(
        timeout=ctx.settings.import_timeout,
        isolate=ctx.settings.isolate,
        keep_env=ctx.settings.keep_env,
        env=ctx.settings.env,
        # One bytecode tree for every probe, kept across runs: the stdlib is compiled once,
        # each venv's files are keyed by their path and validated by source mtime and size.
        pycache=ctx.pycache_dir,
    )
    # A venv new to the bytecode tree gets the bytecode of the files it shares with earlier
    # venvs (uv's hard links), and lends its own to later ones (see checker.probe.bytecode).
    venv = python.parent.parent
    share = shared_bytecode(options.pycache, ctx.info.cache_tag) if ctx.info.cache_tag else None
    new = share is not None and share.is_new(venv)
    if share is not None and new:
        share.seed(venv)
    underway.importing(fragment_path(ctx.fragments_dir, ref.filename))  # see check_wheel
    raws = run_probe(python, [c.module for c in plan.to_import], sandbox, options)
    if share is not None and new:
        share.remember(venv)
    import_ctx = build_import_context(
        contents, refs, ctx.info.markers, raws, extras, supported=supported_tags(ctx.info)
    )
    files = {c.module: c.installed for c in plan.to_import}
    broken = startup_failure(raws, python)
    if broken is not None:
        why = "not imported: the venv's interpreter cannot start"
        imported = [ModuleResult(m, f, "skipped", "not-installed", why) for m, f in files.items()]
    else:
        imported = [classify(raw, files.get(str(raw["module"])), import_ctx) for raw in raws]
    shutil.rmtree(sandbox.root, ignore_errors=True)
    modules = sorted([*plan.decided, *imported], key=lambda m: m.module)
    return modules, [broken] if broken else gil_findings(raws, files)


def reusable_fragment(
    ctx: RunContext, ref: WheelRef, sha256: str, *, resolve_with_uv: bool = True
) -> Fragment | None:
    """The earlier fragment of this wheel when nothing it depends on has changed (a wheel
    resolved by the folder walk alone is checked again when uv must resolve it now)."""
    if ctx.settings.fresh:
        return None
    try:
        old = read_fragment(fragment_path(ctx.fragments_dir, ref.filename))
    except InputFileError:
        return None
    if old is None or old.fingerprint != ctx.fingerprint(ref.filename, sha256).digest():
        return None
    if resolve_with_uv and old.extra.get("resolution") == "folder":
        return None
    origin = old.extra.get("reused_from", old.run_id)
    return replace(old, run_id=ctx.run_id, extra={**old.extra, "reused_from": origin})


def run_probe_session(
    ctx: RunContext,
    ref: WheelRef,
    refs: Sequence[WheelRef],
    *,
    share: bool = False,
    set_check: bool = False,
) -> Fragment:
    """What a probe-<wheel> session does: check the wheel (or reuse its unchanged result)
    and write its fragment for this run. ``share``: take the result another variant of this
    run got for the same check key, and offer this one (see checker.probe.sharing).
    ``set_check``: the run's set check installs the folder (a wheel with nothing to import
    is then not resolved by uv on its own)."""
    digest = sha256_file(ref.path, ctx.hash_memo)
    fragment = reusable_fragment(ctx, ref, digest[0], resolve_with_uv=not set_check)
    if fragment is None:

        def check() -> Fragment:
            return check_wheel(ctx, ref, refs, digest, resolve_with_uv=not set_check)

        fragment = shared_check(ctx, ref, digest[0], refs, check) if share else check()
    write_fragment(ctx.fragments_dir, fragment)
    return fragment
