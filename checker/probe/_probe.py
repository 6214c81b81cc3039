"""The import probe: runs on the *target* interpreter (any CPython/PyPy 3.8+), stdlib only.

Never import anything from ``checker`` here: this file is executed as a script by the
wheel's venv interpreter, in isolated mode (``-I``), with the checker's folder not on
``sys.path``.

Two modes:

``_probe.py info``
    print one JSON object describing the interpreter (version, extension suffixes, marker
    environment, platform) and exit.

``_probe.py run JOB.json``
    import each module listed in the job, in order. The protocol goes to a private copy of
    the original stdout, one JSON object per line::

        {"event": "start", "module": "pkg.mod"}
        {"event": "result", "module": "pkg.mod", "ok": true, ...}
        {"event": "done"}

    The module's own prints (Python ``print`` and C ``printf``) are redirected to stderr so
    they can never corrupt the protocol. faulthandler writes the Python stack of a crash to
    stderr, which the runner keeps for the report (without the C stack that 3.14+ adds).
"""

from __future__ import annotations

import faulthandler
import importlib
import importlib.machinery
import json
import os
import platform
import sys
import sysconfig
import time
import traceback
import warnings
from types import TracebackType
from typing import Any, Dict, List, Optional

CIRCULAR_MARKER = "partially initialized module"
# What a free-threaded CPython (3.13t+) warns when a module without Py_mod_gil makes it turn
# the GIL on for the whole process (Python/import.c, _PyImport_CheckGILForModule).
GIL_MARKER = "The global interpreter lock (GIL) has been enabled to load module"
MAX_FRAMES = 12


def interpreter_info() -> Dict[str, Any]:
    impl = sys.implementation
    iver = impl.version
    implementation_version = "{0.major}.{0.minor}.{0.micro}".format(iver)
    if iver.releaselevel != "final":
        implementation_version += iver.releaselevel[0] + str(iver.serial)
    markers = {
        "implementation_name": impl.name,
        "implementation_version": implementation_version,
        "os_name": os.name,
        "platform_machine": platform.machine(),
        "platform_release": platform.release(),
        "platform_system": platform.system(),
        "platform_version": platform.version(),
        "python_full_version": platform.python_version(),
        "platform_python_implementation": platform.python_implementation(),
        "python_version": ".".join(platform.python_version_tuple()[:2]),
        "sys_platform": sys.platform,
    }
    libc = platform.libc_ver()
    return {
        "executable": sys.executable,
        "base_executable": getattr(sys, "_base_executable", sys.executable),
        "prefix": sys.prefix,
        "base_prefix": getattr(sys, "base_prefix", sys.prefix),
        "version": platform.python_version(),
        "version_info": list(sys.version_info[:3]),
        "implementation": impl.name,
        "cache_tag": impl.cache_tag,
        "abiflags": getattr(sys, "abiflags", ""),
        "soabi": sysconfig.get_config_var("SOABI"),
        "ext_suffixes": list(importlib.machinery.EXTENSION_SUFFIXES),
        "sysconfig_platform": sysconfig.get_platform(),
        "sys_platform": sys.platform,
        "machine": platform.machine(),
        "pointer_bits": 8 * __import__("struct").calcsize("P"),
        "libc": [libc[0], libc[1]],
        "mac_ver": platform.mac_ver()[0],
        "py_gil_disabled": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
        "markers": markers,
    }


def _frames(tb: Optional[TracebackType]) -> List[List[Any]]:
    frames = []
    for frame in traceback.extract_tb(tb)[-MAX_FRAMES:]:
        frames.append([frame.filename, frame.lineno, frame.name, frame.line or ""])
    return frames


def _text(exc: BaseException) -> str:
    """str(exc), even for an exception whose __str__ itself raises."""
    try:
        return str(exc)
    except BaseException:  # noqa: BLE001
        return "<{} whose message cannot be shown>".format(type(exc).__name__)


def _failure(exc: BaseException, stage: str, parent: Optional[str] = None) -> Dict[str, Any]:
    info = {
        "ok": False,
        "stage": stage,
        "parent": parent,
        "exc_type": type(exc).__name__,
        "exc_module": type(exc).__module__,
        "message": _text(exc),
        "name": getattr(exc, "name", None) if isinstance(exc, ImportError) else None,
        "frames": _frames(exc.__traceback__),
    }
    cause = exc.__cause__
    if cause is None and not exc.__suppress_context__:
        cause = exc.__context__
    if cause is not None:
        info["cause"] = "{}: {}".format(type(cause).__name__, _text(cause))
    return info


def _partial_module(message: str) -> Optional[str]:
    """The module named in "... partially initialized module 'x' ...", if any."""
    if CIRCULAR_MARKER not in message:
        return None
    rest = message.split(CIRCULAR_MARKER, 1)[1].strip()
    if rest[:1] in ("'", '"'):
        quote = rest[0]
        end = rest.find(quote, 1)
        if end > 0:
            return rest[1:end]
    return None


