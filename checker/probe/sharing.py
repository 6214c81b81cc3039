"""Shared work: a check that several variants of one run would repeat is done once.

Most wheels (numpy, pandas, pyarrow, ...) are the same bytes in many variants. A check's
result depends on the wheel's bytes, the interpreter (its real executable path, version and
platform), what its install brings along from the folder (the requirement closure with the
extras the folder satisfies, by file bytes), the settings that change a probe and the
checker's code: the *check key*. Within one run, a probe session whose check key was checked
already by another variant takes that result (marked ``shared_from`` in its details) instead
of installing and importing again. Anything that differs makes it a check of its own.

A result that names other wheels of the folder (a missing module the folder has elsewhere, an
optional extra, a library only a wheel outside the closure has) depends on more than the
closure: it is never shared.

Results are kept per run in ``{work}/checks/{run id}/{key}.json`` (``nox --parallel``
workers share them too); a lock per key makes concurrent sessions of one process (``--jobs``)
wait for the first instead of repeating it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from checker.atomic import write_json_atomic
from checker.config.context import RunContext
from checker.config.platforms import supported_tags
from checker.errors import InputFileError
from checker.folder.deps import index_folder, installable_extras, requirement_closure
from checker.wheel.contents import open_wheel
from checker.wheel.discover import WheelRef
from checker.wheel.fragment import Fragment, read_fragment, sha256_file

log = logging.getLogger(__name__)

_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()
_FOLDER_SENSITIVE_KINDS = frozenset({"missing-python-module", "optional-dependency"})


def check_key(ctx: RunContext, ref: WheelRef, sha256: str, refs: Sequence[WheelRef]) -> str | None:
    """The wheel's check key in this context (None: not shareable, e.g. an unreadable wheel)."""
    contents, _findings = open_wheel(ref.path)
    if contents is None:
        return None
    with contents:
        project, requires = contents.project, contents.requires_dist
    index = index_folder(refs, supported_tags(ctx.info))
    extras = installable_extras(requires, index, ctx.info.markers)
    closure = requirement_closure(project, requires, index, ctx.info.markers, extras)
    fingerprint = ctx.fingerprint(ref.filename, sha256)
    key = {
        "fingerprint": replace(fingerprint, variant="", folder="").__dict__,
        "executable": os.path.realpath(ctx.interpreter),
        "extras": extras,
        "closure": sorted((r.filename, sha256_file(r.path, ctx.hash_memo)[0]) for r in closure),
    }
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:24]


def folder_sensitive(fragment: Fragment) -> bool:
    """Whether the result names wheels of the folder beyond the closure (never shared)."""
    if any(m.kind in _FOLDER_SENSITIVE_KINDS for m in fragment.modules):
        return True
    errors = [f.error for f in fragment.findings]
    errors += [f.error for m in fragment.modules for f in m.explanation]
    return any("of the packages folder has it" in error for error in errors)


def _store(ctx: RunContext) -> Path:
    return ctx.settings.work_dir / "checks" / ctx.run_id


def _lock(key: str) -> threading.Lock:
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(key, threading.Lock())


def shared_check(
    ctx: RunContext,
    ref: WheelRef,
    sha256: str,
    refs: Sequence[WheelRef],
    check: Callable[[], Fragment],
) -> Fragment:
    """``check()``'s fragment, or the one another variant of this run wrote for the same key
    (adopted for this variant: its variant, fingerprint and ``shared_from``)."""
    key = check_key(ctx, ref, sha256, refs)
    if key is None:
        return check()
    folder = _store(ctx) / key
    with _lock(key):
        try:
            earlier = read_fragment(folder / "result.json")
        except InputFileError as exc:
            log.info("ignoring the shared result of %s: %s", ref.filename, exc)
            earlier = None
        if earlier is not None:
            return replace(
                earlier,
                wheel=ref.filename,
                variant=ctx.variant,
                fingerprint=ctx.fingerprint(ref.filename, sha256).digest(),
                extra={**earlier.extra, "shared_from": earlier.variant},
            )
        fragment = check()
        if not folder_sensitive(fragment):
            write_json_atomic(folder / "result.json", fragment.to_json(), compact=True)
        return fragment


def forget_other_runs(ctx: RunContext) -> None:
    """Remove the shared results of earlier runs (the aggregate's clean-up)."""
    root = ctx.settings.work_dir / "checks"
    try:
        entries = list(root.iterdir())
    except OSError:
        return
    for entry in entries:
        if entry.name != ctx.run_id:
            shutil.rmtree(entry, ignore_errors=True)
