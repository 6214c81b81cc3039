"""A cached Debian root for running things under another architecture or distribution.

    python3 scripts/rootfs.py --suite bookworm --arch arm64 --include python3-venv,gcc DEST

Builds DEST once with mmdebstrap (a later call with the same suite, architecture, packages
and mirror returns at once; anything else rebuilds), with this machine's /etc/resolv.conf and
CA certificates copied in (registry traffic may pass a proxy with a CA of its own). mmdebstrap
runs under ``env -i``: the caller's pip, uv and proxy settings stay out of the root. A foreign
architecture needs qemu-user-static and binfmt_misc (``ls /proc/sys/fs/binfmt_misc``).

``run_in_root`` runs a command inside such a root, as root or as its ordinary user, in a
private mount namespace (``unshare --mount``): /proc, /dev and /sys are mounted for the
command only and vanish with it. Building and entering a root need root privileges.

Used by ``nox -s emulated`` (scripts/emulated.py); stdlib only, no import of checker/.
"""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

MIRROR = "http://deb.debian.org/debian"
STAMP = ".rootfs.json"  # what the root was built from; written last
HOST_CA_FILES = ("/etc/ssl/certs/ca-certificates.crt",)
HOST_CA_DIR = Path("/usr/local/share/ca-certificates")
USER = "tester"
USER_ID = 1000
# A clean PATH for everything that runs without the caller's environment.
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class RootError(Exception):
    """A root cannot be built or entered here: the message says why."""


@dataclass(frozen=True)
class RootSpec:
    suite: str
    arch: str
    packages: tuple[str, ...]
    mirror: str = MIRROR
    # An archive snapshot whose Release file's Valid-Until has passed still verifies.
    allow_expired: bool = False


