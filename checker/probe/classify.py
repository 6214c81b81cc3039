"""Turn a raw probe result into a ModuleResult with a kind from the closed list."""

from __future__ import annotations

import logging
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from checker.config.interpreter import fatal_lines
from checker.findings import Finding, ModuleResult

log = logging.getLogger(__name__)

# Loader messages, by platform. Each pattern's first group is the thing to name.
_MISSING_LIBRARY = (
    re.compile(r"([^\s:]+): cannot open shared object file"),  # glibc
    re.compile(r"Error loading shared library ([^\s:]+)"),  # musl
    re.compile(r"Library not loaded: (\S+)"),  # macOS dyld
    re.compile(
        r"DLL load failed(?: while importing \w+)?: (The specified module could not be found)"
    ),
)
_SYMBOL_VERSION = re.compile(r"version `([^']+)' not found(?: \(required by ([^)]+)\))?")
_UNDEFINED_SYMBOL = (
    re.compile(r"undefined symbol: (\S+)"),  # glibc
    re.compile(r"Error relocating [^:]+: (\S+): symbol not found"),  # musl
    re.compile(r"Symbol not found: (\S+)"),  # macOS up to 11
    re.compile(r"symbol not found in flat namespace ['(]?([^')\s]+)"),  # macOS 12+
    re.compile(
        r"DLL load failed(?: while importing \w+)?: (The specified procedure could not be found)"
    ),
)
# The loader refused the file itself: another architecture, a bad image, a failed DLL
# initialisation, a rejected code signature. Each pattern's first group is its words.
_ARCHITECTURE = (
    re.compile(r"(%1 is not a valid Win32 application)"),  # Windows: another machine's PE
    re.compile(r"(incompatible architecture \(have '[^']+', need '[^']+'\))"),  # macOS dyld
    re.compile(r"(wrong ELF class: ELFCLASS\d+)"),  # glibc
)
_LOADER = (
    re.compile(r"(A dynamic link library \(DLL\) initialization routine failed)"),
    re.compile(r"(code signature[^\n]*(?:invalid|not valid|rejected)[^\n]*)"),  # macOS
    re.compile(r"(not valid for use in process[^\n]*)"),  # macOS library validation
)
_INIT_MISMATCH = re.compile(r"does not define module export function \((\w+)\)")
_CIRCULAR = "partially initialized module"


@dataclass(frozen=True)
class ImportContext:
    """What classification needs to know about the wheel beyond the raw result."""

    declared: Collection[str]  # import names that Requires-Dist provides (from the folder)
    requirement_names: Collection[str]  # canonical names of Requires-Dist on this target
    optional: Mapping[str, str] = field(default_factory=dict)  # import/dist name -> "extra 'x'"
    provided: Mapping[str, str] = field(default_factory=dict)  # import name -> folder project
    unsatisfied: Mapping[str, Sequence[str]] = field(default_factory=dict)
    """Extra -> its requirements that no wheel of the folder satisfies ("cffi~=1.17")."""


def _extras_text(unsatisfied: Mapping[str, Sequence[str]]) -> str:
    """``the extra 'cffi' (cffi~=1.17) is`` / ``the extras 'a' (x), 'b' (y, z) are``."""
    parts = [f"{extra!r} ({', '.join(reqs)})" for extra, reqs in sorted(unsatisfied.items())]
    if len(parts) == 1:
        return f"the extra {parts[0]} is"
    return f"the extras {', '.join(parts)} are"


_SITE_PACKAGES = re.compile(r"[^\s'\"(]*site-packages[\\/]")


def _short(text: str) -> str:
    """Paths inside the venv's site-packages, relative to it (they differ per machine)."""
    return _SITE_PACKAGES.sub("", text)


def last_frame(frames: list[list[Any]], ctx: ImportContext) -> str | None:
    """The last traceback frame that is neither importlib's machinery nor the probe's own."""
    for filename, lineno, func, _line in reversed(frames):
        if _is_machinery(str(filename)):
            continue
        return f"{_short(str(filename))}:{lineno} in {func}"
    return None


def _is_machinery(filename: str) -> bool:
    """importlib's frames and the probe script's: the same for every import, never the cause."""
    path = filename.replace("\\", "/")
    folder, _, name = path.rpartition("/")
    in_importlib = folder.endswith("/importlib") or "/importlib/" in path  # not importlib_metadata
    return filename.startswith("<frozen") or in_importlib or name == "_probe.py"


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def _quoted(line: str) -> str:
    """The file name of a faulthandler line ``File "name", line 3 in func``."""
    parts = line.split('"')
    return parts[1] if len(parts) > 2 else line


def _kind_of_import_error(message: str) -> tuple[str, str | None]:
    match = _SYMBOL_VERSION.search(message)
    if match:
        return "symbol-version", match.group(1)
    # Before "Library not loaded": dyld says so too when the library is another machine's.
    for kind, patterns in (("architecture", _ARCHITECTURE), ("loader", _LOADER)):
        for pattern in patterns:
            match = pattern.search(message)
            if match:
                return kind, match.group(1)
    for pattern in _MISSING_LIBRARY:
        match = pattern.search(message)
        if match:
            return "missing-library", match.group(1)
    for pattern in _UNDEFINED_SYMBOL:
        match = pattern.search(message)
        if match:
            return "undefined-symbol", match.group(1)
    match = _INIT_MISMATCH.search(message)
    if match:
        return "init-mismatch", match.group(1)
    if _CIRCULAR in message:
        return "circular-import", None
    return "exception", None


