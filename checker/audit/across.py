"""Libraries resolved across the install: the wheel together with the wheels it brings along.

The per-wheel audit (checker.audit) resolves each linked library inside the wheel and the
platform policy; what it cannot resolve keeps the installed paths the loader would try
(``LinkedLibrary.candidates``: ELF RPATH/RUNPATH with ``$ORIGIN``, Mach-O ``@rpath`` and
``@loader_path``). Installed into one venv, the wheel lives beside its requirements: torch's
``$ORIGIN/../../nvidia/cublas/lib`` is filled by nvidia-cublas-cu12. Here those links are
looked up in the installed layout of the wheels the install brings along (the requirement
closure, computed by the caller from the folder and the target's markers):

- found at a candidate path (PE: a DLL of that name, as packages register their DLL folders
  with ``os.add_dll_directory``) -> "dependency", naming the providing wheel; its finding goes;
- ELF: shipped under its name anywhere else in a wheel of the closure (torch/lib/libc10.so,
  which torchvision/_C.so needs without an RPATH to it) -> "dependency" with a note: the
  loader reuses the library that wheel loads when it is imported first (torchvision imports
  torch; RAPIDS' wheels ``load_library()`` theirs); its finding goes;
- a library the settings accept on the target machines (``system-libraries``) -> "accepted";
- found only in a wheel of the folder outside the closure (at a candidate path or anywhere
  under its name) -> the finding stays and names that wheel: the install would not bring it.

Paths are relative to site-packages; ``.data/data/`` files land in the venv's prefix, three
folders up on POSIX (``lib/pythonX.Y/site-packages``), two on Windows (``Lib/site-packages``).
"""

from __future__ import annotations

import logging
import posixpath
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from packaging.utils import InvalidWheelFilename, parse_wheel_filename

from checker.audit.model import UNRESOLVED, AuditResult, BinaryAudit, LinkedLibrary
from checker.audit.policy import NameList
from checker.findings import Finding
from checker.folder.layout import InstalledWheel

logger = logging.getLogger(__name__)

LINK_KINDS = frozenset({"missing-library", "external-library"})


@dataclass(frozen=True)
class Surroundings:
    """What the install of one wheel has around it, computed only when a link needs it."""

    project: str
    closure: Callable[[], Sequence[InstalledWheel]]
    """The wheels the install brings along (the requirement closure in the folder)."""
    others: Callable[[], Sequence[InstalledWheel]]
    """The folder's other wheels (to name one that would provide a library)."""
    accepted: NameList = field(default_factory=lambda: NameList(()))
    """Library names the target machines are known to have (settings: system-libraries)."""


def _needs_prefix(binary: BinaryAudit, name: str) -> str:
    """How the per-wheel audit begins a finding about ``name`` (see its format modules)."""
    return f"{binary.module} needs {name}: "


def _preloaded(
    link: LinkedLibrary, binary: BinaryAudit, around: Surroundings
) -> tuple[str, str] | None:
    """(wheel, installed path) of a wheel of the closure that ships ``link`` under its name
    somewhere the loader does not look (torch/lib/libc10.so for torchvision/_C.so,
    libcudf/lib64/libcudf.so for pylibcudf): ELF only, whose loader reuses a library already
    loaded under the needed soname, and that wheel loads it when it is imported (torch's
    ``import torch``, RAPIDS' ``load_library()``), before the binary that needs it."""
    if binary.format != "elf":
        return None
    return next(
        (
            (wheel.filename, path)
            for wheel in around.closure()
            if (path := wheel.ships(link)) is not None
        ),
        None,
    )


def _project(filename: str) -> str:
    try:
        return str(parse_wheel_filename(filename)[0])
    except InvalidWheelFilename:
        return filename


def _resolve_binary(
    binary: BinaryAudit, around: Surroundings
) -> tuple[BinaryAudit, dict[str, str | None]]:
    """The binary with its unresolved links looked up around it, and per link name that
    changed: None (resolved: its finding goes) or the new text of its finding."""
    links: list[LinkedLibrary] = []
    changed: dict[str, str | None] = {}
    for link in binary.links:
        if link.how not in UNRESOLVED:
            links.append(link)
            continue
        provided = next(
            (
                (wheel.filename, path)
                for wheel in around.closure()
                if (path := wheel.find(link, binary.format)) is not None
            ),
            None,
        )
        preloaded = None if provided is not None else _preloaded(link, binary, around)
        accepted = around.accepted.match(posixpath.basename(link.name))
        if provided is not None:
            links.append(
                replace(link, resolved=provided[1], how="dependency", provider=provided[0])
            )
            changed[link.name] = None
        elif preloaded is not None:
            wheel, path = preloaded
            note = (
                f"not on {binary.module}'s RPATH: loaded when {_project(wheel)} (which "
                f"{around.project} requires) is imported first, from {path}"
            )
            links.append(replace(link, resolved=path, how="dependency", provider=wheel, note=note))
            changed[link.name] = None
        elif accepted is not None:
            links.append(replace(link, resolved=accepted, how="accepted", candidates=()))
            changed[link.name] = None
        else:
            links.append(link)
            outside = next(
                (
                    w.filename
                    for w in around.others()
                    if w.find(link, binary.format) is not None or w.ships(link) is not None
                ),
                None,
            )
            if outside is not None:
                changed[link.name] = (
                    f"{_needs_prefix(binary, link.name)}only {outside} of the packages folder "
                    f"has it, and the install of {around.project} does not bring that wheel "
                    "along (it is not in its requirements)"
                )
    return replace(binary, links=tuple(links)), changed


def resolve_across(audit: AuditResult, around: Surroundings) -> AuditResult:
    """The audit with its unresolved links looked up in the install's other wheels."""
    if not any(link.how in UNRESOLVED for b in audit.binaries for link in b.links):
        return audit
    binaries: list[BinaryAudit] = []
    changes: dict[tuple[str, str], str | None] = {}  # (file, error) -> new error or None
    for binary in audit.binaries:
        resolved, changed = _resolve_binary(binary, around)
        binaries.append(resolved)
        for finding in audit.findings:
            if finding.file != binary.file or finding.kind not in LINK_KINDS:
                continue
            for name, text in changed.items():
                if finding.error.startswith(_needs_prefix(binary, name)):
                    changes[(binary.file, finding.error)] = text
    findings: list[Finding] = []
    for finding in audit.findings:
        key = (finding.file or "", finding.error)
        if key not in changes:
            findings.append(finding)
        elif (text := changes[key]) is not None:
            findings.append(replace(finding, error=text))
    return replace(audit, findings=tuple(findings), binaries=tuple(binaries))
