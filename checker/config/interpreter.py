"""Find the target interpreter and ask it about itself (it may not be the one running nox)."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from checker.atomic import write_json_atomic
from checker.errors import SetupError
from checker.textio import child_stderr_encoding

log = logging.getLogger(__name__)

PROBE_SCRIPT = Path(__file__).resolve().parent.parent / "probe" / "_probe.py"


@dataclass(frozen=True)
class InterpreterInfo:
    """What the target interpreter says about itself (see ``_probe.interpreter_info``)."""

    executable: str
    base_executable: str
    version: str
    version_info: tuple[int, int, int]
    implementation: str
    abiflags: str
    soabi: str | None
    ext_suffixes: tuple[str, ...]
    sysconfig_platform: str
    sys_platform: str
    machine: str
    pointer_bits: int
    libc: tuple[str, str]
    mac_ver: str
    py_gil_disabled: bool
    markers: dict[str, str] = field(hash=False)
    cache_tag: str | None = None  # "cpython-311": names its .pyc files (None: no bytecode)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> InterpreterInfo:
        return cls(
            executable=data["executable"],
            base_executable=data["base_executable"],
            version=data["version"],
            version_info=(
                int(data["version_info"][0]),
                int(data["version_info"][1]),
                int(data["version_info"][2]),
            ),
            implementation=data["implementation"],
            abiflags=data.get("abiflags") or "",
            soabi=data.get("soabi"),
            ext_suffixes=tuple(data["ext_suffixes"]),
            sysconfig_platform=data["sysconfig_platform"],
            sys_platform=data["sys_platform"],
            machine=data["machine"],
            pointer_bits=int(data["pointer_bits"]),
            libc=(data["libc"][0], data["libc"][1]),
            mac_ver=data.get("mac_ver") or "",
            py_gil_disabled=bool(data.get("py_gil_disabled")),
            markers=dict(data["markers"]),
            cache_tag=data.get("cache_tag"),
        )

    @property
    def short_version(self) -> str:
        return f"{self.version_info[0]}.{self.version_info[1]}"

    @property
    def can_load_extensions(self) -> bool:
        """False for a statically linked build without dynamic loading."""
        return bool(self.ext_suffixes)


def resolve_interpreter(spec: str | None) -> Path:
    """The interpreter to check against: ``-P`` (a path or a version such as 3.12) or nox's own.

    Never downloads anything: a version is looked up on PATH as ``pythonX.Y``.
    """
    if not spec:
        # nox may run from a venv (uvx, script mode): check against its base interpreter.
        return Path(getattr(sys, "_base_executable", None) or sys.executable)
    candidate = Path(spec).expanduser()
    if candidate.is_file():
        return candidate.absolute()
    if os.sep in spec or (os.altsep and os.altsep in spec) or candidate.suffix == ".exe":
        raise SetupError(f"interpreter {spec!r} does not exist")
    name = spec if spec.startswith(("python", "pypy")) else f"python{spec}"
    found = shutil.which(name)
    if found is None and sys.platform == "win32" and not spec.startswith(("python", "pypy")):
        found = find_windows_version(spec)
        name = f"py -{spec}, python.exe"
    if found is None:
        raise SetupError(
            f"no interpreter {spec!r} found on PATH (looked for {name!r}); "
            "pass its path with -P /path/to/python (interpreters are never downloaded)"
        )
    return Path(found)


def find_windows_version(version: str) -> str | None:
    """Python ``version`` (3.12) on Windows, which has no ``python3.12``: the launcher's
    ``py -3.12``, else ``python.exe`` / ``python3.exe`` on PATH when it is that version."""
    ask = "import sys; print(sys.executable); print('%d.%d' % sys.version_info[:2])"
    attempts: list[list[str]] = []
    launcher = shutil.which("py")
    if launcher:
        attempts.append([launcher, f"-{version}", "-c", ask])
    for name in ("python", "python3"):
        found = shutil.which(name)
        if found:
            attempts.append([found, "-c", ask])
    for command in attempts:
        try:
            proc = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
        except (OSError, subprocess.TimeoutExpired):
            continue
        lines = proc.stdout.split()
        if proc.returncode == 0 and len(lines) >= 2 and lines[-1] == version:
            return "\n".join(proc.stdout.splitlines()[:-1]).strip()
    return None


def query_interpreter(
    executable: Path, *, timeout: float = 60.0, cache: Path | None = None
) -> InterpreterInfo:
    """Run the probe's ``info`` mode on ``executable``: once per process and file version
    (every session of a sequential nox run asks about the same interpreter), and with
    ``cache`` (a folder) once across processes too (each ``nox --parallel`` worker asks)."""
    try:
        stat = executable.stat()
        probe = PROBE_SCRIPT.stat()
    except OSError:
        return _query(str(executable), 0, timeout)
    if cache is None:
        return _query(str(executable), stat.st_mtime_ns, timeout)
    key = [str(executable), stat.st_mtime_ns, stat.st_size, stat.st_ino, probe.st_mtime_ns]
    key.append(_FACTS_FORMAT)
    record = cache / (hashlib.sha256(json.dumps(key).encode()).hexdigest()[:16] + ".json")
    try:
        return InterpreterInfo.from_json(json.loads(record.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        pass
    info = _query(str(executable), stat.st_mtime_ns, timeout)
    try:
        write_json_atomic(record, dataclasses.asdict(info))
    except OSError as exc:  # a read-only work folder only costs the next worker a query
        log.debug("cannot cache interpreter facts in %s: %s", record, exc)
    return info


# The lines that say why an interpreter died: CPython's fatal error and faulthandler's
# Windows exception line. What follows one up to a blank line or a thread dump belongs to it.
_FATAL = ("Fatal Python error", "Windows fatal exception")
_DUMP = ("Current thread", "Thread 0x", "Stack (most recent", "Python runtime state", "File ")


def fatal_lines(text: str, limit: int = 4) -> list[str]:
    """The fatal error lines of an interpreter's stderr, e.g. ``Fatal Python error:
    init_fs_encoding: ...`` and ``ModuleNotFoundError: No module named 'encodings'``."""
    lines = [line.strip() for line in text.splitlines()]
    found: list[str] = []
    for index, line in enumerate(lines):
        if not line.startswith(_FATAL) or line in found:
            continue
        found.append(line)
        for follow in lines[index + 1 : index + 3]:
            if not follow or follow.startswith((*_FATAL, "Current thread", "Thread 0x")):
                break
            if not follow.startswith(_DUMP) and not follow.startswith("<"):
                found.append(follow)
    return found[:limit]


# Bumped when InterpreterInfo gains a field, so facts cached by older code are asked anew.
_FACTS_FORMAT = 2


@functools.lru_cache(maxsize=8)
def _query(executable_text: str, _stamp: int, timeout: float) -> InterpreterInfo:
    executable = Path(executable_text)
    try:
        proc = subprocess.run(
            [str(executable), "-I", str(PROBE_SCRIPT), "info"],
            capture_output=True,
            text=True,
            encoding=child_stderr_encoding(),  # stdout is ASCII JSON; stderr its locale's
            errors="replace",
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SetupError(f"cannot run interpreter {str(executable)!r}: {exc}") from exc
    if proc.returncode != 0:
        fatal = fatal_lines(proc.stderr)
        if fatal:  # it cannot start: its own words, not the path dump nor a thread dump
            raise SetupError(
                f"interpreter {str(executable)!r} cannot start (exit {proc.returncode}): "
                + "; ".join(fatal)
            )
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise SetupError(
            f"interpreter {str(executable)!r} failed to describe itself "
            f"(exit {proc.returncode}): {' | '.join(tail)}"
        )
    try:
        info = InterpreterInfo.from_json(json.loads(proc.stdout))
    except (ValueError, KeyError, TypeError) as exc:
        raise SetupError(
            f"interpreter {str(executable)!r} gave an unreadable description: {exc}"
        ) from exc
    if info.version_info < (3, 8):
        raise SetupError(f"interpreter {str(executable)!r} is Python {info.version}; 3.8+ needed")
    log.debug("target interpreter %s: %s", executable, info.version)
    return info
