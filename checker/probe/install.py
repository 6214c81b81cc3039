"""A fresh uv venv per wheel and an offline install from the packages folder."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from checker.atomic import remove_tree_later
from checker.config.layouts import write_venv_pth
from checker.errors import SetupError
from checker.findings import Finding
from checker.textio import UV_ENCODING
from checker.wheel.contents import WheelContents

log = logging.getLogger(__name__)

_TAIL_LINES = 12


@dataclass(frozen=True)
class InstallResult:
    python: Path | None  # the venv's interpreter, None when the install failed
    finding: Finding | None
    duration: float
    log: str


def find_uv() -> str:
    """The uv binary: $UV, the ``uv`` package next to nox, or PATH."""
    explicit = os.environ.get("UV")
    if explicit:
        return explicit
    try:
        from uv import find_uv_bin

        return str(find_uv_bin())
    except (ImportError, FileNotFoundError):
        pass
    found = shutil.which("uv")
    if found is None:
        raise SetupError("uv is not installed (pip install uv) and $UV is not set")
    return found


def uv_environment() -> dict[str, str]:
    """The environment for uv: never download a Python, no progress bars in logs."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "CONDA_PREFIX")}
    env["UV_PYTHON_DOWNLOADS"] = "never"
    env["UV_NO_PROGRESS"] = "1"
    return env


def venv_python(venv: Path) -> Path:
    if sys.platform == "win32":
        return venv / "Scripts" / "python.exe"
    return venv / "bin" / "python"


# uv's progress lines: what it used and did, never the reason it failed. They name the
# runner's own paths ("Using CPython 3.12.1 interpreter at: /path/..."), so a finding or a
# whitelist substring made from them would differ from machine to machine.
_PREAMBLE = (
    "Using CPython ", "Using Python ", "Using PyPy ", "Using GraalPy ", "Resolved ",
    "Prepared ", "Installed ", "Uninstalled ", "Audited ", "Checked ", "Built ",
    "Downloaded ", "Bytecode compiled ",
)  # fmt: skip


def uv_reason(output: str) -> str:
    """uv's output without its progress lines, the last lines that say why it failed."""
    lines = [line.rstrip() for line in output.splitlines() if line.strip()]
    lines = [line for line in lines if not line.startswith(_PREAMBLE)]
    return "\n".join(lines[-_TAIL_LINES:])


def run_uv(
    command: list[str], stdin: str | None = None, *, tool: str = "uv"
) -> subprocess.CompletedProcess[str]:
    """Run uv (or ``tool`` beside it: its UTF-8 output decoded as such, uv's environment); a
    program that the system will not start is a SetupError naming it, never a traceback."""
    log.debug("running %s", " ".join(command))
    try:
        return subprocess.run(
            command,
            input=stdin,
            capture_output=True,
            text=True,
            encoding=UV_ENCODING,
            errors="replace",
            env=uv_environment(),
            check=False,
        )
    except OSError as exc:  # CreateProcess refused (Windows: WinError 5, 193, 1359, ...)
        what = " ".join(command[1:3])
        raise SetupError(f"cannot run {tool} {command[0]!r} ({what}): {exc}") from exc


def create_venv(uv: str, interpreter: Path, venv: Path) -> None:
    """A fresh venv at ``venv`` (an old one there is moved aside and removed meanwhile)."""
    if not remove_tree_later(venv):
        raise SetupError(
            f"cannot remove the earlier venv {str(venv)!r} (a file of it is in use?); "
            "remove it or run nox -s clean"
        )
    proc = run_uv(
        [uv, "venv", "--quiet", "--no-config", "--no-project", "--no-python-downloads",
         "--python", str(interpreter), str(venv)]
    )  # fmt: skip
    if proc.returncode != 0:
        raise SetupError(
            f"uv could not create a venv with {str(interpreter)!r}: {uv_reason(proc.stderr)}"
        )
    # An embeddable base: the venv's interpreter needs a ._pth of its own to start.
    written = write_venv_pth(interpreter, venv_python(venv).parent)
    if written is not None:
        log.debug("wrote %s for the embeddable base %s", written, interpreter)


def site_packages(venv: Path) -> list[Path]:
    """The site-packages folders ``uv venv`` made in ``venv`` (POSIX or Windows layout)."""
    return [*venv.glob("lib/python*/site-packages"), *venv.glob("Lib/site-packages")]


