"""The set check: the packages folder as the one environment it becomes when shipped.

Per folder (per variant): file collisions (RECORD, no install), duplicate runtimes (a
warning), then one uv venv with every wheel that fits the interpreter and is intact (a wheel
that fails integrity or differs from its pin is left out, as its probe never installs it):
``not-co-installable`` with uv's reason when that is impossible (two versions of a project,
conflicting requirements), else the co-import of every native module in one process, both
orders. The result is the set fragment ``{fragments}/_set.json``, judged by the aggregate
with the wheels' fragments.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from packaging.tags import parse_tag
from packaging.utils import canonicalize_name

from checker.atomic import read_text_if_exists, write_json_atomic
from checker.config.context import RunContext
from checker.config.platforms import supported_tags
from checker.cpus import usable_cpus
from checker.errors import InputFileError
from checker.findings import SetFinding
from checker.probe.bytecode import shared_bytecode
from checker.probe.install import find_uv, install_together, installed_files
from checker.probe.runner import ProbeOptions, Sandbox
from checker.probe.static_apart import Job, compute_apart
from checker.probe.static_facts import StaticFacts, run_static_facts
from checker.probe.venvs import discard_venvs
from checker.setcheck.alone import not_installable
from checker.setcheck.coimport import CoImport, co_import
from checker.setcheck.collisions import file_collisions
from checker.setcheck.partial import Part, largest_part
from checker.setcheck.probed import probes_of_this_run
from checker.setcheck.requirements import declared_requirements, unsatisfiable_requirements
from checker.setcheck.runtimes import duplicate_runtimes
from checker.setcheck.unpack import largest_unpacked_first
from checker.wheel.contents import WheelContents, extension_candidates, open_wheel
from checker.wheel.discover import WheelRef
from checker.wheel.fragment import code_digest, memo_key, sha256_file
from checker.wheel.integrity import archive_findings, record_hashes
from checker.wheel.lock import check_against_lock
from checker.wheel.modules import plan_modules

log = logging.getLogger(__name__)

SET_FRAGMENT = "_set.json"


@dataclass(frozen=True)
class SetResult:
    """The set fragment: what the folder's wheels do together, for one run."""

    run_id: str
    fingerprint: str
    findings: tuple[SetFinding, ...]
    duration: float
    details: dict[str, Any] = field(default_factory=dict, hash=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "fingerprint": self.fingerprint,
            "findings": [f.to_json() for f in self.findings],
            "duration": self.duration,
            "details": self.details,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SetResult:
        return cls(
            run_id=str(data["run_id"]),
            fingerprint=str(data["fingerprint"]),
            findings=tuple(SetFinding.from_json(f) for f in data["findings"]),
            duration=float(data["duration"]),
            details=dict(data.get("details") or {}),
        )


def hash_in_background(
    ctx: RunContext, refs: Sequence[WheelRef], pool: ThreadPoolExecutor
) -> dict[str, Future[tuple[str, int]]]:
    """Every wheel's sha256, hashed on ``pool``, the largest first (hashlib releases the GIL):
    the set check installs and reads the wheels meanwhile, and the probes beside it wait for
    a wheel being hashed instead of hashing it again (checker.wheel.fragment.sha256_file)."""
    largest = sorted(refs, key=lambda ref: -ref.path.stat().st_size)
    return {ref.filename: pool.submit(sha256_file, ref.path, ctx.hash_memo) for ref in largest}


def set_fingerprint(
    ctx: RunContext, refs: Sequence[WheelRef], digests: Mapping[str, str] | None = None
) -> str:
    """What the set check's result depends on: every wheel's bytes (``digests``: file name
    -> sha256, hashed here when not given), the interpreter, the settings and the checker's
    code."""
    settings = ctx.settings
    if digests is None:
        with ThreadPoolExecutor(max_workers=usable_cpus()) as pool:
            hashing = hash_in_background(ctx, refs, pool)
            digests = {name: future.result()[0] for name, future in hashing.items()}
    key = [
        sorted((ref.filename, digests[ref.filename]) for ref in refs),
        str(ctx.interpreter), ctx.info.version, ctx.platform, ctx.variant, code_digest(),
        settings.import_timeout, settings.skip_modules, settings.keep_env,
        settings.env, declared_requirements(ctx).requirements,
    ]  # fmt: skip
    return hashlib.sha256(json.dumps(key).encode()).hexdigest()[:24]


def venv_name(ctx: RunContext, refs: Sequence[WheelRef]) -> str:
    """The set venv's folder name, known before any wheel is hashed (uv installs while the
    folder is hashed): the wheels as the file system describes them (name, size, mtime,
    inode and ctime, checker.wheel.fragment.memo_key) and the interpreter. A rewritten wheel
    always gets a new name (its ctime changes), which keeps the shared bytecode tree of the
    set venv apart from an older one's (see RunContext.venv_dir)."""
    wheels = sorted((ref.filename, memo_key(ref.path.stat())) for ref in refs)
    key = [wheels, str(ctx.interpreter), ctx.info.version, ctx.platform, ctx.variant]
    return hashlib.sha256(json.dumps(key).encode()).hexdigest()[:12]


def set_fragment_path(ctx: RunContext) -> Path:
    return ctx.fragments_dir / SET_FRAGMENT


def write_set_result(ctx: RunContext, result: SetResult) -> Path:
    return write_json_atomic(set_fragment_path(ctx), result.to_json(), compact=True)


def read_set_result(path: Path) -> SetResult | None:
    """The set fragment at ``path``; None if there is none; InputFileError if damaged."""
    text = read_text_if_exists(path, "set fragment")
    if text is None:
        return None
    try:
        return SetResult.from_json(json.loads(text))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InputFileError(f"{path}: not a valid set fragment: {exc}") from None


def _fits(contents: WheelContents, ctx: RunContext) -> bool:
    wheel_tags = {t for text in contents.tags for t in parse_tag(text)}
    return not wheel_tags.isdisjoint(supported_tags(ctx.info))


def _may_install(ctx: RunContext, contents: WheelContents) -> bool:
    """The checks on names alone, as before a probe's install: it fits the interpreter, its
    paths are safe, it is not changed against its pin (uv runs no code of a wheel)."""
    if not _fits(contents, ctx) or archive_findings(contents):
        return False
    if ctx.locked is not None:
        sha256, size = sha256_file(contents.path, ctx.hash_memo)
        pin = check_against_lock(ctx.locked, contents.path, sha256, size)
        return pin is None or pin.kind != "lock-changed"
    return True


def _intact(ctx: RunContext, contents: WheelContents, apart: set[str]) -> StaticFacts | None:
    """The wheel's static facts when every byte matches RECORD (read from the files of the
    set venv when they are there, checked against the archive); None: none of its code runs.
    Facts a child computed for this check (``apart``) count as computed, not as cached."""
    sha256, _size = sha256_file(contents.path, ctx.hash_memo)
    facts = run_static_facts(ctx, contents, sha256)
    if facts.cached and sha256 in apart:
        facts = replace(facts, cached=False)
    return None if facts.record or contents.store.differing else facts


def _modules(
    ctx: RunContext, wheels: Sequence[tuple[WheelContents, StaticFacts]]
) -> list[tuple[str, str]]:
    """(module, wheel) to import, wheel by wheel in sorted order, as the probes plan them."""
    found = []
    for contents, facts in sorted(wheels, key=lambda item: item[0].path.name):
        candidates = extension_candidates(contents, ctx.info.ext_suffixes)
        exports = functools.partial(facts.exports, contents)
        plan = plan_modules(contents, candidates, ctx.settings.skip_modules, exports)
        found += [(c.module, contents.path.name) for c in plan.to_import]
    return found


def _conflicting(reason: str, wheels: Sequence[WheelContents]) -> tuple[str, ...]:
    """The wheels whose projects uv's reason names (all of them when it names none)."""
    text = reason.lower().replace("_", "-")
    named = [c.path.name for c in wheels if str(canonicalize_name(c.project)) in text]
    return tuple(named or [c.path.name for c in wheels])


def _static_set_findings(
    ctx: RunContext, wheels: Sequence[WheelContents], recorded: dict[str, dict[str, str]]
) -> list[SetFinding]:
    """What the RECORDs of ``wheels`` say without an install: collisions, duplicate runtimes."""
    fold = ctx.platform.startswith(("windows", "macosx"))
    windows = ctx.platform.startswith("windows")
    found = file_collisions(wheels, fold_case=fold, windows=windows, recorded=recorded)
    return found + duplicate_runtimes(wheels, recorded)


def _trusted(
    ctx: RunContext, venv: Path, python: Path, fitting: Sequence[WheelContents], apart: set[str]
) -> tuple[Path | None, str, list[WheelContents], list[tuple[WheelContents, StaticFacts]]]:
    """RECORD and exports from the files uv wrote (as a probe reads them); a wheel that fails
    is left out and the venv made again without it, before anything imports. With probes
    beside it, what is not known yet is computed in child processes (checker.probe.
    static_apart); ``apart`` gets the sha256 of those wheels."""
    for contents in fitting:
        contents.store.use_installed(installed_files(contents, python))
    if ctx.settings.jobs > 1:
        jobs = [Job(c, sha256_file(c.path, ctx.hash_memo)[0], python) for c in fitting]
        apart |= compute_apart(ctx, jobs)
    trusted = [(c, f) for c in fitting if (f := _intact(ctx, c, apart)) is not None]
    kept = [c for c, _facts in trusted]
    if len(kept) == len(fitting):
        return python, "", kept, trusted
    again, reason = install_together(
        find_uv(), ctx.interpreter, venv, [c.path for c in kept], ctx.packages
    )
    return again, reason, kept, trusted


def _part(
    ctx: RunContext, venv: Path, fitting: Sequence[WheelContents], reason: str, apart: set[str]
) -> tuple[Part, list[tuple[WheelContents, StaticFacts]]]:
    """The largest co-installable part of ``fitting``, installed in ``venv``, and its wheels
    whose installed files match their RECORD."""
    trusted: list[tuple[WheelContents, StaticFacts]] = []

    def install(wheels: Sequence[WheelContents]) -> tuple[Path | None, str]:
        python, why = install_together(
            find_uv(), ctx.interpreter, venv, [c.path for c in wheels], ctx.packages
        )
        if python is not None:
            python, why, _kept, found = _trusted(ctx, venv, python, wheels, apart)
            trusted[:] = found
        return python, why

    part = largest_part(install, fitting, reason)
    return part, (trusted if part.python is not None else [])


def _not_co_installable(found: Sequence[SetFinding], part: Part) -> list[SetFinding]:
    """The findings of a failed co-install (checker.setcheck.alone), the not-co-installable
    one saying what the rest of the set check went on with."""
    return [
        replace(f, error=f"{f.error}\n{part.summary()}") if f.kind == "not-co-installable" else f
        for f in found
    ]


def _install_set(
    ctx: RunContext,
    venv: Path,
    fitting: list[WheelContents],
    details: dict[str, Any],
    apart: set[str],
) -> tuple[Path | None, str, list[WheelContents], list[tuple[WheelContents, StaticFacts]]]:
    """The set venv installed and its files checked against RECORD (``_trusted``)."""
    seconds = details["seconds"]
    mark = time.perf_counter()
    wheels = [c.path for c in fitting]
    scratch = venv.with_name(f"{venv.name}-unpack")
    with largest_unpacked_first(ctx, wheels, scratch, details):
        python, reason = install_together(find_uv(), ctx.interpreter, venv, wheels, ctx.packages)
    seconds["install"] = round(time.perf_counter() - mark, 3)
    mark = time.perf_counter()
    trusted: list[tuple[WheelContents, StaticFacts]] = []
    if python is not None:
        python, reason, fitting, trusted = _trusted(ctx, venv, python, fitting, apart)
    seconds["static"] = round(time.perf_counter() - mark, 3)
    return python, reason, fitting, trusted


def _shared(trusted: Sequence[tuple[WheelContents, StaticFacts]]) -> dict[str, int]:
    """How many of the set venv's static facts were read (kept by a probe of this run or by
    an earlier run: checker.probe.static_facts), how many computed."""
    cached = sum(1 for _contents, facts in trusted if facts.cached)
    return {"cached": cached, "computed": len(trusted) - cached}


def _co_import_set(
    ctx: RunContext, python: Path, venv: Path, trusted: Sequence[tuple[WheelContents, StaticFacts]]
) -> CoImport:
    """The co-import of the trusted wheels' modules in the set venv (checker.setcheck.coimport),
    with the probes' bytecode tree and what this run's probes recorded."""
    options = ProbeOptions(
        timeout=ctx.settings.import_timeout,
        keep_env=ctx.settings.keep_env,
        env=ctx.settings.env,
        pycache=ctx.pycache_dir,
    )
    share = shared_bytecode(ctx.pycache_dir, ctx.info.cache_tag) if ctx.info.cache_tag else None
    new = share is not None and share.is_new(venv)
    if share is not None and new:
        share.seed(venv)
    digests = {c.path.name: sha256_file(c.path, ctx.hash_memo)[0] for c, _facts in trusted}
    reported = probes_of_this_run(ctx, digests)
    sandbox = Sandbox(ctx.sandbox_dir("_set"))
    done = co_import(python, _modules(ctx, trusted), sandbox, options, reported)
    if share is not None and new:
        share.remember(venv)
    return done


def check_set(ctx: RunContext, refs: Sequence[WheelRef]) -> SetResult:
    """Check the folder ``refs`` as one environment (findings are data, never exceptions)."""
    started = time.perf_counter()
    findings: list[SetFinding] = []
    details: dict[str, Any] = {"started": round(time.time(), 3)}
    with ExitStack() as stack:
        pool = ThreadPoolExecutor(max_workers=usable_cpus(), thread_name_prefix="set-hash")
        stack.callback(pool.shutdown, wait=True, cancel_futures=True)
        hashing = hash_in_background(ctx, refs, pool)
        opened = [open_wheel(ref.path)[0] for ref in refs]
        wheels = [stack.enter_context(c) for c in opened if c is not None]
        recorded = {c.path.name: record_hashes(c) for c in wheels}  # RECORD read once
        statics = _static_set_findings(ctx, wheels, recorded)
        # Declared requirements, resolved offline from the folder (checker.setcheck.requirements).
        declared = unsatisfiable_requirements(ctx)
        fitting = [c for c in wheels if _may_install(ctx, c)]
        venv_folder = ctx.settings.work_dir / "set" / ctx.scope
        venv = venv_folder / venv_name(ctx, refs)
        discard_venvs(ctx, venv_folder, keep_bytecode_of=venv.name)
        seconds = details["seconds"] = {"prepare": round(time.perf_counter() - started, 3)}
        apart: set[str] = set()  # sha256 of the static facts computed in a child
        python, reason, fitting, trusted = _install_set(ctx, venv, fitting, details, apart)
        details["wheels"] = len(fitting)
        details["left_out"] = sorted({c.path.name for c in wheels} - {c.path.name for c in fitting})
        details["co_installed"] = python is not None
        if python is None:
            # Not co-installable: said once, then the rest of the set check goes on with
            # the largest part of the folder that installs (checker.setcheck.partial).
            mark = time.perf_counter()
            part, trusted = _part(ctx, venv, fitting, reason, apart)
            named = set(_conflicting(reason, fitting))
            findings += _not_co_installable(
                not_installable(ctx, reason, [c for c in fitting if c.path.name in named]), part
            )
            details["part"] = {
                "wheels": len(part.wheels), "left_out": part.left_out, "tries": part.tries
            }  # fmt: skip
            statics = _static_set_findings(
                ctx, [c for c in wheels if c.path.name not in part.left_out], recorded
            )
            python = part.python
            seconds["part"] = round(time.perf_counter() - mark, 3)
        findings[:0] = [*statics, *declared]
        details["static_facts"] = {**_shared(trusted), "apart": len(apart)}
        if python is not None:
            done = _co_import_set(ctx, python, venv, trusted)
            findings += done.findings
            details["modules"] = done.modules
            details["alone_from_probes"] = done.from_probes
            seconds.update({k: round(v, 3) for k, v in done.seconds.items()})
        mark = time.perf_counter()
        digests = {name: future.result()[0] for name, future in hashing.items()}
        seconds["hash_wait"] = round(time.perf_counter() - mark, 3)  # hashed while installing
        fingerprint = set_fingerprint(ctx, refs, digests)
    return SetResult(
        run_id=ctx.run_id,
        fingerprint=fingerprint,
        findings=tuple(findings),
        duration=time.perf_counter() - started,
        details=details,
    )


def run_set_session(ctx: RunContext, refs: Sequence[WheelRef]) -> SetResult:
    """What a set-check session does: check the folder (or, in an incremental run, reuse the
    result of an earlier run for the same wheels, interpreter and settings) and write the
    set fragment."""
    result = None if ctx.settings.fresh else _reusable(ctx, refs)
    if result is None:
        result = check_set(ctx, refs)
    write_set_result(ctx, result)
    return result


def _reusable(ctx: RunContext, refs: Sequence[WheelRef]) -> SetResult | None:
    try:
        old = read_set_result(set_fragment_path(ctx))
    except InputFileError:
        return None
    if old is None or old.fingerprint != set_fingerprint(ctx, refs):
        return None
    origin = old.details.get("reused_from", old.run_id)
    return replace(old, run_id=ctx.run_id, details={**old.details, "reused_from": origin})
