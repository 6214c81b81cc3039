"""Pin wheel sets for packages.lock: resolve with uv per platform, download with pip, hash.

Also fetches pinned wheels into a packages folder: only binary, no dependencies, every hash
verified before a file is moved into the folder.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.tags import mac_platforms
from packaging.utils import InvalidWheelFilename, parse_wheel_filename

from checker.errors import SetupError
from checker.probe.install import find_uv, run_uv
from checker.wheel.fragment import sha256_file
from checker.wheel.lock import LockedSet, LockedWheel, locked_wheel

log = logging.getLogger(__name__)

# The manylinux ceiling a Linux platform key is pinned for: the oldest (2_28, what the users
# support) first; only when uv finds no wheel set there, the next one up, as a new Python's
# wheels are often built for a newer glibc only (orjson's first cp315 wheel: manylinux_2_39).
MANYLINUX_CEILINGS = (28, 31, 34, 35, 36, 37, 38, 39, 40)


@dataclass(frozen=True)
class LockPlatform:
    key: str
    uv_platform: str  # uv pip compile --python-platform
    pip_platforms: tuple[str, ...]  # pip download --platform (all accepted tags)
    linux_arch: str | None = None  # manylinux platforms: their ceiling may be raised

    def with_ceiling(self, minor: int) -> LockPlatform:
        """This Linux platform pinned for manylinux_2_{minor} and older."""
        assert self.linux_arch is not None
        arch = self.linux_arch
        return LockPlatform(self.key, f"{arch}-manylinux_2_{minor}", _manylinux(arch, minor), arch)


def _manylinux(arch: str, ceiling: int = MANYLINUX_CEILINGS[0]) -> tuple[str, ...]:
    tags = [f"manylinux_2_{minor}_{arch}" for minor in range(ceiling, 4, -1)]
    legacy = {
        "x86_64": ("manylinux2014", "manylinux2010", "manylinux1"),
        "aarch64": ("manylinux2014",),
    }
    return (*tags, *(f"{name}_{arch}" for name in legacy.get(arch, ())))


LOCK_PLATFORMS: dict[str, LockPlatform] = {
    "linux-x64": LockPlatform("linux-x64", "x86_64-manylinux_2_28", _manylinux("x86_64"), "x86_64"),
    "linux-aarch64": LockPlatform(
        "linux-aarch64", "aarch64-manylinux_2_28", _manylinux("aarch64"), "aarch64"
    ),
    "macosx-x64": LockPlatform(
        "macosx-x64", "x86_64-apple-darwin", tuple(mac_platforms((11, 0), "x86_64"))
    ),
    "macosx-aarch64": LockPlatform(
        "macosx-aarch64", "aarch64-apple-darwin", tuple(mac_platforms((11, 0), "arm64"))
    ),
    "windows-x64": LockPlatform("windows-x64", "x86_64-pc-windows-msvc", ("win_amd64",)),
}


def _run(command: list[str], what: str) -> str:
    proc = run_uv(command, tool="pip")
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
    proc = run_uv(command, stdin="\n".join(requirements) + "\n")
    if proc.returncode != 0:
        # uv's own hints guess at other tags (e.g. "cp35m" wheels) and mislead here: dropped.
        lines = [ln for ln in proc.stderr.strip().splitlines() if "hint:" not in ln]
        tail = "\n".join(lines[-8:])
        raise SetupError(
            f"no wheel set of {list(requirements)} for Python {python} on {platform.key} "
            f"({platform.uv_platform}): a requirement (or one it needs) has no binary wheel "
            f"for this Python and platform. uv says:\n{tail}"
        )
    return [line.strip() for line in proc.stdout.splitlines() if "==" in line]


def resolve_lowest_ceiling(
    requirements: Sequence[str], python: str, platform: LockPlatform
) -> tuple[LockPlatform, list[str]]:
    """The pins and the platform at the lowest manylinux ceiling that has them all (Linux;
    other platforms as they are)."""
    if platform.linux_arch is None:
        return platform, resolve(requirements, python, platform)
    first: SetupError | None = None
    for minor in MANYLINUX_CEILINGS:
        candidate = platform.with_ceiling(minor)
        try:
            pins = resolve(requirements, python, candidate)
        except SetupError as exc:
            first = first or exc
            continue
        if minor != MANYLINUX_CEILINGS[0]:
            log.warning(
                "%s: no wheel set for Python %s up to manylinux_2_%d; pinned for "
                "manylinux_2_%d (users need glibc 2.%d or newer)",
                platform.key, python, MANYLINUX_CEILINGS[0], minor, minor,
            )  # fmt: skip
        return candidate, pins
    assert first is not None
    top = MANYLINUX_CEILINGS[-1]
    raise SetupError(f"{first} (also tried every manylinux ceiling up to manylinux_2_{top})")


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
    platform, pins = resolve_lowest_ceiling(requirements, python, platform)
    for pin in pins:
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