def install_wheel(
    uv: str,
    interpreter: Path,
    venv: Path,
    wheel: Path,
    packages: Path,
    *,
    project: str = "",
    extras: Sequence[str] = (),
    dist_info: str | None = None,
    alongside: Sequence[Path] = (),
) -> InstallResult:
    """Create the venv and install ``wheel`` (with ``extras``) and its dependencies from
    ``packages`` only. ``alongside``: dependencies to name by path (the only wheel of their
    project in the folder, checker.folder.deps.sole_candidates): uv keeps a wheel named by
    path by its file and modification time, but one it takes from ``--find-links`` by its
    file name alone, so a dependency rebuilt under the same name would be installed from
    the stale cache entry; by path it is also the cache entry the set venv's install made.

    uv installs into the venv with the target interpreter's facts (``--python
    INTERPRETER --prefix VENV``): with ``--python VENV/bin/python`` it would first run the
    new venv's interpreter to ask it what it is (~45 ms a wheel), while the target
    interpreter's answer is in uv's cache, and it is the same interpreter. The files land
    where the venv's interpreter imports them from (checked: ``dist_info`` must be in the
    venv's own site-packages); only the shebangs of installed scripts name the target
    interpreter instead of the venv's. When that install fails or lands elsewhere, the
    venv is made again and installed the ordinary way, whose outcome is the one reported.
    """
    started = time.perf_counter()
    create_venv(uv, interpreter, venv)
    python = venv_python(venv)
    target = str(wheel)
    if extras and project:
        target = f"{project}[{','.join(extras)}] @ {wheel.absolute().as_uri()}"
    command = [uv, "pip", "install", "--no-config", "--offline", "--no-index", "--no-build",
               "--find-links", str(packages)]  # fmt: skip
    targets = [target, *map(str, alongside)]
    proc = run_uv([*command, "--python", str(interpreter), "--prefix", str(venv), *targets])
    landed = dist_info is None or any((site / dist_info).is_dir() for site in site_packages(venv))
    if proc.returncode != 0 or not landed:
        log.debug("%s: installing with --prefix failed or missed; the ordinary way", wheel.name)
        create_venv(uv, interpreter, venv)
        proc = run_uv([*command, "--python", str(python), *targets])
    duration = time.perf_counter() - started
    output = uv_reason(proc.stderr + proc.stdout)
    if proc.returncode == 0:
        return InstallResult(python, None, duration, output)
    finding = Finding("install", "install", "install-error", f"uv pip install failed: {output}")
    return InstallResult(None, finding, duration, output)


def install_together(
    uv: str, interpreter: Path, venv: Path, wheels: Sequence[Path], packages: Path
) -> tuple[Path | None, str]:
    """One venv with every one of ``wheels`` (and their dependencies from ``packages``):
    (its interpreter, "") or (None, uv's reason) when they cannot be installed together."""
    create_venv(uv, interpreter, venv)
    command = [uv, "pip", "install", "--no-config", "--offline", "--no-index", "--no-build",
               "--find-links", str(packages), "--python", str(interpreter), "--prefix",
               str(venv), *map(str, wheels)]  # fmt: skip
    proc = run_uv(command)
    if proc.returncode != 0:
        return None, uv_reason(proc.stderr + proc.stdout)
    return venv_python(venv), ""


def unpack_into_cache(uv: str, interpreter: Path, wheel: Path, scratch: Path) -> str:
    """Have uv unpack ``wheel`` into its cache: installed alone (no dependencies) into the
    throw-away folder ``scratch``, which is then removed; a later install of the wheel links
    the cached files. ``"unpacked"``; ``"cached"`` when uv's dry run would not unpack it
    (it would "download" nothing: the 11,000 links of torch are not made for nothing); or
    ``"failed"``, only logged (the install that needs the wheel reports what goes wrong)."""
    command = [uv, "pip", "install", "--no-config", "--offline", "--no-index", "--no-build",
               "--no-deps", "--python", str(interpreter), "--target", str(scratch),
               str(wheel)]  # fmt: skip
    try:
        dry = run_uv([*command, "--dry-run"])
        if dry.returncode == 0 and "would download" not in (dry.stderr + dry.stdout).lower():
            return "cached"
        proc = run_uv(command)
    except SetupError as exc:
        log.info("unpacking %s into uv's cache: %s", wheel.name, exc)
        return "failed"
    finally:
        remove_tree_later(scratch)
    if proc.returncode != 0:
        log.info("unpacking %s into uv's cache: %s", wheel.name, uv_reason(proc.stderr))
        return "failed"
    return "unpacked"


def installed_files(contents: WheelContents, python: Path) -> Callable[[str], Path | None]:
    """Member -> the file uv installed it to in ``python``'s venv, for the members installed
    as they are (not the dist-info, whose RECORD uv rewrites, nor scripts, whose shebang it
    rewrites): where checker.wheel.members reads them instead of inflating the archive."""
    venv = python.parent.parent
    sites = site_packages(venv)
    if not sites:
        return lambda member: None
    site = sites[0]
    windows = site.parent.parent == venv  # Lib/site-packages; POSIX: lib/pythonX.Y/site-packages

    def locate(member: str) -> Path | None:
        if member.startswith((contents.dist_info + "/", contents.data_dir + "/scripts/")):
            return None
        landed = contents.landing_path(member, windows=windows)
        return (site / landed).resolve() if landed else None

    return locate
