"""``nox -s newer_pythons``: the checker and its tests on Debian sid's CPython 3.14 and 3.15.

    nox -s newer_pythons                      root (cached), setup, tests and wheels per Python
    nox -s newer_pythons -- --skip-tests      root, setup and the wheel checks only
    nox -s newer_pythons -- --rebuild         throw the cached root away first

1. root: an amd64 Debian sid root (scripts/rootfs.py: mmdebstrap) with python3.14 and
   python3.15 (-venv, -dev, -tk) and gcc, built once under build/native-check-work/roots/
   and reused. sid's Release file may be past its Valid-Until: the root accepts that.
2. setup: this checkout copied to the root's ordinary user, and per Python a venv of that
   user's with pip (upgraded), uv and nox from PyPI.
3. tests-3.X: ``nox -s tests --force-python /usr/bin/python3.X -- tests/integration -m
   "not network"``: 3.X is the tests' own (target) interpreter, NATIVE_CHECK_TEST_PYTHONS
   naming the other one as their second. JUnit XML: build/native-check-work/newer-pythons/.
4. wheels-3.X: ``pip download --only-binary=:all: --python-version 3.X --platform
   manylinux_2_39_x86_64`` of real wheels (cryptography, numpy, orjson, ...), then
   ``nox -s check_native -P /usr/bin/python3.X`` on that folder; the step fails unless every
   wheel passed and ``cryptography.hazmat.bindings._rust`` imported (status ok).

Every step inside the root runs as its ordinary user (uid 1000), never as root. Each step's
time and result is printed and written to build/native-check-work/newer-pythons.json. Needs
root privileges (mmdebstrap, chroot, mounts); see docs/development.md.
"""

from __future__ import annotations

import argparse
import functools
import json
import shutil
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rootfs import USER, RootError, RootSpec, build_root, copy_checkout, run_in_root

PROJECT = Path(__file__).resolve().parents[1]
WORK = PROJECT / "build" / "native-check-work"
ROOT_DIR = WORK / "roots" / "sid-amd64"
OUT = WORK / "newer-pythons"
PYTHONS = ("3.14", "3.15")
SPEC = RootSpec(
    suite="sid",
    arch="amd64",
    packages=(
        *(f"python{v}{part}" for v in PYTHONS for part in ("", "-venv", "-dev", "-tk")),
        "gcc",
        "libc6-dev",
        "ca-certificates",
    ),
    allow_expired=True,
)
# Real wheels with cp314/cp315 builds (or abi3 ones that install there); their dependencies
# (cffi, pycparser) come along.
WHEELS = ("cryptography", "numpy", "orjson", "pyyaml", "markupsafe", "msgpack", "psutil",
          "zstandard")  # fmt: skip
REQUIRED = "cryptography"
MUST_IMPORT = ("cryptography.hazmat.bindings._rust",)
# The wheel of REQUIRED that pip must pick for a Python: 3.15's is the free-threading-ready
# stable ABI one (PEP 803), whose module exports only PyModExport_* (PEP 793).
REQUIRED_TAG = {"3.15": "-cp315-abi3.abi3t-"}
# pip takes each --platform as given (no older manylinux implied): sid's glibc 2.39 and every
# older manylinux a wheel may carry.
PLATFORM_TAGS = (
    *(f"manylinux_2_{minor}_x86_64" for minor in range(39, 16, -1)),
    "manylinux2014_x86_64",
)
HOME = f"/home/{USER}"
ENV = {
    "UV_PYTHON_DOWNLOADS": "never",
    "SSL_CERT_FILE": "/etc/ssl/certs/ca-certificates.crt",
    "PIP_CERT": "/etc/ssl/certs/ca-certificates.crt",
    "PIP_DISABLE_PIP_VERSION_CHECK": "1",
}


class StepFailed(Exception):
    """A step ran but its result is wrong: the message says what."""


def _home(*parts: str) -> Path:
    return ROOT_DIR / HOME.lstrip("/") / Path(*parts)


def _env(version: str, **extra: str) -> dict[str, str]:
    path = f"{HOME}/tools-{version}/bin:/usr/local/bin:/usr/bin:/bin"
    return {**ENV, "PATH": path, **extra}


def setup() -> None:
    copy_checkout(PROJECT, _home("project"))
    for version in PYTHONS:
        tools = f"{HOME}/tools-{version}"
        if _home(f"tools-{version}", "bin", "nox").exists():
            continue
        run_in_root(ROOT_DIR, [f"/usr/bin/python{version}", "-m", "venv", tools], env=ENV)
        pip = [f"{tools}/bin/python", "-m", "pip", "install", "--quiet", "--upgrade"]
        run_in_root(ROOT_DIR, [*pip, "pip"], env=ENV)
        run_in_root(ROOT_DIR, [*pip, "uv", "nox"], env=ENV)


def _junit_counts(path: Path) -> dict[str, int]:
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for suite in suites:
        for key in counts:
            counts[key] += int(suite.get(key, "0"))
    counts["passed"] = counts["tests"] - counts["failures"] - counts["errors"] - counts["skipped"]
    return counts


