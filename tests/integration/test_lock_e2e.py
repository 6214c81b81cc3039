"""End to end: integrity and packages.lock checks through the real ``nox`` (no network)."""

from __future__ import annotations

import shutil
import sys
import zipfile
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from checker.runs.pin import pin_folder
from checker.wheel.lock import Lock, dumps_lock, write_lock
from tests.integration.test_nox_e2e import SCHEMA
from tests.support.locks import (
    exact_variant,
    flip_middle_byte,
    minor_variant,
    rewrite_members,
    this_platform,
)
from tests.support.noxrun import run_nox
from tests.support.wheelbuild import extension_wheel, make_wheel, module_source, python_build

pytestmark = pytest.mark.integration

EXT = "niclock-1.0"  # session id of the extension wheel
PLAIN = "nicplain-1.0"  # session id of the pure-Python wheel


def _wheel(report: dict[str, Any], prefix: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [w for w in report["wheels"] if w["wheel"].startswith(prefix)]
    assert len(found) == 1, [w["wheel"] for w in report["wheels"]]
    return found[0]


def _venv(tmp: Path, session_id: str) -> Path:
    """Where a probe session creates the wheel's venvs (run_nox's NATIVE_CHECK_WORK_DIR):
    ``venvs/{session}/{sha prefix}``."""
    return tmp / "work" / "venvs" / session_id


def _validate(report: dict[str, Any]) -> None:
    jsonschema.validate(report, SCHEMA)


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A gcc extension wheel, a rebuild of it with other bytes, a pure wheel and an extra one."""
    root = tmp_path_factory.mktemp("lock-e2e")
    build = python_build(Path(sys.executable))
    made = {}
    for key, body in (("ext", ""), ("ext-rebuilt", "int nic_rebuilt = 1; (void)nic_rebuilt;")):
        made[key] = extension_wheel(
            root / key,
            build,
            "niclock",
            {"niclock/_core": module_source("_core", body)},
            workdir=root / "build" / key,
            pure={"niclock/__init__.py": ""},
        )
    made["plain"] = make_wheel(root / "plain", "nicplain", "1.0", {"nicplain.py": "X = 1\n"})
    made["extra"] = make_wheel(root / "extra", "nicextra", "1.0", {"nicextra.py": "Y = 2\n"})
    assert made["ext"].name == made["ext-rebuilt"].name
    assert made["ext"].read_bytes() != made["ext-rebuilt"].read_bytes()
    return made


@pytest.fixture
def locked(tmp_path: Path, wheels: dict[str, Path]) -> tuple[Path, dict[str, str]]:
    """A folder of the extension and the pure wheel, pinned (python-X.Y) in a tmp lock."""
    packages = tmp_path / "packages"
    packages.mkdir()
    for key in ("ext", "plain"):
        shutil.copy2(wheels[key], packages)
    lock_path = tmp_path / "packages.lock"
    write_lock(lock_path, Lock((), (pin_folder(packages, minor_variant(), this_platform()),)))
    return packages, {"NATIVE_CHECK_LOCK": str(lock_path)}


# --- integrity: never installed ----------------------------------------------------------


def test_extension_modified_after_build_is_never_installed(
    tmp_path: Path, wheels: dict[str, Path]
) -> None:
    packages = tmp_path / "packages"
    packages.mkdir()
    shutil.copy2(wheels["plain"], packages)
    tampered = Path(shutil.copy2(wheels["ext"], packages))
    build = python_build(Path(sys.executable))
    member = "niclock/_core" + build.ext_suffix
    with zipfile.ZipFile(tampered) as archive:
        original = archive.read(member)
    rewrite_members(tampered, {member: flip_middle_byte(original)})
    env = {"NATIVE_CHECK_LOCK": str(tmp_path / "no.lock")}

    code, output, report = run_nox(tmp_path, packages, "-s", "check_native", env=env)

    assert code == 1, output
    assert report is not None
    _validate(report)
    wheel = _wheel(report, "niclock-")
    assert (wheel["status"], wheel["install"]) == ("failed", "skipped")
    assert [(f["kind"], f["file"]) for f in wheel["findings"]] == [("integrity", member)]
    assert "does not match its RECORD hash" in wheel["findings"][0]["error"]
    assert [(m["module"], m["status"], m["kind"]) for m in wheel["modules"]] == [
        ("niclock._core", "skipped", "not-installed")
    ]
    assert _wheel(report, "nicplain-")["status"] == "passed"
    assert "integrity: [integrity]" in output and "'niclock/_core" in output
    # The untouched wheel has nothing to import (resolved, no venv); the tampered one never
    # had one.
    assert _wheel(report, "nicplain-")["install"] == "resolved"
    assert not _venv(tmp_path, PLAIN).exists()
    assert not _venv(tmp_path, EXT).exists()
    assert not list((tmp_path / "work").rglob("_core*"))


def test_member_escaping_the_install_folder_writes_nothing_outside(tmp_path: Path) -> None:
    outside = [tmp_path.parent / "x", tmp_path.parent.parent / "x", tmp_path / "x"]
    before = {p: p.exists() and p.stat().st_mtime_ns for p in outside}
    packages = tmp_path / "packages"
    # "../../x" is listed in RECORD with its true hash: only the path check can refuse it.
    escape = make_wheel(
        packages,
        "nicescape",
        "1.0",
        {"nicescape/__init__.py": "", "../../x": b"written outside\n"},
    )
    with zipfile.ZipFile(escape) as archive:
        assert "../../x" in archive.namelist()
        assert "../../x," in archive.read("nicescape-1.0.dist-info/RECORD").decode()
    env = {"NATIVE_CHECK_LOCK": str(tmp_path / "no.lock")}

    code, output, report = run_nox(tmp_path, packages, "-s", "check_native", env=env)

    assert code == 1, output
    assert report is not None
    _validate(report)
    wheel = _wheel(report, "nicescape-")
    assert (wheel["status"], wheel["install"]) == ("failed", "skipped")
    unsafe = [f for f in wheel["findings"] if f["file"] == "../../x"]
    assert unsafe and {f["kind"] for f in unsafe} == {"integrity"}
    assert "'../../x'" in unsafe[0]["error"] and "escapes" in unsafe[0]["error"]
    assert {p: p.exists() and p.stat().st_mtime_ns for p in outside} == before
    assert not [p for p in tmp_path.rglob("x") if p.is_file()]
    assert not _venv(tmp_path, "nicescape-1.0").exists()


# --- packages.lock through nox -----------------------------------------------------------


def test_folder_as_pinned_passes(tmp_path: Path, locked: tuple[Path, dict[str, str]]) -> None:
    packages, env = locked
    code, output, report = run_nox(tmp_path, packages, "-s", "check_native", env=env)
    assert code == 0, output
    assert report is not None
    _validate(report)
    # The run's variant is python-X.Y.Z; the lock's python-X.Y set applied (fallback).
    assert report["variant"] == exact_variant()
    assert report["summary"] == {"passed": 2, "failed": 0, "whitelisted": 0, "total": 2}
    assert [f for w in report["wheels"] for f in w["findings"]] == []
    assert {m["module"]: m["status"] for w in report["wheels"] for m in w["modules"]} == {
        "niclock._core": "ok"
    }


def test_unpinned_wheel_is_lock_extra(
    tmp_path: Path, locked: tuple[Path, dict[str, str]], wheels: dict[str, Path]
) -> None:
    packages, env = locked
    shutil.copy2(wheels["extra"], packages)
    code, output, report = run_nox(tmp_path, packages, "-s", "check_native", env=env)
    assert code == 1, output
    assert report is not None
    _validate(report)
    extra = _wheel(report, "nicextra-")
    assert extra["status"] == "failed"
    assert [(f["module"], f["kind"], f["file"]) for f in extra["findings"]] == [
        ("lock", "lock-extra", wheels["extra"].name)
    ]
    assert f"({minor_variant()}, {this_platform()})" in extra["findings"][0]["error"]
    assert report["summary"]["passed"] == 2 and report["summary"]["failed"] == 1
    assert "lock-extra" in output


def test_rebuilt_wheel_with_the_same_name_is_lock_changed_and_never_installed(
    tmp_path: Path, locked: tuple[Path, dict[str, str]], wheels: dict[str, Path]
) -> None:
    packages, env = locked
    shutil.copy2(wheels["ext-rebuilt"], packages / wheels["ext"].name)
    code, output, report = run_nox(tmp_path, packages, "-s", "check_native", env=env)
    assert code == 1, output
    assert report is not None
    _validate(report)
    changed = _wheel(report, "niclock-")
    assert (changed["status"], changed["install"]) == ("failed", "skipped")
    assert [(f["kind"], f["file"]) for f in changed["findings"]] == [
        ("lock-changed", wheels["ext"].name)
    ]
    assert wheels["ext"].name in changed["findings"][0]["error"]
    assert [(m["module"], m["status"], m["kind"]) for m in changed["modules"]] == [
        ("niclock._core", "skipped", "not-installed")
    ]
    assert _wheel(report, "nicplain-")["status"] == "passed"
    assert _wheel(report, "nicplain-")["install"] == "resolved"  # nothing to import, no venv
    assert not _venv(tmp_path, EXT).exists()


def test_deleted_pinned_wheel_is_lock_missing(
    tmp_path: Path, locked: tuple[Path, dict[str, str]], wheels: dict[str, Path]
) -> None:
    packages, env = locked
    (packages / wheels["plain"].name).unlink()
    code, output, report = run_nox(tmp_path, packages, "-s", "check_native", env=env)
    assert code == 1, output
    assert report is not None
    _validate(report)
    missing = _wheel(report, "nicplain-")
    assert missing["wheel"] == wheels["plain"].name
    assert missing["status"] == "failed"
    assert [(f["module"], f["kind"], f["file"]) for f in missing["findings"]] == [
        ("lock", "lock-missing", wheels["plain"].name)
    ]
    assert "missing from" in missing["findings"][0]["error"]
    assert wheels["plain"].name in missing["findings"][0]["error"]
    assert _wheel(report, "niclock-")["status"] == "passed"
    assert "lock-missing" in output


# --- nox -s lock -------------------------------------------------------------------------


def test_lock_session_pins_the_folder_byte_stably(
    tmp_path: Path, locked: tuple[Path, dict[str, str]]
) -> None:
    packages, _env = locked
    lock_path = tmp_path / "out" / "packages.lock"
    env = {"NATIVE_CHECK_LOCK": str(lock_path)}

    code, output, _ = run_nox(tmp_path, packages, "-s", "lock", env=env)
    assert code == 0, output
    first = lock_path.read_bytes()
    expected = Lock((), (pin_folder(packages, exact_variant(), this_platform()),))
    assert first.decode() == dumps_lock(expected)

    lock_path.unlink()  # a second write from scratch, not the "up to date" shortcut
    code, output, _ = run_nox(tmp_path, packages, "-s", "lock", env=env)
    assert code == 0, output
    assert lock_path.read_bytes() == first

    code, output, _ = run_nox(tmp_path, packages, "-s", "lock", env=env)
    assert code == 0, output
    assert "up to date" in output
    assert lock_path.read_bytes() == first
    assert sorted(p.name for p in lock_path.parent.iterdir()) == ["packages.lock"]
