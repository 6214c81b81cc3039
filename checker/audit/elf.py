"""ELF: resolve DT_NEEDED as ld.so would, inside the wheel, and check symbol versions.

Resolution of each DT_NEEDED name, in the loader's order:

1. DT_RUNPATH, or DT_RPATH when there is no DT_RUNPATH, with ``$ORIGIN`` expanded to the
   binary's folder as installed (entries outside site-packages or absolute are the
   system's, not the wheel's) -> "bundled";
2. the wheel's bundled-library folders (``*.libs/``, ``.libs/``, by file name or soname:
   auditwheel's layout; the library gets loaded by soname) -> "bundled";
3. the platform policy's allow-list (auditwheel's ``lib_whitelist``) and the dynamic
   loader -> "system"; GPU driver libraries (driver-libraries.json) -> "driver";
   libpython -> "python".

A name resolved nowhere is ``missing-library`` when the wheel meant to ship it: a file of
that name is in the wheel but off the search path, or the name carries the hash that
``auditwheel repair`` gives the libraries it grafts (``libfoo-1a2b3c4d.so.1``), or the
wheel makes no platform promise (``linux_*``: only the wheel itself can be relied on).
Otherwise it is ``external-library``: the wheel expects it from the system (or from
another distribution) although the policy does not allow it, as ``auditwheel show``
reports it. An unresolved link keeps the paths the loader would try (``candidates``, its
$ORIGIN folders, also those above the wheel's own files): checker.audit.across looks there
in the wheels the install brings along.
"""

from __future__ import annotations

import fnmatch
import logging
import posixpath
import re

from checker.audit.model import BinaryAudit, LinkedLibrary, finding
from checker.audit.policy import (
    LINUX_PYTHON,
    LinuxPolicy,
    Version,
    driver_libraries,
    linux_policy,
    loader_policy,
)
from checker.audit.scan import WheelBinary, WheelIndex
from checker.audit.versions import check_versions
from checker.binary import ArchSlice
from checker.findings import Finding

logger = logging.getLogger(__name__)

_GRAFTED = re.compile(r"-[0-9a-f]{8}(?:-[0-9a-f]{8})?\.so")


def _origin_dirs(slice_: ArchSlice, origin: str) -> list[str]:
    """The $ORIGIN search folders, as paths relative to site-packages ("../../../lib" for the
    venv's ``lib/``: a folder the wheel's ``.data/data/lib`` files or another wheel's fill)."""
    dirs: list[str] = []
    for entry in slice_.runpaths or slice_.rpaths:
        if "$ORIGIN" not in entry and "${ORIGIN}" not in entry:
            continue  # an absolute folder of the build machine or the system
        path = entry.replace("${ORIGIN}", "$ORIGIN").replace("$ORIGIN", origin or ".")
        path = posixpath.normpath(path)
        if not path.startswith("/"):
            dirs.append("" if path == "." else path)
    return dirs


def _search_dirs(slice_: ArchSlice, origin: str) -> list[str]:
    """The $ORIGIN search folders inside site-packages (what one wheel's files can fill)."""
    return [d for d in _origin_dirs(slice_, origin) if d != ".." and not d.startswith("../")]


def _resolve(
    name: str, dirs: list[str], index: WheelIndex, policy: LinuxPolicy
) -> LinkedLibrary | None:
    if "/" not in name:
        for folder in dirs:
            candidate = posixpath.join(folder, name) if folder else name
            if candidate in index.files:
                return LinkedLibrary(name, candidate, "bundled")
        bundled = index.lib_folders.get(name)
        if bundled:
            return LinkedLibrary(name, bundled[0], "bundled")
    allowed = policy.allows(name)
    if allowed is not None:
        return LinkedLibrary(name, allowed, "system")
    driver = driver_libraries("linux").match(posixpath.basename(name))
    if driver is not None:
        return LinkedLibrary(name, driver, "driver")
    for pattern in LINUX_PYTHON:
        if fnmatch.fnmatchcase(posixpath.basename(name), pattern):
            return LinkedLibrary(name, name, "python")
    return None


