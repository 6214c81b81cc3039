"""Mach-O: resolve install names inside the wheel, check minimum macOS and architectures.

``@loader_path`` is the binary's folder as installed, ``@rpath/`` tries each LC_RPATH
(themselves expanded), ``@executable_path`` is the Python executable: never the wheel's.
A name resolved nowhere is ``missing-library`` when it is ``@``-relative (the binary
expects it bundled, as delocate lays it out in ``.dylibs/``) and ``external-library``
when it is an absolute path off the macOS system list (``/opt/homebrew/...``).
"""

from __future__ import annotations

import logging
import posixpath

from checker.audit.model import BinaryAudit, LinkedLibrary, finding
from checker.audit.policy import (
    MacTarget,
    format_version,
    macos_lists,
    match_lists,
    parse_version,
)
from checker.audit.scan import WheelBinary, WheelIndex
from checker.findings import Finding

logger = logging.getLogger(__name__)


def _expand(path: str, loader_dir: str, rpaths: tuple[str, ...]) -> list[str]:
    """Installed-path candidates for an install name, relative to site-packages ("../.."
    leads above it, into the venv's prefix); empty: not a path a wheel can fill."""
    if path.startswith("@rpath/"):
        rest = path[len("@rpath/") :]
        found: list[str] = []
        for rpath in rpaths:
            found.extend(_expand(posixpath.join(rpath, rest), loader_dir, ()))
        return found
    if path.startswith("@loader_path"):
        rest = path[len("@loader_path") :].lstrip("/")
        joined = posixpath.normpath(posixpath.join(loader_dir or ".", rest))
        if joined in ("..", ".") or joined.startswith("/"):
            return []
        return [joined]
    return []


def _resolve(
    name: str, loader_dir: str, rpaths: tuple[str, ...], index: WheelIndex
) -> LinkedLibrary:
    candidates = _expand(name, loader_dir, rpaths)
    for candidate in candidates:
        if candidate in index.files:
            return LinkedLibrary(name, candidate, "bundled")
    provided = match_lists(name, macos_lists())
    if provided is not None:
        return LinkedLibrary(name, *provided)
    how = "missing" if name.startswith("@") else "external"
    return LinkedLibrary(name, None, how, candidates=tuple(dict.fromkeys(candidates)))


def audit_macho(
    binary: WheelBinary, index: WheelIndex, targets: tuple[MacTarget, ...]
) -> tuple[BinaryAudit, list[Finding]]:
    """Audit one Mach-O binary against the wheel's macosx tags (none: report facts only)."""
    loader_dir = posixpath.dirname(binary.installed)
    links: dict[str, LinkedLibrary] = {}
    for slice_ in binary.info.slices:
        for name in slice_.needed:
            if name not in links:
                links[name] = _resolve(name, loader_dir, slice_.rpaths, index)
    versions = [
        (version, s.min_os)
        for s in binary.info.slices
        if s.min_os and (version := parse_version(s.min_os)) is not None
    ]
    audit = BinaryAudit(
        file=binary.member,
        module=binary.module,
        format="macho",
        architectures=binary.info.architectures,
        links=tuple(links.values()),
        symbol_versions={},
        min_os=max(versions)[1] if versions else None,
    )
    findings: list[Finding] = []
    who = binary.module
    for link in links.values():
        if link.how == "missing":
            findings.append(
                finding("missing-library", audit, f"{who} needs {link.name}: not in the wheel")
            )
        elif link.how == "external":
            error = f"{who} needs {link.name}: not bundled and not a macOS system library"
            findings.append(finding("external-library", audit, error))
    slices = {s.arch: s for s in binary.info.slices}
    for target in targets:
        absent = sorted(target.arches - slices.keys())
        if absent:
            has = ", ".join(binary.info.architectures)
            error = (
                f"{who} has {has} but the wheel's tag {target.name} promises {', '.join(absent)}"
            )
            findings.append(finding("architecture", audit, error))
        for arch in sorted(target.arches & slices.keys()):
            min_os = slices[arch].min_os
            needed = parse_version(min_os) if min_os else None
            allowed = target.required_version(arch)
            if needed is not None and needed > allowed:
                error = (
                    f"{who} ({arch}) needs macOS {min_os} but the wheel's tag {target.name} "
                    f"promises macOS {format_version(allowed)}"
                )
                findings.append(finding("macos-version", audit, error))
    return audit, list(dict.fromkeys(findings))