def probe_module(name: str) -> Dict[str, Any]:
    """Import ``name`` (its parents first, so a failure is attributed to the right file)."""
    parts = name.split(".")
    for i in range(1, len(parts)):
        parent = ".".join(parts[:i])
        if parent in sys.modules:
            continue
        try:
            importlib.import_module(parent)
        except BaseException as exc:  # noqa: BLE001 - the probe reports everything
            return _failure(exc, "parent", parent)
    try:
        module = importlib.import_module(name)
    except BaseException as exc:  # noqa: BLE001
        first = _failure(exc, "module")
        if _partial_module(_text(exc)) is None:
            return first
        failed = exc
    else:
        return {"ok": True, "file": getattr(module, "__file__", None), "note": None}
    # Retried outside the except clause: a retry's error must not get the first one as
    # its implicit __context__ (reported as a "cause" that only repeats the error).
    return _retry_circular(name, failed, first)


def _module_for_file(filename: str) -> Optional[str]:
    """The importable name of a source file on sys.path, or None."""
    best = None
    for entry in sys.path:
        if not entry or not filename.startswith(os.path.join(entry, "")):
            continue
        rel = filename[len(os.path.join(entry, "")) :]
        if not rel.endswith(".py"):
            continue
        parts = rel[: -len(".py")].replace(os.sep, "/").split("/")
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if parts and (best is None or len(parts) < len(best)):
            best = parts
    return ".".join(best) if best else None


def _cycle_starters(name: str, exc: BaseException) -> List[str]:
    """Modules to import first: the partial module, then the traceback's files, innermost first."""
    starters = []
    partial = _partial_module(_text(exc))
    if partial and partial != name:
        starters.append(partial)
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        candidate = _module_for_file(frame.filename)
        if candidate and candidate != name and candidate not in starters:
            starters.append(candidate)
    return starters


def _retry_circular(name: str, exc: BaseException, first: Dict[str, Any]) -> Dict[str, Any]:
    """A cycle that appears only because ``name`` was imported first: import a starter first."""
    last = first
    for starter in _cycle_starters(name, exc):
        try:
            importlib.import_module(starter)
            module = importlib.import_module(name)
        except BaseException as retry_exc:  # noqa: BLE001
            last = _failure(retry_exc, "module")
            continue
        note = "circular import when imported first; loads after importing {!r}".format(starter)
        return {"ok": True, "file": getattr(module, "__file__", None), "note": note}
    last["circular"] = True
    return last


def _gil_enabled() -> Optional[bool]:
    """Whether the GIL is on (None: an interpreter without sys._is_gil_enabled, < 3.13)."""
    check = getattr(sys, "_is_gil_enabled", None)
    return None if check is None else bool(check())


def probe_watching_gil(name: str) -> Dict[str, Any]:
    """probe_module, plus ``gil``: the warning text when this import turned the GIL on."""
    before = _gil_enabled()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RuntimeWarning)
        result = probe_module(name)
    gil_warning = None
    for item in caught:
        text = str(item.message)
        if gil_warning is None and GIL_MARKER in text:
            gil_warning = text
        else:  # the module's other warnings go to stderr as they would have
            warnings.showwarning(item.message, item.category, item.filename, item.lineno)
    if before is False and _gil_enabled():
        result["gil"] = gil_warning or "the GIL was enabled while importing {}".format(name)
    elif gil_warning is not None:
        result["gil"] = gil_warning
    return result


def enable_faulthandler() -> None:
    """The fatal error line and the Python frames of a crash, on stderr. Since 3.14
    faulthandler also dumps about 25 lines of C stack by default: left out (``c_stack``)."""
    options = {"file": sys.stderr, "all_threads": False}  # type: Dict[str, Any]
    if sys.version_info >= (3, 14):
        options["c_stack"] = False
    faulthandler.enable(**options)


def run(job_path: str) -> None:
    with open(job_path, encoding="utf-8") as handle:
        job = json.load(handle)
    protocol = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    enable_faulthandler()

    def emit(obj: Dict[str, Any]) -> None:
        protocol.write(json.dumps(obj) + "\n")
        protocol.flush()

    for name in job["modules"]:
        emit({"event": "start", "module": name})
        sys.stderr.write("\n[native-check] importing {}\n".format(name))
        sys.stderr.flush()
        started = time.perf_counter()
        result = probe_watching_gil(name)
        result["event"] = "result"
        result["module"] = name
        result["duration"] = round(time.perf_counter() - started, 6)
        emit(result)
    emit({"event": "done"})
    protocol.close()
    sys.stderr.flush()
    # Skip interpreter finalization: a module's atexit hooks or threads must not turn a
    # finished probe into a hang; every result has already been written.
    os._exit(0)


def main(argv: List[str]) -> int:
    if argv[:1] == ["info"]:
        sys.stdout.write(json.dumps(interpreter_info()) + "\n")
        return 0
    if len(argv) == 2 and argv[0] == "run":
        run(argv[1])
        return 0
    sys.stderr.write("usage: _probe.py info | run JOB.json\n")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