def _links(
    binary: WheelBinary, index: WheelIndex, policy: LinuxPolicy, claimed: bool
) -> tuple[list[LinkedLibrary], list[Finding], BinaryAudit]:
    slice_ = binary.info.slices[0]
    origin = posixpath.dirname(binary.installed)
    dirs = _search_dirs(slice_, origin)
    every_dir = _origin_dirs(slice_, origin)
    links: list[LinkedLibrary] = []
    problems: list[tuple[str, str]] = []
    for name in slice_.needed:
        link = _resolve(name, dirs, index, policy)
        if link is None:
            elsewhere = index.by_basename.get(posixpath.basename(name).lower(), [])
            grafted = _GRAFTED.search(name) is not None
            missing = bool(elsewhere) or grafted or not policy.enforce or not claimed
            candidates = tuple(posixpath.join(d, name) if d else name for d in every_dir)
            how = "missing" if missing else "external"
            link = LinkedLibrary(name, None, how, candidates=candidates if "/" not in name else ())
            where = ", ".join(d or "." for d in dirs) or "no $ORIGIN RPATH/RUNPATH"
            if elsewhere:
                why = f"the wheel has {elsewhere[0]}, off the search path ({where})"
            elif grafted:
                why = f"a library grafted by auditwheel repair, absent from the wheel ({where})"
            else:
                why = f"not in the wheel (searched {where}) and not a known system library"
            if missing:
                problems.append(("missing-library", f"{name}: {why}"))
            else:
                problems.append(
                    (
                        "external-library",
                        f"{name}: not bundled and not on the {policy.name} allow-list",
                    )
                )
        links.append(link)
    audit = BinaryAudit(
        file=binary.member,
        module=binary.module,
        format="elf",
        architectures=binary.info.architectures,
        links=tuple(links),
        symbol_versions={},
        min_os=None,
    )
    findings = [finding(kind, audit, f"{binary.module} needs {text}") for kind, text in problems]
    return links, findings, audit


def _is_musl(policy: LinuxPolicy | None) -> bool:
    return policy is not None and policy.libc == "musl"


def _loader_errors(binary: WheelBinary, x86_64_level: int) -> list[tuple[str, str]]:
    """(kind, error) for what today's loaders refuse: an executable stack (dlopen of glibc
    2.41+), an x86-64 level above ``x86_64_level`` (the floor: 1 baseline .. 4 v4)."""
    slice_ = binary.info.slices[0]
    policy = loader_policy()
    errors = []
    shared = binary.is_extension or ".so" in posixpath.basename(binary.installed)
    if shared and slice_.executable_stack:
        errors.append(
            (
                "exec-stack",
                f"{binary.installed} asks for an executable stack (its PT_GNU_STACK is "
                f"executable or missing): glibc {policy.exec_stack_glibc} and newer refuse to "
                'load it ("cannot enable executable stack as shared object requires")',
            )
        )
    needed = slice_.x86_isa_needed or 0
    if slice_.arch == "x86_64" and needed.bit_length() > x86_64_level:
        level = policy.level_name(needed.bit_length())
        floor = policy.level_name(x86_64_level)
        errors.append(
            (
                "isa-level",
                f"{binary.installed} needs x86-64-{level} (its GNU property note: x86 ISA "
                f"needed), above the configured floor x86-64-{floor}: CPUs without {level} "
                "cannot load it",
            )
        )
    return errors


def audit_elf(
    binary: WheelBinary,
    index: WheelIndex,
    policies: tuple[LinuxPolicy, ...],
    min_glibc: Version | None,
    x86_64_level: int = 1,
) -> tuple[BinaryAudit, list[Finding]]:
    """Audit one ELF binary against the wheel's Linux policies (none: report facts only)
    and what today's loaders refuse (executable stack, x86-64 level above the floor)."""
    arch = binary.info.slices[0].arch
    policy = next((p for p in policies if p.arch == arch), None)
    claimed = bool(policies)
    findings: list[Finding] = []
    if policy is None:
        policy = linux_policy(f"linux_{arch}")
        assert policy is not None
    links, link_findings, audit = _links(binary, index, policy, claimed)
    enforced = policy if claimed and policy.enforce else None
    checked = check_versions(binary, links, enforced, min_glibc)
    audit = BinaryAudit(
        file=audit.file,
        module=audit.module,
        format=audit.format,
        architectures=audit.architectures,
        links=audit.links,
        symbol_versions=checked.versions,
        min_os=None,
    )
    if claimed and all(p.arch != arch for p in policies):
        promised = ", ".join(sorted({p.arch for p in policies}))
        names = ", ".join(p.name for p in policies)
        error = f"{binary.module} is {arch} but the wheel's tag {names} promises {promised}"
        findings.append(finding("architecture", audit, error))
    findings.extend(link_findings)
    findings.extend(finding("symbol-version", audit, error) for error in checked.errors)
    findings.extend(
        finding("symbol-version", audit, text, severity="warning") for text in checked.warnings
    )
    findings.extend(
        finding(kind, audit, error) for kind, error in _loader_errors(binary, x86_64_level)
    )
    return audit, findings