def tests(version: str) -> dict[str, Any]:
    """The integration tests with ``version`` as their own interpreter; JUnit counts."""
    other = next(v for v in PYTHONS if v != version)
    xml = f"{HOME}/junit-{version}.xml"
    # --force-python: the tests session (python=None) makes its venv with this Python, not
    # with whichever one uv finds first.
    command = [
        "nox", "-s", "tests", "--force-python", f"/usr/bin/python{version}", "--",
        "tests/integration", "-m", "not network", "-p", "no:cacheprovider", f"--junitxml={xml}",
    ]  # fmt: skip
    env = _env(
        version, NATIVE_CHECK_NETWORK_TESTS="0", NATIVE_CHECK_TEST_PYTHONS=f"/usr/bin/python{other}"
    )
    code = run_in_root(ROOT_DIR, command, cwd=f"{HOME}/project", env=env, check=False)
    OUT.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {"exit": code}
    junit = _home(f"junit-{version}.xml")
    if junit.is_file():
        shutil.copy2(junit, OUT / junit.name)
        result.update(_junit_counts(junit))
    if code != 0:
        raise StepFailed(f"tests under {version}: exit {code} {result}")
    return result


def _verdicts(report: dict[str, Any]) -> dict[str, Any]:
    wheels = {w["wheel"]: w["status"] for w in report.get("wheels", [])}
    modules = {
        m["module"]: m["status"] for w in report.get("wheels", []) for m in w.get("modules", [])
    }
    return {"exit": report.get("exit_code"), "wheels": wheels, "modules": modules}


def wheels(version: str) -> dict[str, Any]:
    """Download real wheels for ``version`` and check them with it as the target."""
    folder, reports = f"{HOME}/wheels-{version}", f"{HOME}/report-{version}"
    shutil.rmtree(_home(f"wheels-{version}"), ignore_errors=True)
    shutil.rmtree(_home(f"report-{version}"), ignore_errors=True)
    download = [
        "pip", "download", "--quiet", "--only-binary=:all:", "--python-version", version,
        *(f"--platform={tag}" for tag in PLATFORM_TAGS), "--dest", folder,
    ]  # fmt: skip
    # One project at a time: one without a wheel for this Python is noted, not fatal.
    absent = [
        project
        for project in WHEELS
        if run_in_root(ROOT_DIR, [*download, project], env=_env(version), check=False) != 0
    ]
    if REQUIRED in absent:
        raise StepFailed(f"no {REQUIRED} wheel for {version} on PyPI")
    check = ["nox", "-s", "check_native", "-P", f"/usr/bin/python{version}"]
    env = _env(version, NATIVE_CHECK_PACKAGES=folder, NATIVE_CHECK_REPORT_DIR=reports)
    code = run_in_root(ROOT_DIR, check, cwd=f"{HOME}/project", env=env, check=False)
    report_file = _home(f"report-{version}", "report.json")
    if not report_file.is_file():
        raise StepFailed(f"check_native under {version}: exit {code}, no {report_file}")
    OUT.mkdir(parents=True, exist_ok=True)
    shutil.copy2(report_file, OUT / f"report-{version}.json")
    result = _verdicts(json.loads(report_file.read_text(encoding="utf-8")))
    result["check_native_exit"] = code
    result["no_wheel"] = absent
    failed = {w: s for w, s in result["wheels"].items() if s != "passed"}
    missing = {m: result["modules"].get(m) for m in MUST_IMPORT if result["modules"].get(m) != "ok"}
    tag = REQUIRED_TAG.get(version, "")
    if not any(w.startswith(f"{REQUIRED}-") and tag in w for w in result["wheels"]):
        missing[f"{REQUIRED} wheel{tag}"] = "absent"
    if code != 0 or failed or missing or not result["wheels"]:
        raise StepFailed(
            f"wheels under {version}: exit {code}, not passed {failed}, not imported {missing}"
        )
    return result


def _short(entry: dict[str, Any]) -> str:
    result = entry["result"]
    if isinstance(result, dict) and "wheels" in result:
        statuses = list(result["wheels"].values())
        return f"{statuses.count('passed')}/{len(statuses)} wheels passed"
    if isinstance(result, dict):
        return ", ".join(f"{k} {v}" for k, v in result.items())
    return str(result)


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rebuild", action="store_true", help="build the root again")
    parser.add_argument("--skip-tests", action="store_true", help="only the wheel checks")
    args = parser.parse_args(argv)
    if args.rebuild:
        shutil.rmtree(ROOT_DIR, ignore_errors=True)
    steps: list[tuple[str, Callable[[], object]]] = [
        ("root", lambda: build_root(ROOT_DIR, SPEC, log=ROOT_DIR.with_suffix(".log"))),
        ("setup", setup),
    ]
    for version in PYTHONS:
        if not args.skip_tests:
            steps.append((f"tests-{version}", functools.partial(tests, version)))
        steps.append((f"wheels-{version}", functools.partial(wheels, version)))
    record: dict[str, dict[str, Any]] = {}
    code = 0
    for name, step in steps:
        start = time.monotonic()
        print(f"newer_pythons: {name} ...", flush=True)
        entry: dict[str, Any] = {}
        try:
            outcome = step()
            entry["result"] = outcome if isinstance(outcome, dict) else "ok"
        except StepFailed as error:  # the step ran: go on with the others, fail at the end
            print(f"newer_pythons: {name} failed: {error}", file=sys.stderr)
            entry["result"] = f"failed: {error}"
            code = 1
        except (RootError, OSError) as error:  # the next steps cannot run
            print(f"newer_pythons: {name} failed: {error}", file=sys.stderr)
            entry["result"] = f"failed: {error}"
            code = 1
            entry["seconds"] = round(time.monotonic() - start, 1)
            record[name] = entry
            break
        entry["seconds"] = round(time.monotonic() - start, 1)
        record[name] = entry
        print(f"newer_pythons: {name} took {entry['seconds']:.0f}s: {_short(entry)}", flush=True)
    WORK.mkdir(parents=True, exist_ok=True)
    (WORK / "newer-pythons.json").write_text(json.dumps(record, indent=1), encoding="utf-8")
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
