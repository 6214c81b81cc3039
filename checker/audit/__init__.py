"""Static audit of a wheel, before installing it: what would break for users elsewhere.

Usage::

    contents, _ = open_wheel(path)
    result = audit_wheel(contents, min_glibc="2.28")
    result.findings   # Finding(stage="static", kind="missing-library", ...)
    result.to_json()  # {"policy": "manylinux_2_17_x86_64", "binaries": [...]}

Every decision comes from the wheel's own tags and bytes, never from the running machine,
so any runner audits Linux, macOS and Windows wheels alike. Binaries are found by their
magic number (each member is read once; non-binaries only up to the sniff bytes). A binary
of a format the wheel's platform tags do not claim (an .exe in a pure wheel, an ELF test
fixture in a Windows wheel) is described but raises no finding; pure wheels have none.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from checker.audit.abi3 import audit_abi3
from checker.audit.elf import audit_elf
from checker.audit.macho import audit_macho
from checker.audit.model import AUDIT_KINDS, AuditResult, BinaryAudit, LinkedLibrary
from checker.audit.pe import audit_pe
from checker.audit.policy import (
    WINDOWS_ARCHES,
    Version,
    abi3_label,
    abi3_version,
    format_version,
    loader_policy,
    mac_target,
    parse_version,
    strictest_linux,
)
from checker.audit.scan import build_index, iter_binaries
from checker.findings import Finding
from checker.wheel.contents import WheelContents

logger = logging.getLogger(__name__)

__all__ = ["AUDIT_KINDS", "AuditResult", "BinaryAudit", "LinkedLibrary", "audit_wheel"]


def _platforms(tags: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted({tag.split("-")[-1] for tag in tags}))


def _floor(min_glibc: str | None) -> Version | None:
    if not min_glibc:
        return None
    version = parse_version(min_glibc.strip())
    if version is None:
        raise ValueError(f"min_glibc must look like '2.28', not {min_glibc!r}")
    return version


def _strictest_mac(platforms: tuple[str, ...]) -> tuple[str, ...]:
    """Per architecture group, the lowest macOS version claimed (see checker.audit.policy)."""
    best: dict[frozenset[str], tuple[Version, str]] = {}
    for platform in platforms:
        target = mac_target(platform)
        if target is not None and (
            target.arches not in best or target.version < best[target.arches][0]
        ):
            best[target.arches] = (target.version, platform)
    return tuple(sorted(name for _, name in best.values()))


def audit_wheel(
    contents: WheelContents, *, min_glibc: str | None = None, x86_64_level: str = "baseline"
) -> AuditResult:
    """Audit every ELF/Mach-O/PE member of an open wheel against its own platform tags.

    ``min_glibc`` ("2.28") is the oldest glibc the project supports: GLIBC_ symbol
    versions above it are ``symbol-version`` findings whatever the tag allows.
    ``x86_64_level`` (baseline, v2, v3, v4) is the x86-64 level every target CPU has: a binary
    whose GNU property note needs more is an ``isa-level`` finding.
    Raises ValueError for a malformed ``min_glibc`` or an unknown ``x86_64_level``.
    """
    floor = _floor(min_glibc)
    levels = loader_policy().x86_64_levels
    if x86_64_level not in levels:
        raise ValueError(f"x86_64_level must be one of {', '.join(levels)}, not {x86_64_level!r}")
    platforms = _platforms(contents.tags)
    linux = strictest_linux(platforms)
    macs = tuple(t for t in map(mac_target, _strictest_mac(platforms)) if t is not None)
    windows = tuple(p for p in platforms if p in WINDOWS_ARCHES)
    abi3 = abi3_version(contents.tags)
    abi3_claim = abi3_label(contents.tags, abi3) if abi3 is not None else None
    claims = {"elf": bool(linux), "macho": bool(macs), "pe": bool(windows)}

    found = list(iter_binaries(contents))
    index = build_index(contents, found)
    audits: list[BinaryAudit] = []
    findings: list[Finding] = []
    for binary in found:
        if binary.info.format == "elf":
            audit, own = audit_elf(binary, index, linux, floor, levels[x86_64_level])
        elif binary.info.format == "macho":
            audit, own = audit_macho(binary, index, macs)
        else:
            audit, own = audit_pe(binary, index, windows)
        if abi3 is not None:
            own.extend(audit_abi3(binary, audit, abi3, abi3_claim))
        audits.append(audit)
        if claims[binary.info.format]:
            findings.extend(own)
        elif own:
            logger.debug(
                "%s: %s is not of the wheel's platform: findings ignored",
                contents.path.name,
                binary.member,
            )

    described = [p.name + ("" if p.enforce else " (no policy)") for p in linux]
    described += [t.name for t in macs] + list(windows)
    if abi3 is not None and audits:
        stable = (abi3_claim or "abi3").split("-", 1)[1].replace(".", "/")
        described.append(f"{stable} >= {format_version(abi3)}")
    if floor is not None and linux:
        described.append(f"glibc floor {format_version(floor)}")
    return AuditResult(
        findings=tuple(findings),
        binaries=tuple(sorted(audits, key=lambda a: a.file)),
        platform=", ".join(described) or "any",
    )
