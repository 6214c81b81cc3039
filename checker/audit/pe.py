"""PE: resolve imported DLLs inside the wheel (case-insensitively) and check the machine type.

Search order, as CPython loads extension modules (the DLL's own folder, then the folders
packages register with ``os.add_dll_directory``): the binary's folder; the bundled-DLL
folders ``*.libs``/``.libs`` (delvewheel's ``<project>.libs``, numpy's ``numpy.libs``);
then a DLL of that name elsewhere in the wheel (packages such as torch register
``torch/lib``); then the Windows system allow-list and python3.dll/python3X.dll, then the
GPU driver's DLLs (``nvcuda.dll``, ...: "driver"). A DLL found nowhere is
``external-library`` unless a wheel the install brings along has it (checker.audit.across).
"""

from __future__ import annotations

import logging
import posixpath

from checker.audit.model import BinaryAudit, LinkedLibrary, finding
from checker.audit.policy import WINDOWS_ARCHES, driver_libraries, match_lists, windows_lists
from checker.audit.scan import WheelBinary, WheelIndex
from checker.findings import Finding

logger = logging.getLogger(__name__)


def _is_lib_folder(folder: str) -> bool:
    return any(part.lower().endswith(".libs") for part in folder.split("/") if part)


def _resolve(name: str, folder: str, index: WheelIndex) -> LinkedLibrary:
    key = name.lower()
    beside = index.lower.get(posixpath.join(folder, key).lower() if folder else key)
    if beside is not None:
        return LinkedLibrary(name, beside, "bundled")
    anywhere = index.by_basename.get(key, [])
    for path in anywhere:
        if _is_lib_folder(posixpath.dirname(path)):
            return LinkedLibrary(name, path, "bundled")
    if anywhere:
        return LinkedLibrary(name, anywhere[0], "bundled")
    provided = match_lists(name, windows_lists())
    if provided is not None:
        return LinkedLibrary(name, *provided)
    driver = driver_libraries("windows").match(name)
    if driver is not None:
        return LinkedLibrary(name, driver, "driver")
    return LinkedLibrary(name, None, "external")


def audit_pe(
    binary: WheelBinary, index: WheelIndex, platforms: tuple[str, ...]
) -> tuple[BinaryAudit, list[Finding]]:
    """Audit one PE binary against the wheel's win* tags (none: report facts only)."""
    slice_ = binary.info.slices[0]
    folder = posixpath.dirname(binary.installed)
    links = tuple(_resolve(name, folder, index) for name in slice_.needed)
    audit = BinaryAudit(
        file=binary.member,
        module=binary.module,
        format="pe",
        architectures=binary.info.architectures,
        links=links,
        symbol_versions={},
        min_os=None,
    )
    findings: list[Finding] = []
    for platform in platforms:
        expected = WINDOWS_ARCHES.get(platform)
        if expected is not None and slice_.arch != expected:
            error = (
                f"{binary.module} is {slice_.arch} but the wheel's tag {platform} "
                f"promises {expected}"
            )
            findings.append(finding("architecture", audit, error))
    for link in links:
        if link.how == "external":
            error = (
                f"{binary.module} needs {link.name}: not in the wheel and not a Windows system DLL"
            )
            findings.append(finding("external-library", audit, error))
    return audit, findings
