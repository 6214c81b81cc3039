"""Drive the probe in the wheel's venv: sandboxed environment, crash and timeout recovery."""

from __future__ import annotations

import json
import logging
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from checker.config.environment import Env
from checker.config.interpreter import PROBE_SCRIPT, fatal_lines
from checker.textio import child_stderr_encoding

log = logging.getLogger(__name__)

# Passed through to the probe unchanged; everything else is dropped (see docs/design.md).
# USERNAME: getpass.getuser() raises on Windows without it.
PASS_THROUGH_ENV = (
    "PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "SYSTEMROOT", "SYSTEMDRIVE", "WINDIR",
    "COMSPEC", "PATHEXT", "NUMBER_OF_PROCESSORS", "PROCESSOR_ARCHITECTURE", "USERNAME",
)  # fmt: skip
# PATH folders of toolchains that a CI runner has and a user's machine has not; on Windows
# the loader searches PATH for a DLL, so a wheel lacking libgcc_s_seh-1.dll or
# libwinpthread-1.dll would load from C:\mingw64\bin here. A folder with a component that
# starts with one of these is dropped from the probe's PATH on Windows.
_TOOLCHAIN_FOLDERS = ("mingw", "msys", "cygwin", "rtools")
_STDERR_TAIL = 20
_MARKER = "[native-check] importing "
_NTSTATUS = {
    0xC0000005: "access violation",
    0xC00000FD: "stack overflow",
    # __fastfail: not only a stack buffer overrun but abort(), Py_FatalError, std::terminate.
    0xC0000409: "fast-fail (stack buffer overrun, abort(), Py_FatalError, std::terminate)",
    0xC000001D: "illegal instruction",
    0xC0000135: "DLL not found",
    0xC0000139: "entry point not found",
    0x40000015: "abort",
}


@dataclass(frozen=True)
class Sandbox:
    """Throw-away folders of one probe: HOME, temp and an empty working directory."""

    root: Path

    @property
    def home(self) -> Path:
        return self.root / "home"

    @property
    def tmp(self) -> Path:
        return self.root / "tmp"

    @property
    def cwd(self) -> Path:
        return self.root / "cwd"

    @property
    def appdata(self) -> Path:
        return self.home / "AppData" / "Roaming"

    @property
    def localappdata(self) -> Path:
        return self.home / "AppData" / "Local"

    def create(self) -> None:
        for folder in (self.home, self.tmp, self.cwd, self.home / ".config", self.home / ".cache",
                       self.appdata, self.localappdata):  # fmt: skip
            folder.mkdir(parents=True, exist_ok=True)

    def environment(
        self,
        keep: Sequence[str] = (),
        extra: Env = (),
        *,
        environ: Mapping[str, str] | None = None,
        platform: str = sys.platform,
    ) -> dict[str, str]:
        """The probe's environment: what passes through (on Windows, PATH without toolchain
        folders), then ``extra`` (the configured ``env``), then the sandbox's throw-away
        folders (SANDBOX_OWNED), which always win."""
        source = os.environ if environ is None else environ
        env = {k: source[k] for k in (*PASS_THROUGH_ENV, *keep) if k in source}
        if platform == "win32" and "PATH" in env and "PATH" not in keep:
            env["PATH"] = probe_path(env["PATH"])
        env["MPLBACKEND"] = "Agg"
        env.update(extra)
        home, tmp = str(self.home), str(self.tmp)
        env.update(
            HOME=home,
            USERPROFILE=home,
            APPDATA=str(self.appdata),
            LOCALAPPDATA=str(self.localappdata),
            XDG_CONFIG_HOME=str(self.home / ".config"),
            XDG_CACHE_HOME=str(self.home / ".cache"),
            XDG_DATA_HOME=str(self.home / ".local" / "share"),
            XDG_STATE_HOME=str(self.home / ".local" / "state"),
            XDG_RUNTIME_DIR=tmp,
            MPLCONFIGDIR=str(self.home / ".matplotlib"),
            TMPDIR=tmp,
            TEMP=tmp,
            TMP=tmp,
        )
        return env


def probe_path(path: str) -> str:
    """A Windows PATH without the folders of toolchains (``_TOOLCHAIN_FOLDERS``)."""

    def toolchain(folder: str) -> bool:
        parts = folder.replace("/", "\\").lower().split("\\")
        return any(part.startswith(_TOOLCHAIN_FOLDERS) for part in parts)

    return ";".join(f for f in path.split(";") if f and not toolchain(f))


def signal_name(returncode: int) -> str:
    """Readable cause of a probe's death from its exit status."""
    if returncode < 0:
        try:
            return signal.Signals(-returncode).name
        except ValueError:
            return f"signal {-returncode}"
    code = returncode & 0xFFFFFFFF
    if code in _NTSTATUS:
        return f"{_NTSTATUS[code]} (0x{code:08X})"
    if code >= 0x80000000:  # an NTSTATUS (warning or error severity): known by its hex form
        return f"exit status 0x{code:08X}"
    return f"exit status {returncode}"


