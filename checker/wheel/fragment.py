"""The per-wheel result a probe session writes and the aggregate reads (atomic JSON files)."""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from checker import __version__
from checker.atomic import read_text_if_exists, write_json_atomic
from checker.errors import InputFileError
from checker.findings import Finding, ModuleResult

log = logging.getLogger(__name__)

FRAGMENT_VERSION = 1


@dataclass(frozen=True)
class Fingerprint:
    """What a fragment's result depends on; another value means another check."""

    wheel_sha256: str
    interpreter: str
    python: str
    platform: str
    variant: str
    checker_version: str = __version__
    checker_code: str = ""  # digest of the checker's own code and data (see code_digest)
    folder: str = ""  # digest of the packages folder's wheel names and sizes (dependencies)
    probe_settings: str = ""  # timeout, isolation, skip patterns, kept environment
    lock_pin: str = ""  # this wheel's pin in packages.lock, when a lock applies

    def digest(self) -> str:
        text = json.dumps(self.__dict__, sort_keys=True)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


@dataclass(frozen=True)
class Fragment:
    wheel: str
    project: str | None
    version: str | None
    sha256: str
    size: int
    run_id: str
    fingerprint: str
    python: str
    interpreter: str
    platform: str
    variant: str
    duration: float
    install: str  # "ok" | "failed" | "skipped" | "resolved" (nothing to import, no venv)
    findings: tuple[Finding, ...] = ()
    modules: tuple[ModuleResult, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict, hash=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "fragment_version": FRAGMENT_VERSION,
            "checker_version": __version__,
            "wheel": self.wheel,
            "project": self.project,
            "version": self.version,
            "sha256": self.sha256,
            "size": self.size,
            "run_id": self.run_id,
            "fingerprint": self.fingerprint,
            "python": self.python,
            "interpreter": self.interpreter,
            "platform": self.platform,
            "variant": self.variant,
            "duration": round(self.duration, 6),
            "install": self.install,
            "findings": [f.to_json() for f in self.findings],
            "modules": [m.to_json() for m in self.modules],
            "extra": self.extra,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Fragment:
        if data.get("fragment_version") != FRAGMENT_VERSION:
            raise ValueError(f"fragment_version {data.get('fragment_version')!r} is not supported")
        return cls(
            wheel=str(data["wheel"]),
            project=data.get("project"),
            version=data.get("version"),
            sha256=str(data["sha256"]),
            size=int(data["size"]),
            run_id=str(data["run_id"]),
            fingerprint=str(data["fingerprint"]),
            python=str(data["python"]),
            interpreter=str(data["interpreter"]),
            platform=str(data["platform"]),
            variant=str(data["variant"]),
            duration=float(data["duration"]),
            install=str(data["install"]),
            findings=tuple(Finding.from_json(f) for f in data.get("findings", [])),
            modules=tuple(ModuleResult.from_json(m) for m in data.get("modules", [])),
            extra=dict(data.get("extra") or {}),
        )


@functools.cache
def code_digest() -> str:
    """A digest of the checker's own source and data: a fragment written by other code is
    never reused, even when the version number did not change."""
    root = Path(__file__).resolve().parent.parent  # the checker package
    hasher = hashlib.sha256()
    for path in sorted([*root.rglob("*.py"), *root.rglob("*.json")]):
        hasher.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return hasher.hexdigest()[:16]


def sha256_file(path: Path, memo: Path | None = None) -> tuple[str, int]:
    """sha256 and size of ``path``.

    Within one process (a sequential nox run: probe sessions, then the aggregate) a file is
    hashed once. With ``memo`` (a folder; incremental runs only, never in CI), the digest is
    also kept across runs, keyed by size, mtime, inode and ctime: ctime changes whenever the
    file is written or its times are set, and cannot be set back, so a modified wheel is
    always hashed anew, as git's index decides.
    """
    stat = path.stat()
    key = memo_key(stat)
    record = memo / f"{path.name}.json" if memo else None
    if record is not None:
        try:
            known = json.loads(record.read_text(encoding="utf-8"))
            if known["key"] == key:
                return str(known["sha256"]), stat.st_size
        except (OSError, ValueError, KeyError, TypeError):
            pass
    digest = _hashed_once(str(path.absolute()), stat.st_size, stat.st_mtime_ns, stat.st_ino)
    if record is not None:
        write_json_atomic(record, {"key": key, "sha256": digest[0]})
    return digest


def memo_key(stat: os.stat_result, platform: str = sys.platform) -> list[int]:
    """What says a file is unchanged: size, mtime, inode and, on POSIX, ctime (the inode's
    change time). On Windows st_ctime is the creation time, which a write does not change:
    it is left out there (a rewritten file keeps its file index only when written in place,
    which also sets its mtime)."""
    key = [stat.st_size, stat.st_mtime_ns, stat.st_ino]
    return key if platform == "win32" else [*key, stat.st_ctime_ns]


_HASHING: dict[str, threading.Lock] = {}
_HASHING_GUARD = threading.Lock()


def _hashed_once(path_text: str, size: int, mtime_ns: int, inode: int) -> tuple[str, int]:
    """``_sha256``, one thread at a time per file: the set check and the probes beside it
    ask for the same wheels at once, and a 1 GB wheel is hashed once, not once each."""
    with _HASHING_GUARD:
        lock = _HASHING.setdefault(path_text, threading.Lock())
    with lock:
        return _sha256(path_text, size, mtime_ns, inode)


@functools.lru_cache(maxsize=4096)
def _sha256(path_text: str, _size: int, _mtime_ns: int, _inode: int) -> tuple[str, int]:
    path = Path(path_text)
    hasher = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            hasher.update(chunk)
            size += len(chunk)
    return hasher.hexdigest(), size


def fragment_path(folder: Path, wheel_filename: str) -> Path:
    return folder / f"{wheel_filename}.json"


def write_fragment(folder: Path, fragment: Fragment) -> Path:
    """Write atomically: the aggregate never reads half a fragment."""
    path = fragment_path(folder, fragment.wheel)
    return write_json_atomic(path, fragment.to_json(), sort_keys=True, compact=True)


def read_fragment(path: Path) -> Fragment | None:
    """The fragment at ``path``; None if there is none. A damaged one is an InputFileError."""
    text = read_text_if_exists(path, "fragment")
    if text is None:
        return None
    try:
        data = json.loads(text)
        if not isinstance(data, dict):
            raise TypeError(f"expected a JSON object, got {type(data).__name__}")
        return Fragment.from_json(data)
    except (ValueError, KeyError, TypeError) as exc:
        raise InputFileError(f"{path}: not a valid fragment: {exc}") from None


def remove_fragment(folder: Path, wheel_filename: str) -> None:
    fragment_path(folder, wheel_filename).unlink(missing_ok=True)