def _missing_module_error(raw: dict[str, Any], ctx: ImportContext) -> tuple[str, bool]:
    """The message, and whether the module is an optional dependency the folder lacks."""
    name = raw.get("name")
    if not name:  # raised by hand without a name: keep the package's own words
        return f"{_first_line(str(raw.get('message') or ''))} (module name unknown)", False
    top = str(name).split(".", 1)[0]
    dist = top.lower().replace("_", "-")
    optional = False
    if top in ctx.declared or dist in ctx.requirement_names:
        why = "declared in Requires-Dist but not importable"
    elif top in ctx.optional or dist in ctx.optional:
        extra = ctx.optional.get(top) or ctx.optional[dist]
        unmet = {e: reqs for e, reqs in ctx.unsatisfied.items() if repr(e) in extra}
        if unmet:  # say which requirement, as the folder may have another version of it
            why = f"declared in Requires-Dist only for {_extras_text(unmet)} not satisfiable here"
        else:
            why = (
                f"declared in Requires-Dist only for {extra}, "
                "whose requirements the packages folder lacks"
            )
        optional = True
    elif top in ctx.provided:
        why = f"not declared in Requires-Dist; the packages folder has it in {ctx.provided[top]!r}"
    elif ctx.unsatisfied:  # an extra the folder cannot satisfy may be what would provide it
        message = (
            f"No module named {name!r}: no wheel in the folder provides {top!r}; "
            f"{_extras_text(ctx.unsatisfied)} not satisfiable here"
        )
        return message, True
    else:  # nothing the wheel declares provides it: every requirement is in the folder
        why = "not declared in Requires-Dist"
    return f"No module named {name!r} ({why})", optional


def classify(raw: dict[str, Any], file: str | None, ctx: ImportContext) -> ModuleResult:
    """A ModuleResult for one raw probe result (see _probe.py and runner.py)."""
    module = str(raw["module"])
    duration = float(raw.get("duration") or 0.0)
    if raw.get("ok"):
        return ModuleResult(module, file, "ok", note=raw.get("note"), duration=duration)
    if "timeout" in raw:
        error = f"import did not finish within {raw['timeout']:g} s; the probe was killed"
        return ModuleResult(module, file, "failed", "timeout", error, duration=duration)
    if "crash" in raw:
        tail = str(raw.get("stderr") or "")
        # "Fatal Python error: ..." and, from faulthandler on Windows, "Windows fatal
        # exception: access violation": the first such line says why.
        fatal = next(iter(fatal_lines(tail, limit=1)), "")
        frame = next(
            (
                ln.strip()
                for ln in tail.splitlines()
                if ln.strip().startswith("File ") and not _is_machinery(_quoted(ln))
            ),
            "",
        )
        detail = _short("; ".join(part for part in (fatal, frame) if part))
        error = f"the interpreter died ({raw['crash']}) while importing {module}"
        error += f": {detail}" if detail else ""
        return ModuleResult(module, file, "failed", "crash", error, duration=duration)
    exc_type = str(raw.get("exc_type") or "Exception")
    message = str(raw.get("message") or "")
    where = last_frame(list(raw.get("frames") or []), ctx)
    optional = False
    if raw.get("circular"):
        kind = "circular-import"
    elif exc_type == "ModuleNotFoundError":
        kind = "missing-python-module"
        message, optional = _missing_module_error(raw, ctx)
    elif exc_type == "ImportError":
        kind, _subject = _kind_of_import_error(message)
    else:
        kind = "exception"
    error = f"{exc_type}: {_short(_first_line(message)) or '(no message)'}"
    if raw.get("stage") == "parent":
        error = f"importing parent package {raw.get('parent')!r} raised {error}"
    if where:
        error += f" (at {where})"
    cause = raw.get("cause")
    note = _short(str(cause)) if cause else None
    if optional:  # needs an extra the folder cannot install: not a defect of what ships
        return ModuleResult(module, file, "skipped", "optional-dependency", error, note, duration)
    return ModuleResult(module, file, "failed", kind, error, note=note, duration=duration)


def same_failure(raw: Mapping[str, Any], recorded: ModuleResult) -> bool:
    """Whether ``recorded`` (a module's result from another process, e.g. its wheel's probe)
    is the failure the raw result ``raw`` shows: the same kind and the same error, compared
    without what depends on the process (the frames, the interpreter's last words)."""
    if recorded.status != "failed" or raw.get("ok"):
        return False
    bare = classify({**raw, "frames": [], "stderr": ""}, None, ImportContext(set(), set()))
    error = bare.error or ""
    return bare.kind == recorded.kind and bool(error) and (recorded.error or "").startswith(error)


def startup_failure(raws: Sequence[Mapping[str, Any]], python: object) -> Finding | None:
    """One ``interpreter`` finding when the probe's interpreter could not start (see
    runner._started): its fatal error line(s), never a crash per module."""
    if not raws or "startup" not in raws[0]:
        return None
    error = f"the venv's interpreter {str(python)!r} cannot start: {raws[0]['startup']}"
    return Finding("install", "install", "interpreter", error)
