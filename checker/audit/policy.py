"""Platform policies (data files under checker/data/policy/) and the wheel tags that pick them.

A wheel claims every one of its tags: an installer takes it for a machine that matches any
single tag. So a wheel tagged both ``manylinux_2_17_x86_64`` and ``manylinux_2_28_x86_64``
reaches glibc 2.17 systems and must work there: the audit applies the OLDEST (most
restrictive) claimed policy, as auditwheel does when it names the one policy a wheel meets.
The same holds for macOS (the lowest claimed macOS version, every claimed architecture) and
abi3 (the lowest claimed ``cp3X``).
"""

from __future__ import annotations

import fnmatch
import functools
import json
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "policy"

Version = tuple[int, ...]

_MANYLINUX = re.compile(r"^manylinux_(\d+)_(\d+)_(.+)$")
_LEGACY = re.compile(r"^(manylinux1|manylinux2010|manylinux2014)_(.+)$")
_MUSLLINUX = re.compile(r"^musllinux_(\d+)_(\d+)_(.+)$")
_LINUX = re.compile(r"^linux_(.+)$")
_MACOS = re.compile(r"^macosx_(\d+)_(\d+)_(.+)$")
_VERSIONED = re.compile(r"^([A-Za-z][A-Za-z0-9_]*?)_(\d+(?:\.\d+)*)$")

LINUX_PYTHON = ("libpython3*.so*",)
"""libpython: provided by the interpreter that imports the extension."""
LINUX_LOADERS = ("ld-linux*.so.*", "ld-musl-*.so.1", "ld64.so.*", "libc.musl-*.so.1")
"""The dynamic loaders (and musl's libc, which is its loader: Alpine links
``libc.musl-x86_64.so.1`` to ``/lib/ld-musl-x86_64.so.1``): every system of the libc the
wheel names has the one its binaries need."""

MAC_ARCHES: dict[str, frozenset[str]] = {
    "arm64": frozenset({"arm64"}),
    "fat": frozenset({"i386", "ppc"}),
    "fat3": frozenset({"i386", "ppc", "x86_64"}),
    "fat64": frozenset({"ppc64", "x86_64"}),
    "i386": frozenset({"i386"}),
    "intel": frozenset({"i386", "x86_64"}),
    "ppc": frozenset({"ppc"}),
    "ppc64": frozenset({"ppc64"}),
    "universal": frozenset({"i386", "ppc", "ppc64", "x86_64"}),
    "universal2": frozenset({"arm64", "x86_64"}),
    "x86_64": frozenset({"x86_64"}),
}
"""The Mach-O slices each macOS wheel architecture promises (packaging's binary formats)."""

WINDOWS_ARCHES = {"win32": "x86", "win_amd64": "x86_64", "win_arm64": "arm64", "win_ia64": "ia64"}
"""The PE machine each Windows platform tag promises."""


def parse_version(text: str) -> Version | None:
    """``"2.17"`` -> (2, 17); None when it is not dotted numbers."""
    parts = text.split(".")
    if not all(p.isdigit() for p in parts):
        return None
    return tuple(int(p) for p in parts)


def format_version(version: Version) -> str:
    return ".".join(str(p) for p in version)


def split_symbol_version(name: str) -> tuple[str, Version] | None:
    """``"GLIBC_2.17"`` -> ("GLIBC", (2, 17)); None for "GLIBC_PRIVATE" and the like."""
    match = _VERSIONED.match(name)
    if match is None:
        return None
    version = parse_version(match.group(2))
    return None if version is None else (match.group(1), version)


@functools.cache
def load(name: str) -> Any:
    """A JSON data file of checker/data/policy/ (parsed once)."""
    with (DATA_DIR / name).open(encoding="utf-8") as handle:
        return json.load(handle)


@dataclass(frozen=True)
class NameList:
    """Library names or fnmatch patterns (case-folded when ``fold``)."""

    patterns: tuple[str, ...]
    fold: bool = False

    def match(self, name: str) -> str | None:
        """The first entry ``name`` matches, else None."""
        key = name.lower() if self.fold else name
        for pattern in self.patterns:
            if fnmatch.fnmatchcase(key, pattern):
                return pattern
        return None


