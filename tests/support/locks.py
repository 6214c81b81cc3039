"""Helpers of the packages.lock tests: this machine's lock keys and wheel rewrites."""

from __future__ import annotations

import platform
import sys
import zipfile
from collections.abc import Mapping
from pathlib import Path

from checker.config.platforms import platform_key


def this_platform() -> str:
    """The platform key of the interpreter running the tests (what a run detects)."""
    return platform_key(sys.platform, platform.machine())


def minor_variant() -> str:
    """``python-X.Y`` of the running interpreter: the key `nox -s lock -- REQ` writes."""
    return "python-{}.{}".format(*sys.version_info[:2])


def exact_variant() -> str:
    """``python-X.Y.Z``: the variant a run reports by default."""
    return "python-" + platform.python_version()


def rewrite_members(path: Path, replace: Mapping[str, bytes]) -> None:
    """Rewrite members' bytes in place, keeping every other member (and RECORD) as it was."""
    with zipfile.ZipFile(path) as archive:
        members = [(info.filename, archive.read(info)) for info in archive.infolist()]
    missing = set(replace) - {name for name, _ in members}
    assert not missing, f"no such member(s) in {path.name}: {sorted(missing)}"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            archive.writestr(name, replace.get(name, data))


def flip_middle_byte(data: bytes) -> bytes:
    """Same length, one byte different: only the RECORD hash can notice."""
    middle = len(data) // 2
    return data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1 :]
