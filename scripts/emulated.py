"""``nox -s emulated``: the checker and its tests on linux-aarch64 under qemu-user emulation.

    nox -s emulated                      root (cached), setup, check_native, tests
    nox -s emulated -- --skip-tests      root, setup and check_native only
    nox -s emulated -- --rebuild         throw the cached root away first

1. root: an arm64 Debian bookworm root (scripts/rootfs.py: mmdebstrap + qemu-user-static,
   Debian's Python 3.11, gcc for the tests' C extensions), built once under
   build/native-check-work/roots/ and reused;
2. setup: this checkout (tracked and untracked, not ignored files) copied to the root's
   ordinary user, and a venv of that user's with uv and nox from PyPI;
3. check_native: `nox -s check_native` as that user on a fresh copy: it fetches the lock's
   linux-aarch64 set and checks it;
4. tests: `nox -s tests -- -m "not network"`: the unit and non-network integration tests.

Every step runs as the root's ordinary user (uid 1000), never as root. Each step's time is
printed and written to build/native-check-work/emulated-timings.json. Needs root privileges
(mmdebstrap, chroot, mounts), qemu-user-static and binfmt_misc; see docs/development.md.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from rootfs import USER, RootError, RootSpec, build_root, copy_checkout, run_in_root

PROJECT = Path(__file__).resolve().parents[1]
WORK = PROJECT / "build" / "native-check-work"
ROOT_DIR = WORK / "roots" / "bookworm-arm64"
SPEC = RootSpec(
    suite="bookworm",
    arch="arm64",
    packages=("python3", "python3-venv", "python3-dev", "gcc", "libc6-dev"),
)
HOME = f"/home/{USER}"
# Inside the root: the system CA bundle (with the host's CAs copied in) for uv and pip too.
ENV = {
    "UV_PYTHON_DOWNLOADS": "never",
    "SSL_CERT_FILE": "/etc/ssl/certs/ca-certificates.crt",
    "PIP_CERT": "/etc/ssl/certs/ca-certificates.crt",
    "PATH": f"{HOME}/tools/bin:/usr/local/bin:/usr/bin:/bin",
}


def setup() -> None:
    copy_checkout(PROJECT, ROOT_DIR / HOME.lstrip("/") / "project")
    if not (ROOT_DIR / HOME.lstrip("/") / "tools" / "bin" / "nox").exists():
        run_in_root(ROOT_DIR, ["python3", "-m", "venv", f"{HOME}/tools"], env=ENV)
        pip = [f"{HOME}/tools/bin/pip", "install", "--quiet", "uv", "nox"]
        run_in_root(ROOT_DIR, pip, env=ENV)


def check_native() -> None:
    command = ["nox", "-s", "check_native"]
    run_in_root(ROOT_DIR, command, cwd=f"{HOME}/project", env=ENV)


def tests() -> None:
    command = ["nox", "-s", "tests", "--", "-m", "not network", "-p", "no:cacheprovider"]
    env = {**ENV, "NATIVE_CHECK_NETWORK_TESTS": "0"}
    run_in_root(ROOT_DIR, command, cwd=f"{HOME}/project", env=env)


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rebuild", action="store_true", help="build the root again")
    parser.add_argument("--skip-tests", action="store_true", help="stop after check_native")
    args = parser.parse_args(argv)
    if args.rebuild:
        shutil.rmtree(ROOT_DIR, ignore_errors=True)
    steps: list[tuple[str, Callable[[], object]]] = [
        ("root", lambda: build_root(ROOT_DIR, SPEC, log=ROOT_DIR.with_suffix(".log"))),
        ("setup", setup),
        ("check_native", check_native),
    ]
    if not args.skip_tests:
        steps.append(("tests", tests))
    timings: dict[str, float] = {}
    code = 0
    for name, step in steps:
        start = time.monotonic()
        print(f"emulated: {name} ...", flush=True)
        try:
            step()
        except (RootError, OSError, subprocess.CalledProcessError) as error:
            print(f"emulated: {name} failed: {error}", file=sys.stderr)
            code = 1
        timings[name] = round(time.monotonic() - start, 1)
        print(f"emulated: {name} took {timings[name]:.0f}s", flush=True)
        if code:
            break
    WORK.mkdir(parents=True, exist_ok=True)
    (WORK / "emulated-timings.json").write_text(json.dumps(timings, indent=1), encoding="utf-8")
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