def _stderr_tail(path: Path, module: str) -> str:
    try:
        text = path.read_text(encoding=child_stderr_encoding(), errors="replace")
    except OSError:
        return ""
    marker = f"{_MARKER}{module}\n"
    if marker in text:
        text = text.rsplit(marker, 1)[1]
    lines = [line for line in text.splitlines() if line.strip()]
    start = max(0, len(lines) - _STDERR_TAIL)
    # The cause may sit above the last lines (3.14+'s C stack, a long log before the
    # crash): the fatal error line and the Python frames are kept wherever they are.
    return "\n".join(line for i, line in enumerate(lines) if i >= start or _is_crash_cause(line))


def _is_crash_cause(line: str) -> bool:
    text = line.strip()
    return text.startswith(("Fatal Python error", "Windows fatal exception", 'File "')) or (
        "Fatal Python error" in text
    )


def _started(path: Path) -> dict[str, Any] | None:
    """``{"startup": ...}`` when the interpreter died before the probe imported anything and
    said why (``Fatal Python error: ...``): it cannot start, so no module of it can import."""
    try:
        text = path.read_text(encoding=child_stderr_encoding(), errors="replace")
    except OSError:
        return None
    if _MARKER in text:
        return None
    fatal = fatal_lines(text)
    return {"startup": "; ".join(fatal), "stderr": text[-2000:]} if fatal else None


def _reader(stream: IO[str], lines: queue.Queue[str | None]) -> None:
    for line in stream:
        lines.put(line)
    lines.put(None)


def _kill(proc: subprocess.Popen[str]) -> None:
    try:
        if sys.platform != "win32":
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.kill()
    except OSError:
        pass
    proc.wait()


@dataclass(frozen=True)
class ProbeOptions:
    timeout: float
    isolate: str = "wheel"  # "wheel": one process for all modules; "module": one each
    keep_env: tuple[str, ...] = ()
    env: Env = ()  # the configured environment (checker.config.environment)
    pycache: Path | None = None  # bytecode kept here across runs (-X pycache_prefix)

    def command(self, python: Path, job: Path) -> list[str]:
        prefix = ["-X", f"pycache_prefix={self.pycache}"] if self.pycache else []
        return [str(python), "-I", *prefix, str(PROBE_SCRIPT), "run", str(job)]


def _run_batch(
    python: Path, modules: Sequence[str], sandbox: Sandbox, options: ProbeOptions
) -> list[dict[str, Any]]:
    """Import ``modules`` in one process; return results for a prefix of them (>= 1)."""
    job = sandbox.tmp / "probe-job.json"
    job.write_text(json.dumps({"modules": list(modules)}), encoding="utf-8")
    stderr_path = sandbox.root / "probe-stderr.log"
    results: list[dict[str, Any]] = []
    current: str | None = None
    with stderr_path.open("w", encoding="utf-8") as stderr:
        proc = subprocess.Popen(
            options.command(python, job),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr,
            cwd=sandbox.cwd,
            env=sandbox.environment(options.keep_env, options.env),
            text=True,
            encoding="utf-8",
            errors="replace",
            start_new_session=sys.platform != "win32",
        )
        assert proc.stdout is not None
        lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=_reader, args=(proc.stdout, lines), daemon=True).start()
        while True:
            try:
                line = lines.get(timeout=options.timeout)
            except queue.Empty:
                _kill(proc)
                name = current or modules[len(results)]
                results.append({"module": name, "ok": False, "timeout": options.timeout})
                return results
            if line is None:
                returncode = proc.wait()
                if not results and current is None and returncode != 0:
                    started = _started(stderr_path)
                    if started is not None:  # died before the probe's first import
                        results.append({"module": modules[0], "ok": False, **started})
                        return results
                if len(results) < len(modules):
                    name = current or modules[len(results)]
                    tail = _stderr_tail(stderr_path, name)
                    cause = signal_name(returncode)
                    results.append({"module": name, "ok": False, "crash": cause, "stderr": tail})
                return results
            try:
                event = json.loads(line)
            except ValueError:
                log.debug("ignoring probe output %r", line)
                continue
            if event.get("event") == "start":
                current = event["module"]
            elif event.get("event") == "result":
                results.append(event)
                current = None
            elif event.get("event") == "done":
                proc.wait()
                return results


def run_probe(
    python: Path,
    modules: Sequence[str],
    sandbox: Sandbox,
    options: ProbeOptions,
) -> list[dict[str, Any]]:
    """One raw result per module, in order, whatever the modules do to the process."""
    # Start from nothing: a sandbox left by an interrupted run must not leak into this one
    # (the probe promises an empty working directory and a fresh HOME).
    shutil.rmtree(sandbox.root, ignore_errors=True)
    sandbox.create()
    remaining = list(modules)
    results: list[dict[str, Any]] = []
    while remaining:
        batch = remaining if options.isolate == "wheel" else remaining[:1]
        done = _run_batch(python, batch, sandbox, options)
        results.extend(done)
        if done and "startup" in done[-1]:
            break  # the venv's interpreter cannot start: no module of it can import
        remaining = remaining[len(done) :]
        if done and ("crash" in done[-1] or "timeout" in done[-1]) and remaining:
            log.info(
                "probe restarted after %s; %d module(s) left", done[-1]["module"], len(remaining)
            )
    return results