@functools.cache
def match_lists(name: str, lists: tuple[NameList, NameList]) -> tuple[str, str] | None:
    """(resolved, how) for a library the platform provides: its Python library or a system one."""
    system, python = lists
    if python.match(name) is not None:
        return name, "python"
    matched = system.match(name)
    return (matched, "system") if matched is not None else None


def macos_lists() -> tuple[NameList, NameList]:
    """(system libraries, python) of macos-policy.json."""
    data = load("macos-policy.json")
    return NameList(tuple(data["system"])), NameList(tuple(data["python"]))


@functools.cache
def windows_lists() -> tuple[NameList, NameList]:
    """(system DLLs, python DLLs) of windows-policy.json; matched case-insensitively."""
    data = load("windows-policy.json")
    return NameList(tuple(data["system"]), fold=True), NameList(tuple(data["python"]), True)


@functools.cache
def driver_libraries(system: str) -> NameList:
    """GPU driver libraries of ``system`` ("linux", "windows", "macos"): driver-libraries.json.

    The driver installs them on the target machine; no wheel ships them by design."""
    data: dict[str, list[str]] = load("driver-libraries.json")
    return NameList(tuple(data.get(system, ())), fold=system == "windows")


@dataclass(frozen=True)
class LinuxPolicy:
    """What a Linux platform tag promises about a binary."""

    name: str
    """The policy as claimed for this arch, e.g. "manylinux_2_17_x86_64"."""
    libc: str
    """"glibc", "musl" or "unknown" (plain linux_* tags)."""
    arch: str
    enforce: bool
    """False for linux_* tags: no promise, the allow-list only serves to resolve names."""
    allowed: frozenset[str]
    symbol_versions: dict[str, Version | None]
    """Highest allowed version per prefix; None: the prefix is allowed in no version."""
    level: Version
    """glibc or musl version of the tag; sorts policies from the most restrictive."""

    def allows(self, library: str) -> str | None:
        """The allow-list entry ``library`` matches, else None."""
        if library in self.allowed:
            return library
        for pattern in LINUX_LOADERS:
            if fnmatch.fnmatchcase(library, pattern):
                return pattern
        return None


def _policy_for(
    family: str, level: Version, arch: str
) -> tuple[dict[str, Any] | None, dict[str, Version | None]]:
    """The newest published policy at or below ``level`` and its limits for ``arch``."""
    file = "manylinux-policy.json" if family == "manylinux" else "musllinux-policy.json"
    best: dict[str, Any] | None = None
    best_level: Version = ()
    for entry in load(file):
        match = re.match(r"^\w+linux_(\d+)_(\d+)$", entry["name"])
        if match is None:
            continue
        entry_level = (int(match.group(1)), int(match.group(2)))
        if best_level < entry_level <= level:
            best, best_level = entry, entry_level
    limits: dict[str, Version | None] = {}
    if best is not None:
        for prefix, versions in best["symbol_versions"].get(arch, {}).items():
            parsed = [v for v in map(parse_version, versions) if v is not None]
            limits[prefix] = max(parsed) if parsed else None
    if family == "manylinux":  # the tag's own promise, also between published policies
        published = limits.get("GLIBC")
        limits["GLIBC"] = max(level, published) if published else level
    return best, limits


def linux_policy(platform: str) -> LinuxPolicy | None:
    """The policy of one Linux platform tag; None for a tag of another OS."""
    family, arch = "", ""
    level: Version = ()
    if match := _MANYLINUX.match(platform):
        family, level, arch = "manylinux", (int(match[1]), int(match[2])), match[3]
    elif match := _LEGACY.match(platform):
        legacy = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}
        family, level, arch = "manylinux", legacy[match[1]], match[2]
    elif match := _MUSLLINUX.match(platform):
        family, level, arch = "musllinux", (int(match[1]), int(match[2])), match[3]
    elif match := _LINUX.match(platform):
        newest = load("manylinux-policy.json")[-1]["lib_whitelist"]
        musl = load("musllinux-policy.json")[-1]["lib_whitelist"]
        allowed = frozenset(newest) | frozenset(musl)
        return LinuxPolicy(platform, "unknown", match[1], False, allowed, {}, (99, 99))
    else:
        return None
    entry, limits = _policy_for(family, level, arch)
    allowed = frozenset(entry["lib_whitelist"]) if entry is not None else frozenset()
    name = f"{family}_{level[0]}_{level[1]}_{arch}"
    libc = "glibc" if family == "manylinux" else "musl"
    return LinuxPolicy(name, libc, arch, True, allowed, limits, level)


