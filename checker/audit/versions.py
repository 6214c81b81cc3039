"""ELF symbol versions against the wheel's promise and the users' glibc floor.

The highest ``GLIBC_``/``GLIBCXX_``/``CXXABI_``/``GCC_`` version a binary references from a
system library must fit the manylinux/musllinux tag it claims. ``NATIVE_CHECK_MIN_GLIBC``
(the oldest glibc the users run) changes the verdict in two ways:

- a ``GLIBC_`` version above the floor is a failure whatever the tag allows;
- a version above the tag's promise but within what the floor's own policy allows
  (``manylinux_<floor>``: manylinux_2_28 allows GLIBCXX up to 3.4.24) is a warning naming both:
  the tag is wrong for the older systems it claims, harmless on every system the users run
  (cupy 14.2.0, tagged manylinux2014, needs GLIBCXX_3.4.21: true for CentOS 7, not for a
  Rocky 8 floor).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from checker.audit.model import LinkedLibrary
from checker.audit.policy import (
    LinuxPolicy,
    Version,
    format_version,
    linux_policy,
    split_symbol_version,
)
from checker.audit.scan import WheelBinary

log = logging.getLogger(__name__)

_SHOWN = 4


@dataclass
class _Over:
    """The versions of one prefix over a limit: version -> symbols, libraries, reasons."""

    symbols: dict[Version, list[str]] = field(default_factory=dict)
    libraries: set[str] = field(default_factory=set)
    reasons: list[str] = field(default_factory=list)

    def add(self, version: Version, symbol: str, library: str, reasons: list[str]) -> None:
        self.symbols.setdefault(version, []).append(symbol)
        self.libraries.add(library)
        self.reasons.extend(r for r in reasons if r not in self.reasons)

    def text(self, module: str, prefix: str, joiner: str) -> str:
        parts = []
        for version in sorted(self.symbols, reverse=True)[:_SHOWN]:
            names = sorted(set(self.symbols[version]))
            more = f", +{len(names) - 1} more" if len(names) > 1 else ""
            parts.append(f"{prefix}_{format_version(version)} ({names[0]}{more})")
        if len(self.symbols) > _SHOWN:
            parts.append(f"+{len(self.symbols) - _SHOWN} older versions")
        source = ", ".join(sorted(self.libraries))
        return f"{module} needs {', '.join(parts)} from {source}{joiner}"


@dataclass(frozen=True)
class VersionCheck:
    versions: dict[str, str]  # the highest version referenced per prefix
    errors: list[str]  # failures
    warnings: list[str]  # above the tag's promise, within the floor's


def floor_policy(min_glibc: Version | None, policy: LinuxPolicy | None) -> LinuxPolicy | None:
    """The manylinux policy of the glibc floor on ``policy``'s architecture (None: no floor,
    no glibc tag, or a floor no newer than the tag: nothing it could excuse)."""
    if min_glibc is None or policy is None or policy.libc != "glibc":
        return None
    if len(min_glibc) < 2 or min_glibc[:2] <= policy.level:
        return None
    return linux_policy(f"manylinux_{min_glibc[0]}_{min_glibc[1]}_{policy.arch}")


def _limit_text(policy: LinuxPolicy, prefix: str) -> str:
    limit = policy.symbol_versions.get(prefix)
    return f"up to {prefix}_{format_version(limit)}" if limit else f"no {prefix}_ version"


def check_versions(
    binary: WheelBinary,
    links: list[LinkedLibrary],
    policy: LinuxPolicy | None,
    min_glibc: Version | None,
) -> VersionCheck:
    """Highest version per prefix, one failure per prefix with versions over a hard limit,
    one warning per prefix with versions only over the tag's promise but within the floor.

    ``policy`` is the claimed, enforced policy (None: only the glibc floor applies).
    """
    how = {link.name: link.how for link in links}
    floor = floor_policy(min_glibc, policy)
    highest: dict[str, Version] = {}
    failing: dict[str, _Over] = {}
    warning: dict[str, _Over] = {}
    for symbol in binary.info.slices[0].imported_symbols:
        parsed = split_symbol_version(symbol.version or "")
        library_how = how.get(symbol.library or "", "system")
        if parsed is None or library_how == "bundled":
            continue
        prefix, version = parsed
        if version > highest.get(prefix, ()):
            highest[prefix] = version
        tag_broken = False
        hard: list[str] = []
        if policy is not None and library_how == "system" and prefix in policy.symbol_versions:
            limit = policy.symbol_versions[prefix]
            if limit is None or version > limit:
                tag_broken = True
                hard.append(f"{policy.name} allows {_limit_text(policy, prefix)}")
        is_glibc = policy is None or policy.libc != "musl"
        if prefix == "GLIBC" and min_glibc is not None and is_glibc and version > min_glibc:
            hard.append(f"the glibc floor is {format_version(min_glibc)}")
            tag_broken = False  # above the floor: a failure, whatever the tag says
        if not hard:
            continue
        floor_limit = floor.symbol_versions.get(prefix) if floor is not None else None
        library = symbol.library or "?"
        if tag_broken and len(hard) == 1 and floor_limit is not None and version <= floor_limit:
            warning.setdefault(prefix, _Over()).add(version, symbol.name, library, hard)
        else:
            failing.setdefault(prefix, _Over()).add(version, symbol.name, library, hard)
    module = binary.module
    errors = [
        failing[p].text(module, p, " but " + " and ".join(failing[p].reasons))
        for p in sorted(failing)
    ]
    warnings = []
    if floor is not None and policy is not None:
        for prefix in sorted(warning):
            promise = f"{policy.name} promises ({_limit_text(policy, prefix)})"
            within = (
                f"within the glibc floor {format_version(min_glibc or ())} "
                f"({floor.name} allows {_limit_text(floor, prefix)})"
            )
            joiner = f": above what {promise}, {within}: true for older systems the tag claims"
            warnings.append(warning[prefix].text(module, prefix, joiner))
    versions = {p: format_version(v) for p, v in sorted(highest.items())}
    return VersionCheck(versions, errors, warnings)
