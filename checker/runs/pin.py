"""Pin wheel sets for packages.lock: resolve with uv per platform, download with pip, hash.

Also fetches pinned wheels into a packages folder: only binary, no dependencies, every hash
verified before a file is moved into the folder.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.tags import mac_platforms
from packaging.utils import InvalidWheelFilename, parse_wheel_filename

from checker.errors import SetupError
from checker.probe.install import find_uv, uv_environment
from checker.textio import UV_ENCODING
from checker.wheel.fragment import sha256_file
from checker.wheel.lock import LockedSet, LockedWheel, locked_wheel

log = logging.getLogger(__name__)

# Oldest system each platform key is pinned for (what the users support).
_MANYLINUX_GLIBC_MINORS = range(28, 4, -1)


@dataclass(frozen=True)
class LockPlatform:
    key: str
    uv_platform: str  # uv pip compile --python-platform
    pip_platforms: tuple[str, ...]  # pip download --platform (all accepted tags)


def _manylinux(arch: str) -> tuple[str, ...]:
    tags = [f"manylinux_2_{minor}_{arch}" for minor in _MANYLINUX_GLIBC_MINORS]
    legacy = {
        "x86_64": ("manylinux2014", "manylinux2010", "manylinux1"),
        "aarch64": ("manylinux2014",),
    }
    return (*tags, *(f"{name}_{arch}" for name in legacy.get(arch, ())))


LOCK_PLATFORMS: dict[str, LockPlatform] = {
    "linux-x64": LockPlatform("linux-x64", "x86_64-manylinux_2_28", _manylinux("x86_64")),
    "linux-aarch64": LockPlatform("linux-aarch64", "aarch64-manylinux_2_28", _manylinux("aarch64")),
    "macosx-x64": LockPlatform(
        "macosx-x64", "x86_64-apple-darwin", tuple(mac_platforms((11, 0), "x86_64"))
    ),
    "macosx-aarch64": LockPlatform(
        "macosx-aarch64", "aarch64-apple-darwin", tuple(mac_platforms((11, 0), "arm64"))
    ),
    "windows-x64": LockPlatform("windows-x64", "x86_64-pc-windows-msvc", ("win_amd64",)),
}


def _run(command: list[str], what: str) -> str:
    log.debug("running %s", " ".join(command))
    proc = subprocess.run(
        command,
        capture_output=True,
        text=True,
        encoding=UV_ENCODING,
        errors="replace",
        env=uv_environment(),
        check=False,
    )
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-8:])
        raise SetupError(f"{what} failed:\n{tail}")
    return proc.stdout


def resolve(requirements: Sequence[str], python: str, platform: LockPlatform) -> list[str]:
    """``name==version`` pins for the platform, binary wheels only (uv pip compile)."""
    command = [
        find_uv(), "pip", "compile", "--no-config", "--no-python-downloads", "--quiet",
        "--no-header", "--no-annotate", "--only-binary", ":all:", "--python-version", python,
        "--python-platform", platform.uv_platform, "-",
    ]  # fmt: skip
    proc = subprocess.run(
        command,
        input="\n".join(requirements) + "\n",
        capture_output=True,
        text=True,
        encoding=UV_ENCODING,
        errors="replace",
        env=uv_environment(),
        check=False,
    )
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-8:])
        raise SetupError(f"uv could not resolve {list(requirements)} for {platform.key}:\n{tail}")
    return [line.strip() for line in proc.stdout.splitlines() if "==" in line]


def _pip_download(
    pip: Sequence[str],
    requirement: str,
    dest: Path,
    *,
    python: str,
    platforms: Sequence[str],
    abis: Sequence[str],
) -> None:
    """pip download, binary only, no dependencies, for the given tags (none: any wheel)."""
    command = [*pip, "download", "--quiet", "--no-deps", "--only-binary=:all:", "--dest", str(dest)]
    if platforms:
        command += [arg for platform in platforms for arg in ("--platform", platform)]
        command += [arg for abi in abis for arg in ("--abi", abi)]
        if python:
            command += ["--python-version", python.replace(".", "")]
    _run([*command, requirement], f"pip download {requirement}")


def _abis(python: str) -> list[str]:
    return [f"cp{python.replace('.', '')}", "abi3", "none"]


def pin_platform(
    requirements: Sequence[str], python: str, platform: LockPlatform, pip: Sequence[str], work: Path
) -> list[LockedWheel]:
    """Resolve, download and hash the wheel set of one platform."""
    dest = work / platform.key
    dest.mkdir(parents=True, exist_ok=True)
    for pin in resolve(requirements, python, platform):
        _pip_download(
            pip, pin, dest, python=python, platforms=platform.pip_platforms, abis=_abis(python)
        )
    return sorted(locked_wheel(path) for path in dest.glob("*.whl"))


def pin_folder(folder: Path, variant: str, platform: str) -> LockedSet:
    wheels = []
    for path in sorted(folder.glob("*.whl")):
        try:
            wheels.append(locked_wheel(path))
        except InvalidWheelFilename as exc:
            raise SetupError(f"cannot pin {str(path)!r}: {exc}") from None
    return LockedSet(variant, platform, tuple(sorted(wheels)))


def _download_pinned(pip: Sequence[str], wheel: LockedWheel, dest: Path) -> Path:
    """Download exactly ``wheel.file`` into ``dest`` (by name, version and its own tags)."""
    _name, _version, _build, tags = parse_wheel_filename(wheel.file)
    # Pure wheels too ("any"/"none"): else pip may prefer a platform wheel of that version.
    platforms = sorted({t.platform for t in tags})
    abis = sorted({t.abi for t in tags})
    pythons = sorted(t.interpreter for t in tags)
    version = next((p[2:] for p in pythons if p.startswith("cp") and p[2:].isdigit()), "")
    requirement = f"{wheel.project}=={wheel.version}"
    _pip_download(pip, requirement, dest, python=version, platforms=platforms, abis=abis)
    path = dest / wheel.file
    if not path.is_file():
        got = ", ".join(p.name for p in dest.glob("*.whl")) or "nothing"
        raise SetupError(f"pip download did not produce {wheel.file} (got {got})")
    return path


def fetch_pinned(pip: Sequence[str], locked: LockedSet, folder: Path) -> list[str]:
    """Bring every pinned wheel that is absent into ``folder``; verify before moving it in.

    Downloads go to a temporary folder beside ``folder`` (same file system, atomic rename);
    a file whose sha256 or size differs from the pin is never moved and the fetch fails.
    """
    folder.mkdir(parents=True, exist_ok=True)
    fetched = []
    with tempfile.TemporaryDirectory(prefix=".fetch-", dir=folder.parent) as tmp:
        for wheel in locked.wheels:
            if (folder / wheel.file).exists():
                continue
            staging = Path(tmp) / wheel.project
            path = _download_pinned(pip, wheel, staging)
            sha256, size = sha256_file(path)
            if (sha256, size) != (wheel.sha256, wheel.size):
                raise SetupError(
                    f"{wheel.file}: downloaded sha256 {sha256} ({size} bytes) does not match "
                    f"packages.lock ({wheel.sha256}, {wheel.size} bytes); the file was not kept"
                )
            path.replace(folder / wheel.file)
            shutil.rmtree(staging, ignore_errors=True)
            fetched.append(wheel.file)
    return fetched
