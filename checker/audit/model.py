"""The results of the static audit: what each binary links and what breaks a promise."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from checker.findings import Finding

logger = logging.getLogger(__name__)

STAGE = "static"

AUDIT_KINDS: dict[str, str] = {
    "missing-library": "a library the binary looks for inside the wheel is not there",
    "external-library": "a library neither bundled nor on the platform policy's allow-list",
    "symbol-version": "a versioned symbol (GLIBC_2.x, ...) newer than the tag or floor allows",
    "macos-version": "a Mach-O minimum macOS version newer than the wheel's macosx tag",
    "architecture": "a binary's architecture does not match the wheel's platform tag",
    "abi3-violation": "an abi3 extension uses Python symbols outside the limited API it claims",
    "exec-stack": "an ELF library asks for an executable stack: glibc 2.41+ refuses to load it",
    "isa-level": "an x86-64 binary needs a CPU level (v2, v3, v4) above the configured floor",
}
"""The finding kinds of the static audit (stage "static")."""

HOW_VALUES = (
    "bundled", "dependency", "system", "python", "driver", "accepted", "missing", "external",
)  # fmt: skip
UNRESOLVED = frozenset({"missing", "external"})


@dataclass(frozen=True)
class LinkedLibrary:
    """One library a binary needs and where the loader would find it.

    ``how``: "bundled" (``resolved`` is its installed path inside the wheel), "dependency"
    (``resolved`` is its installed path in ``provider``, a wheel the install brings along),
    "system" (``resolved`` is the allow-list entry it matched), "python" (libpython,
    python3.dll: provided by the interpreter), "driver" (a GPU driver library no wheel ships;
    ``resolved`` is the policy entry), "accepted" (a library the settings say the target
    machines have; ``resolved`` is the pattern), "missing" or "external" (``resolved`` is
    None; ``candidates`` are the installed paths the loader tries, relative to site-packages,
    for the resolution across the install, see checker.audit.across).
    """

    name: str
    resolved: str | None
    how: str
    provider: str | None = None
    candidates: tuple[str, ...] = ()
    note: str | None = None
    """How a "dependency" the loader does not find on its own gets loaded (not on the
    binary's RPATH: loaded when the providing wheel is imported first)."""

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name, "resolved": self.resolved, "how": self.how}
        if self.provider is not None:
            data["provider"] = self.provider
        if self.candidates:
            data["candidates"] = list(self.candidates)
        if self.note is not None:
            data["note"] = self.note
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LinkedLibrary:
        return cls(
            str(data["name"]),
            data["resolved"],
            str(data["how"]),
            data.get("provider"),
            tuple(map(str, data.get("candidates") or ())),
            data.get("note"),
        )


@dataclass(frozen=True)
class BinaryAudit:
    """The static facts of one ELF/Mach-O/PE member of the wheel."""

    file: str
    """The member name inside the zip."""
    module: str
    """The dotted module name of an extension module, else its installed path."""
    format: str
    architectures: tuple[str, ...]
    links: tuple[LinkedLibrary, ...]
    symbol_versions: dict[str, str]
    """The highest version referenced per prefix, e.g. {"GLIBC": "2.17"} (ELF only)."""
    min_os: str | None
    """Mach-O: the highest minimum macOS version of its slices; others None."""

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "module": self.module,
            "format": self.format,
            "architectures": list(self.architectures),
            "links": [link.to_json() for link in self.links],
            "symbol_versions": dict(sorted(self.symbol_versions.items())),
            "min_os": self.min_os,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BinaryAudit:
        return cls(
            file=str(data["file"]),
            module=str(data["module"]),
            format=str(data["format"]),
            architectures=tuple(map(str, data["architectures"])),
            links=tuple(LinkedLibrary.from_json(link) for link in data["links"]),
            symbol_versions={str(k): str(v) for k, v in data["symbol_versions"].items()},
            min_os=data["min_os"],
        )


@dataclass(frozen=True)
class AuditResult:
    """The static audit of one wheel."""

    findings: tuple[Finding, ...]
    binaries: tuple[BinaryAudit, ...]
    platform: str
    """The policies applied, e.g. "manylinux_2_17_x86_64" or "any" for a pure wheel."""

    def to_json(self) -> dict[str, Any]:
        return {
            "policy": self.platform,
            "binaries": [binary.to_json() for binary in self.binaries],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], findings: tuple[Finding, ...]) -> AuditResult:
        """The inverse of ``to_json`` (which leaves the findings to the caller)."""
        binaries = tuple(BinaryAudit.from_json(binary) for binary in data["binaries"])
        return cls(findings=findings, binaries=binaries, platform=str(data["policy"]))


def finding(kind: str, binary: BinaryAudit, error: str, severity: str = "failure") -> Finding:
    """A static-stage finding about ``binary`` (a "warning" fails only in strict mode)."""
    if kind not in AUDIT_KINDS:
        raise ValueError(f"unknown static audit kind {kind!r}")
    return Finding(STAGE, binary.module, kind, error, binary.file, severity)
