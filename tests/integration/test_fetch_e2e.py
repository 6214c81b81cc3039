"""Fetching pinned wheels from PyPI: verified before kept, and a fresh clone's default run."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from checker.errors import SetupError
from checker.runs.pin import fetch_pinned
from checker.wheel.fragment import sha256_file
from checker.wheel.lock import Lock, LockedSet, LockedWheel, locked_wheel, write_lock
from tests.support.locks import minor_variant, this_platform

pytestmark = [pytest.mark.integration, pytest.mark.network]

ROOT = Path(__file__).resolve().parents[2]
WRONG_SHA = "0123456789abcdef" * 4


def _pip() -> list[str]:
    if importlib.util.find_spec("pip") is None:
        pytest.skip("pip is not importable by this interpreter")
    return [sys.executable, "-m", "pip"]


def _download(dest: Path, *requirements: str) -> list[Path]:
    """Real wheels for this interpreter, binary only, without dependencies."""
    dest.mkdir(parents=True, exist_ok=True)
    command = [*_pip(), "download", "--quiet", "--no-deps", "--only-binary=:all:"]
    subprocess.run([*command, "--dest", str(dest), *requirements], check=True)
    return sorted(dest.glob("*.whl"))


@pytest.fixture(scope="module")
def real_wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, LockedWheel]:
    """six (py2.py3-none-any) and markupsafe (native, this Python), hashed as pinned."""
    paths = _download(tmp_path_factory.mktemp("pypi"), "six==1.16.0", "markupsafe")
    pinned = {wheel.project: wheel for wheel in map(locked_wheel, paths)}
    assert set(pinned) == {"six", "markupsafe"}
    assert pinned["six"].file == "six-1.16.0-py2.py3-none-any.whl"
    return pinned


def _pinned(*wheels: LockedWheel) -> LockedSet:
    return LockedSet(minor_variant(), this_platform(), wheels)


def test_wrong_hash_keeps_nothing(tmp_path: Path, real_wheels: dict[str, LockedWheel]) -> None:
    real = real_wheels["six"]
    wrong = LockedWheel(real.file, real.project, real.version, WRONG_SHA, real.size)
    packages = tmp_path / "repo" / "packages"

    with pytest.raises(SetupError) as info:
        fetch_pinned(_pip(), _pinned(wrong), packages)

    message = str(info.value)
    assert real.file in message
    assert real.sha256 in message and WRONG_SHA in message
    assert list(packages.iterdir()) == []
    assert [p.name for p in (tmp_path / "repo").iterdir()] == ["packages"]  # no staging left


def test_right_hashes_are_fetched_and_verified(
    tmp_path: Path, real_wheels: dict[str, LockedWheel]
) -> None:
    packages = tmp_path / "repo" / "packages"
    locked = _pinned(real_wheels["markupsafe"], real_wheels["six"])

    fetched = fetch_pinned(_pip(), locked, packages)

    assert sorted(fetched) == sorted(w.file for w in locked.wheels)
    assert sorted(p.name for p in packages.iterdir()) == sorted(fetched)
    for wheel in locked.wheels:
        assert sha256_file(packages / wheel.file) == (wheel.sha256, wheel.size)
    assert [p.name for p in (tmp_path / "repo").iterdir()] == ["packages"]
    assert fetch_pinned(_pip(), locked, packages) == []  # present wheels are not fetched again


def _copy_checkout(target: Path) -> None:
    """The repository's files as a clone would have them (tracked and not ignored)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


def test_fresh_clone_fetches_and_checks_the_pinned_set(tmp_path: Path) -> None:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    if (Path(sys.executable).resolve().parent.parent / "packages").exists():
        pytest.skip("this interpreter has a packages folder beside it (the default)")
    clone = tmp_path / "clone"
    _copy_checkout(clone)
    assert (clone / "noxfile.py").is_file()
    shutil.rmtree(clone / "packages", ignore_errors=True)
    wheels = [locked_wheel(p) for p in _download(tmp_path / "pypi", "markupsafe", "pyyaml")]
    assert len(wheels) == 2
    files = sorted(w.file for w in wheels)
    write_lock(clone / "packages.lock", Lock(("markupsafe", "pyyaml"), (_pinned(*wheels),)))

    report_dir = tmp_path / "report"
    environ = {k: v for k, v in os.environ.items() if not k.startswith("NATIVE_CHECK_")}
    environ.update(
        {
            "NATIVE_CHECK_REPORT_DIR": str(report_dir),
            "NATIVE_CHECK_WORK_DIR": str(tmp_path / "work"),
            "UV_PYTHON_DOWNLOADS": "never",
            # The project's default set, which the default folder must satisfy (the set
            # check resolves it): the one this lock was pinned from.
            "NATIVE_CHECK_REQUIREMENTS": "markupsafe,pyyaml",
        }
    )
    command = [sys.executable, "-m", "nox", "-f", str(clone / "noxfile.py")]
    command += ["--envdir", str(tmp_path / "nox-envs"), "-s", "check_native"]
    proc = subprocess.run(
        command, capture_output=True, text=True, env=environ, cwd=tmp_path, check=False
    )
    output = proc.stdout + proc.stderr

    assert proc.returncode == 0, output
    assert sorted(p.name for p in (clone / "packages").iterdir()) == files
    for wheel in wheels:
        assert sha256_file(clone / "packages" / wheel.file) == (wheel.sha256, wheel.size)
    assert not list(clone.glob(".fetch-*"))
    report = json.loads((report_dir / "report.json").read_text())
    assert sorted(w["wheel"] for w in report["wheels"]) == files
    assert {w["status"] for w in report["wheels"]} == {"passed"}
    modules = {m["module"]: m["status"] for w in report["wheels"] for m in w["modules"]}
    assert modules.get("markupsafe._speedups") == "ok"
    assert modules.get("yaml._yaml") == "ok"
    assert "Session fetch was successful" in output
