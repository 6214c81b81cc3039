"""Platform keys (linux-x64, ...), default variant and the wheel tags an interpreter accepts."""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable, Mapping

from packaging import tags

from checker.config.interpreter import InterpreterInfo
from checker.errors import InputFileError

log = logging.getLogger(__name__)

PLATFORM_KEYS = ("linux-aarch64", "linux-x64", "macosx-aarch64", "macosx-x64", "windows-x64")

_OS_NAMES = {"win32": "windows", "cygwin": "windows", "darwin": "macosx", "linux": "linux"}
_INTERPRETER_SHORT_NAMES = {"cpython": "cp", "pypy": "pp", "ironpython": "ip", "jython": "jy"}
_ARCH_NAMES = {
    "amd64": "x64",
    "x86_64": "x64",
    "x64": "x64",
    "arm64": "aarch64",
    "aarch64": "aarch64",
}


def platform_key(sys_platform: str, machine: str) -> str:
    """The platform key of the original tool: ``windows-x64``, ``linux-aarch64``, ...

    Unknown combinations get a readable ``{os}-{machine}`` key rather than an error.
    """
    os_name = _OS_NAMES.get(sys_platform, sys_platform)
    if sys_platform.startswith("linux"):
        os_name = "linux"
    arch = _ARCH_NAMES.get(machine.lower(), machine.lower())
    return f"{os_name}-{arch}"


# The environment markers that follow from a platform key (PEP 508 names).
_KEY_MARKERS: dict[str, dict[str, str]] = {
    "linux": {"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix"},
    "macosx": {"sys_platform": "darwin", "platform_system": "Darwin", "os_name": "posix"},
    "windows": {"sys_platform": "win32", "platform_system": "Windows", "os_name": "nt"},
}
_KEY_MACHINES = {
    ("linux", "x64"): "x86_64",
    ("linux", "aarch64"): "aarch64",
    ("macosx", "x64"): "x86_64",
    ("macosx", "aarch64"): "arm64",
    ("windows", "x64"): "AMD64",
    ("windows", "aarch64"): "ARM64",
}


def markers_for(platform: str, base: Mapping[str, str]) -> dict[str, str]:
    """``base`` markers as they are on the machines of ``platform`` (a key such as
    ``macosx-aarch64``): what the static audit of another platform's folder evaluates
    requirements with. An unknown key leaves ``base`` as it is."""
    os_name, _, arch = platform.partition("-")
    markers = {**base, **_KEY_MARKERS.get(os_name, {})}
    machine = _KEY_MACHINES.get((os_name, arch))
    if machine is not None:
        markers["platform_machine"] = machine
    return markers


UV_PLATFORMS: dict[str, str] = {
    # The newest glibc uv knows: a wheel's own glibc claim is the static audit's business.
    "linux-x64": "x86_64-manylinux_2_40",
    "linux-aarch64": "aarch64-manylinux_2_40",
    "macosx-x64": "x86_64-apple-darwin",
    "macosx-aarch64": "aarch64-apple-darwin",
    "windows-x64": "x86_64-pc-windows-msvc",
}
"""``uv pip compile --python-platform`` of each platform key, for resolving a folder of
another platform than this machine's."""


def default_variant(info: InterpreterInfo) -> str:
    return f"python-{info.version}"


def macos_version(mac_ver: str) -> tuple[int, int] | None:
    """The target's macOS version for packaging.tags.mac_platforms, or None to let packaging
    find this machine's own (the target runs here). An interpreter built against an SDK
    older than 11 is told "10.16" on macOS 11+; given 10.16, packaging would skip its own fix
    for that and offer no macosx_11+ tag, so 10.16 is never passed on."""
    try:
        parts = tuple(int(p) for p in mac_ver.split(".")[:2])
    except ValueError:
        return None
    if len(parts) < 2 and parts and parts[0] >= 11:
        return (parts[0], 0)
    if len(parts) != 2 or parts == (10, 16):
        return None
    return (parts[0], parts[1])


@functools.lru_cache(maxsize=8)
def supported_tags(info: InterpreterInfo) -> tuple[tags.Tag, ...]:
    """The wheel tags the target interpreter installs, most specific first.

    Built with packaging.tags from the target's own facts. Platform tags come from this
    machine (the target runs here); on macOS the target's architecture is honoured.
    """
    major, minor = info.version_info[0], info.version_info[1]
    if info.sys_platform == "darwin":
        arch = "arm64" if info.machine.lower() in ("arm64", "aarch64") else info.machine
        mac = macos_version(info.mac_ver)
        platforms: list[str] = list(tags.mac_platforms(mac, arch))
    else:
        platforms = list(tags.platform_tags())
    short = _INTERPRETER_SHORT_NAMES.get(info.implementation, info.implementation)
    interpreter = f"{short}{major}{minor}"
    if info.implementation == "cpython":
        # Free-threaded (Py_GIL_DISABLED): "t", also where sys.abiflags is missing (Windows);
        # packaging then offers abi3t, never abi3.
        flags = info.abiflags + ("t" if info.py_gil_disabled and "t" not in info.abiflags else "")
        abi = f"cp{major}{minor}{flags}"
        result = list(tags.cpython_tags((major, minor), [abi], platforms))
    else:
        abis = [info.soabi.replace("-", "_").replace(".", "_")] if info.soabi else []
        result = list(tags.generic_tags(interpreter, abis, platforms))
    result.extend(tags.compatible_tags((major, minor), interpreter, platforms))
    return tuple(result)


def describe_tags(items: Iterable[tags.Tag], limit: int = 3) -> str:
    names = sorted({str(t) for t in items})
    shown = ", ".join(names[:limit])
    return shown + (f" (+{len(names) - limit} more)" if len(names) > limit else "")


def check_platform_keys(keys: Iterable[str], where: str) -> None:
    """An InputFileError naming ``where`` (file, table, key) for keys that are no platform key."""
    unknown = [key for key in keys if key not in PLATFORM_KEYS]
    if unknown:
        raise InputFileError(
            f"{where}: {', '.join(map(repr, unknown))} is not a platform key "
            f"(known: {', '.join(PLATFORM_KEYS)})"
        )