def _stamp(dest: Path) -> dict[str, object] | None:
    try:
        data = json.loads((dest / STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _wanted(spec: RootSpec) -> dict[str, object]:
    wanted: dict[str, object] = json.loads(json.dumps(asdict(spec)))  # tuples as lists
    return wanted


def is_built(dest: Path, spec: RootSpec) -> bool:
    return _stamp(dest) == _wanted(spec)


def _check_tools(spec: RootSpec) -> None:
    missing = [tool for tool in ("mmdebstrap", "unshare", "chroot") if shutil.which(tool) is None]
    if missing:
        raise RootError(f"missing {', '.join(missing)}: apt-get install mmdebstrap util-linux")
    host = subprocess.run(
        ["dpkg", "--print-architecture"], capture_output=True, text=True, check=False
    ).stdout.strip()
    if spec.arch != host and not Path(f"/proc/sys/fs/binfmt_misc/qemu-{_qemu(spec.arch)}").exists():
        raise RootError(
            f"{spec.arch} binaries cannot run here: no binfmt_misc entry "
            f"/proc/sys/fs/binfmt_misc/qemu-{_qemu(spec.arch)} "
            "(apt-get install qemu-user-static binfmt-support; "
            "mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc; "
            f"update-binfmts --enable qemu-{_qemu(spec.arch)})"
        )


def _qemu(arch: str) -> str:
    return {"arm64": "aarch64", "armhf": "arm", "ppc64el": "ppc64le", "amd64": "x86_64"}.get(
        arch, arch
    )


def _customize_hooks() -> list[str]:
    """mmdebstrap hooks run on the host with "$1" the root: DNS and the host's CAs."""
    hooks = ['cp /etc/resolv.conf "$1/etc/resolv.conf"']
    if HOST_CA_DIR.is_dir():
        hooks.append(f'cp -r {HOST_CA_DIR}/. "$1/usr/local/share/ca-certificates/"')
        hooks.append('chroot "$1" update-ca-certificates --fresh >/dev/null')
    for bundle in HOST_CA_FILES:  # the bundle as the host trusts it, whatever the hooks made
        if Path(bundle).is_file():
            hooks.append(f'cp {bundle} "$1{bundle}"')
    hooks.append(f'chroot "$1" useradd --create-home --uid {USER_ID} --shell /bin/sh {USER}')
    return hooks


def build_root(dest: Path, spec: RootSpec, *, log: Path | None = None) -> bool:
    """Build ``dest`` for ``spec`` unless it is already built; True when it was built now."""
    if is_built(dest, spec):
        return False
    _check_tools(spec)
    packages = sorted({"ca-certificates", "passwd", *spec.packages})
    staging = dest.with_name(dest.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    shutil.rmtree(dest, ignore_errors=True)
    dest.parent.mkdir(parents=True, exist_ok=True)
    command = [
        "env", "-i", f"PATH={PATH}", "LC_ALL=C.UTF-8",
        "mmdebstrap", "--mode=root", "--variant=apt", f"--architectures={spec.arch}",
        f"--include={','.join(packages)}",
    ]  # fmt: skip
    if spec.allow_expired:
        command.append("--aptopt=Acquire::Check-Valid-Until false")
    command += [f"--customize-hook={hook}" for hook in _customize_hooks()]
    command += [spec.suite, str(staging), spec.mirror]
    with (log or staging.with_suffix(".log")).open("w", encoding="utf-8") as out:
        proc = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, check=False)
    if proc.returncode != 0:
        raise RootError(
            f"mmdebstrap failed (exit {proc.returncode}) building {staging}: see {out.name}"
        )
    staging.rename(dest)
    (dest / STAMP).write_text(json.dumps(_wanted(spec), indent=1), encoding="utf-8")
    return True


def run_in_root(
    root: Path,
    command: Sequence[str],
    *,
    user: bool = True,
    cwd: str = "/",
    env: Mapping[str, str] | None = None,
    check: bool = True,
) -> int:
    """Run ``command`` inside ``root`` (as its ordinary user by default) with a clean env."""
    home = f"/home/{USER}" if user else "/root"
    environ = {
        "PATH": PATH,
        "HOME": home,
        "USER": USER if user else "root",
        "LOGNAME": USER if user else "root",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        **(env or {}),
    }
    inner = " ".join(shlex.quote(part) for part in command)
    # Mounts made in the private namespace vanish with it: nothing to clean up afterwards.
    script = (
        f"mount -t proc proc {root}/proc && mount --rbind /dev {root}/dev && "
        f"mount --rbind /sys {root}/sys && mount -t tmpfs tmpfs {root}/tmp && "
        f"exec chroot {'--userspec=' + str(USER_ID) + ':' + str(USER_ID) if user else ''} "
        f"{root} /usr/bin/env -i "
        + " ".join(shlex.quote(f"{k}={v}") for k, v in environ.items())
        + f" /bin/sh -c {shlex.quote(f'cd {shlex.quote(cwd)} && {inner}')}"
    )
    proc = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "/bin/sh", "-c", script], check=False
    )
    if check and proc.returncode != 0:
        raise RootError(f"exit {proc.returncode} in {root}: {inner}")
    return proc.returncode


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dest", type=Path)
    parser.add_argument("--suite", default="bookworm")
    parser.add_argument("--arch", default="arm64")
    parser.add_argument("--include", default="", help="comma-separated Debian packages")
    parser.add_argument("--mirror", default=MIRROR)
    parser.add_argument("--allow-expired", action="store_true", help="ignore Valid-Until")
    args = parser.parse_args(argv)
    packages = tuple(p for p in args.include.split(",") if p)
    spec = RootSpec(args.suite, args.arch, packages, args.mirror, args.allow_expired)
    start = time.monotonic()
    try:
        built = build_root(args.dest.resolve(), spec)
    except RootError as error:
        print(f"rootfs: {error}", file=sys.stderr)
        return 2
    state = "built" if built else "cached"
    print(f"rootfs: {args.dest} {state} in {time.monotonic() - start:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
