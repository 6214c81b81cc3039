"""What a wheel's bytes alone decide, computed once per content and kept across runs.

Checking RECORD decompresses and hashes every member; the static audit and the export plan
parse every binary. None of it depends on the machine, the interpreter or the packages
folder: only on the wheel's bytes (its sha256), the checker's code and policy data
(``code_digest``), ``min_glibc`` and ``x86_64_level``. So the results are kept in
``{work_dir}/static/{sha256}.json`` with that key, like the shared bytecode tree, and a
fresh run (``NATIVE_CHECK_FRESH=1``) still installs and imports every wheel anew but does not
decompress and parse unchanged bytes again. An entry whose key differs, or that cannot be
read, is ignored and rewritten; ``nox -s clean`` removes them all.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from checker.atomic import write_json_atomic
from checker.audit import AuditResult, audit_wheel
from checker.binary import BinaryFormatError
from checker.config.context import RunContext
from checker.findings import Finding
from checker.wheel.contents import WheelContents
from checker.wheel.fragment import code_digest
from checker.wheel.integrity import checked_record_findings
from checker.wheel.modules import Exports, exports_of

log = logging.getLogger(__name__)

SCHEMA = 1


@dataclass(frozen=True)
class StaticFacts:
    record: tuple[Finding, ...]  # RECORD hash, size and membership findings
    audit: AuditResult
    known_exports: Mapping[str, Exports | None]  # binary member -> exports (None: unreadable)
    cached: bool = False  # read from the cache, not computed

    def exports(self, contents: WheelContents, member: str) -> Exports:
        """``member``'s exports; BinaryFormatError when it is not a readable binary."""
        if member in self.known_exports:
            known = self.known_exports[member]
            if known is None:
                raise BinaryFormatError(f"{member}: not a readable binary")
            return known
        return exports_of(contents, member)


def compute_static_facts(
    contents: WheelContents, *, min_glibc: str | None, x86_64_level: str = "baseline"
) -> StaticFacts:
    record = tuple(checked_record_findings(contents))
    audit = audit_wheel(contents, min_glibc=min_glibc, x86_64_level=x86_64_level)
    exports: dict[str, Exports | None] = {}
    for binary in audit.binaries:
        try:
            exports[binary.file] = exports_of(contents, binary.file)
        except BinaryFormatError:
            exports[binary.file] = None
    return StaticFacts(record, audit, exports)


def _key(sha256: str, min_glibc: str | None, x86_64_level: str) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "sha256": sha256,
        "code": code_digest(),
        "min_glibc": min_glibc,
        "x86_64_level": x86_64_level,
    }


def _to_json(facts: StaticFacts, key: dict[str, Any]) -> dict[str, Any]:
    return {
        "key": key,
        "record": [finding.to_json() for finding in facts.record],
        "audit": facts.audit.to_json(),
        "audit_findings": [finding.to_json() for finding in facts.audit.findings],
        "exports": {
            member: None if exp is None else {"inits": list(exp.inits), "any": exp.any}
            for member, exp in sorted(facts.known_exports.items())
        },
    }


def _from_json(data: dict[str, Any]) -> StaticFacts:
    findings = tuple(Finding.from_json(item) for item in data["audit_findings"])
    exports = {
        str(member): None if exp is None else Exports(tuple(exp["inits"]), bool(exp["any"]))
        for member, exp in data["exports"].items()
    }
    return StaticFacts(
        record=tuple(Finding.from_json(item) for item in data["record"]),
        audit=AuditResult.from_json(data["audit"], findings),
        known_exports=exports,
        cached=True,
    )


def _read(path: Path, key: dict[str, Any]) -> StaticFacts | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return _from_json(data) if data.get("key") == key else None
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        log.info("ignoring the unreadable static cache entry %s: %s", path, exc)
        return None


def _write(path: Path, data: dict[str, Any]) -> None:
    """Atomically (sessions may write the same entry at once); a failure only costs time."""
    try:
        write_json_atomic(path, data, compact=True)
    except OSError as exc:
        log.info("cannot write the static cache entry %s: %s", path, exc)


def static_facts(
    contents: WheelContents,
    sha256: str,
    *,
    min_glibc: str | None,
    cache: Path | None,
    x86_64_level: str = "baseline",
) -> StaticFacts:
    """The wheel's static facts, from ``cache`` (a folder) when an entry has this key."""
    if cache is None:
        return compute_static_facts(contents, min_glibc=min_glibc, x86_64_level=x86_64_level)
    key = _key(sha256, min_glibc, x86_64_level)
    path = cache / f"{sha256}.json"
    # One computation per content at a time: the set check and a probe may ask at once.
    with _lock(sha256):
        known = _read(path, key)
        if known is not None:
            return known
        facts = compute_static_facts(contents, min_glibc=min_glibc, x86_64_level=x86_64_level)
        # A damaged zip may be a read error of this machine, not the bytes: computed again.
        if not any(f.kind == "corrupt-wheel" for f in facts.record):
            _write(path, _to_json(facts, key))
        return facts


_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def _lock(sha256: str) -> threading.Lock:
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(sha256, threading.Lock())


def claim(sha256: str) -> threading.Lock | None:
    """The content's lock, taken, when no thread holds it (the caller computes the facts
    elsewhere and releases it); None when a thread is computing them now."""
    lock = _lock(sha256)
    return lock if lock.acquire(blocking=False) else None


def is_known(ctx: RunContext, sha256: str) -> bool:
    """Whether the static cache holds this content's facts under the run's settings."""
    key = _key(sha256, ctx.settings.min_glibc, ctx.settings.x86_64_level)
    return _read(ctx.static_cache / f"{sha256}.json", key) is not None


def run_static_facts(ctx: RunContext, contents: WheelContents, sha256: str) -> StaticFacts:
    """The wheel's static facts under the run's settings that decide them (the probe and the
    set check ask alike, so a setting that matters is passed in this one place)."""
    return static_facts(
        contents,
        sha256,
        min_glibc=ctx.settings.min_glibc,
        cache=ctx.static_cache,
        x86_64_level=ctx.settings.x86_64_level,
    )
