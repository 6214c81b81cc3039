"""abi3: an extension of a ``cp3X-abi3`` (or ``cp3X-abi3t``, PEP 803) wheel may only use the
stable ABI of Python 3.X.

As abi3audit does it: every ``Py*``/``_Py*`` symbol the extension imports from the
interpreter must be in CPython's Misc/stable_abi.toml (checker/data/policy/stable-abi.json)
with an ``added`` version no newer than the tag's. ELF symbols with a version come from a
versioned library, not from libpython, and are skipped; PE imports count only when they
come from python3*.dll, and importing from python3X.dll instead of python3.dll breaks abi3.
"""

from __future__ import annotations

import fnmatch
import logging

from checker.audit.model import BinaryAudit, finding
from checker.audit.policy import Version, format_version, stable_abi
from checker.audit.scan import WheelBinary
from checker.findings import Finding

logger = logging.getLogger(__name__)

_SHOWN = 8


def _python_symbols(binary: WheelBinary) -> tuple[set[str], set[str]]:
    """(Py* symbols imported from the interpreter, versioned python DLLs linked)."""
    names: set[str] = set()
    versioned_dlls: set[str] = set()
    for slice_ in binary.info.slices:
        for symbol in slice_.imported_symbols:
            if not symbol.name.startswith(("Py", "_Py")):
                continue
            library = symbol.library or ""
            if binary.info.format == "elf" and symbol.version:
                continue
            if binary.info.format == "pe":
                if not fnmatch.fnmatch(library.lower(), "python3*.dll"):
                    continue
                if library.lower() != "python3.dll":
                    versioned_dlls.add(library)
            names.add(symbol.name)
    return names, versioned_dlls


def audit_abi3(
    binary: WheelBinary, audit: BinaryAudit, claimed: Version, label: str | None = None
) -> list[Finding]:
    """The abi3-violation finding of one extension module (empty when it is clean);
    ``label`` names the claim (``cp315-abi3.abi3t``; default ``cp3X-abi3``)."""
    if not binary.is_extension:
        return []
    table = stable_abi()
    names, versioned_dlls = _python_symbols(binary)
    bad: list[str] = []
    for name in sorted(names):
        added = table.get(name)
        if added is None:
            bad.append(f"{name} (not in the stable ABI)")
        elif added > claimed:
            bad.append(f"{name} (added in {format_version(added)})")
    findings: list[Finding] = []
    label = label or f"cp{claimed[0]}{claimed[1]}-abi3"
    if bad:
        shown = ", ".join(bad[:_SHOWN])
        more = f", +{len(bad) - _SHOWN} more" if len(bad) > _SHOWN else ""
        error = (
            f"{binary.module} is tagged {label} but uses symbols outside the limited API of "
            f"Python {format_version(claimed)}: {shown}{more}"
        )
        findings.append(finding("abi3-violation", audit, error))
    for dll in sorted(versioned_dlls):
        error = f"{binary.module} is tagged {label} but links {dll} instead of python3.dll"
        findings.append(finding("abi3-violation", audit, error))
    return findings