def strictest_linux(platforms: Iterable[str]) -> tuple[LinuxPolicy, ...]:
    """Per (libc, arch), the most restrictive policy the wheel claims (see module doc).

    A plain ``linux_*`` tag counts only when no manylinux/musllinux tag is claimed.
    """
    chosen: dict[tuple[str, str], LinuxPolicy] = {}
    for platform in sorted(set(platforms)):
        policy = linux_policy(platform)
        if policy is None:
            continue
        key = (policy.libc, policy.arch)
        if key not in chosen or policy.level < chosen[key].level:
            chosen[key] = policy
    enforced = [p for p in chosen.values() if p.enforce]
    return tuple(enforced or chosen.values())


@dataclass(frozen=True)
class MacTarget:
    """What a macosx_X_Y_arch tag promises."""

    name: str
    version: Version
    arches: frozenset[str]

    def required_version(self, arch: str) -> Version:
        """The newest minimum macOS a slice may have: arm64 only exists from macOS 11."""
        return max(self.version, (11, 0)) if arch in ("arm64", "arm64e") else self.version


def mac_target(platform: str) -> MacTarget | None:
    match = _MACOS.match(platform)
    if match is None:
        return None
    arches = MAC_ARCHES.get(match[3], frozenset({match[3]}))
    return MacTarget(platform, (int(match[1]), int(match[2])), arches)


# The stable ABIs a wheel tag may claim: abi3 (PEP 384) and abi3t, the stable ABI of
# free-threaded builds (PEP 803, 3.15+). Both are judged against one list (stable-abi.json):
# CPython 3.15 defines abi3t 3.15 as compatible with abi3 3.15.
STABLE_ABIS = ("abi3", "abi3t")


def abi3_version(tags: Iterable[str]) -> Version | None:
    """The lowest cp3X of the wheel's ``cp3X-abi3-*`` and ``cp3X-abi3t-*`` tags, else None."""
    found: list[Version] = []
    for tag in tags:
        python, _, rest = tag.partition("-")
        abi = rest.partition("-")[0]
        if abi in STABLE_ABIS and (match := re.match(r"^cp(\d)(\d+)$", python)):
            found.append((int(match[1]), int(match[2])))
    return min(found) if found else None


def abi3_label(tags: Iterable[str], version: Version) -> str:
    """How the wheel names its stable ABI claim: ``cp315-abi3``, ``cp315-abi3.abi3t``, ..."""
    abis = {tag.split("-")[1] for tag in tags if tag.count("-") == 2}
    claimed = ".".join(abi for abi in STABLE_ABIS if abi in abis) or "abi3"
    return f"cp{version[0]}{version[1]}-{claimed}"


@functools.cache
def stable_abi() -> dict[str, Version]:
    """Limited API / stable ABI symbol -> the Python version that added it."""
    symbols: dict[str, str] = load("stable-abi.json")["symbols"]
    return {name: parse_version(added) or (3, 2) for name, added in symbols.items()}


@dataclass(frozen=True)
class LoaderPolicy:
    """What the Linux loaders of today refuse (elf-loader.json)."""

    exec_stack_glibc: str  # the glibc whose dlopen refuses an executable-stack library
    x86_64_levels: dict[str, int]  # level name -> rank (baseline 1 .. v4 4)

    def level_name(self, rank: int) -> str:
        return next((n for n, r in self.x86_64_levels.items() if r == rank), f"level {rank}")


@functools.cache
def loader_policy() -> LoaderPolicy:
    data = load("elf-loader.json")
    return LoaderPolicy(str(data["exec_stack_refused_since_glibc"]), dict(data["x86_64_levels"]))
