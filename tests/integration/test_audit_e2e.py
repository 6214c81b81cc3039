"""The static audit inside check_native and as `nox -s audit`, through real nox."""

from __future__ import annotations

import json
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.support.noxrun import run_nox
from tests.support.wheelbuild import compile_shared, make_wheel, module_source, python_build

pytestmark = pytest.mark.integration

# pthread_create is versioned GLIBC_2.34 by a modern glibc: newer than manylinux_2_17 allows.
NEW_GLIBC = module_source(
    "_thr",
    body="pthread_t t; if (pthread_create(&t, NULL, start, NULL) == 0) pthread_join(t, NULL);",
    prelude="#include <pthread.h>\nstatic void *start(void *arg) { return arg; }",
)


@pytest.fixture(scope="module")
def packages(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One wheel tagged manylinux_2_17 that needs GLIBC_2.34, one clean abi-specific wheel."""
    root = tmp_path_factory.mktemp("audit")
    build = python_build(Path(sys.executable))
    machine = platform.machine()
    tag = f"cp{build.version}-cp{build.version}-manylinux_2_17_{machine}"
    ext = compile_shared(
        build, NEW_GLIBC, root / "b" / f"_thr{build.ext_suffix}", args=["-lpthread"]
    )
    folder = root / "packages"
    files: dict[str, bytes | str] = {
        f"nicthr/_thr{build.ext_suffix}": ext,
        "nicthr/__init__.py": "",
    }
    make_wheel(folder, "nicthr", "1.0", files, tag=tag)
    clean = compile_shared(build, module_source("_ok"), root / "c" / f"_ok{build.ext_suffix}")
    files = {f"nicok/_ok{build.ext_suffix}": clean, "nicok/__init__.py": ""}
    make_wheel(folder, "nicok", "1.0", files, tag=tag)
    return folder


def _static(report: dict[str, Any], project: str) -> list[dict[str, str]]:
    wheels = [w for w in report["wheels"] if w["project"] == project]
    return [f for f in wheels[0]["findings"] if f["stage"] == "static"]


def test_check_native_fails_a_wheel_whose_glibc_is_newer_than_its_tag(
    packages: Path, tmp_path: Path
) -> None:
    code, output, report = run_nox(tmp_path, packages, "-s", "check_native")
    assert report is not None, output
    if not _static(report, "nicthr"):
        pytest.skip("this glibc does not version pthread_create newer than 2.17")
    assert code == 1, output
    (finding,) = _static(report, "nicthr")
    assert finding["kind"] == "symbol-version" and finding["module"] == "nicthr._thr"
    assert "pthread_create" in finding["error"] and "GLIBC_2." in finding["error"]
    # The import itself works on this runner: only the static audit fails the wheel.
    modules = {m["module"]: m["status"] for w in report["wheels"] for m in w["modules"]}
    assert modules["nicthr._thr"] == "ok"
    assert _static(report, "nicok") == []
    audit = next(w for w in report["wheels"] if w["project"] == "nicok")["details"]["audit"]
    (binary,) = audit["binaries"]
    assert {link["how"] for link in binary["links"]} <= {"system", "bundled", "python"}
    assert all(link["resolved"] for link in binary["links"])


def test_static_findings_are_whitelistable_by_module(packages: Path, tmp_path: Path) -> None:
    whitelist = tmp_path / "wl.json"
    whitelist.write_text(json.dumps({"nicthr-*.whl": {"nicthr._thr": "GLIBC_2."}}))
    env = {"NATIVE_CHECK_WHITELIST": str(whitelist)}
    code, output, report = run_nox(tmp_path, packages, "-s", "check_native", env=env)
    assert report is not None, output
    if not _static(report, "nicthr"):
        pytest.skip("this glibc does not version pthread_create newer than 2.17")
    assert code == 0, output
    assert _static(report, "nicthr")[0]["status"] == "whitelisted"


def test_audit_session_installs_nothing_and_reports_the_same_schema(
    packages: Path, tmp_path: Path
) -> None:
    foreign = tmp_path / "packages"
    foreign.mkdir()
    for wheel in packages.iterdir():
        (foreign / wheel.name).write_bytes(wheel.read_bytes())
    # A wheel for another platform: audited, never installed.
    make_wheel(foreign, "nicwin", "1.0", {"nicwin/__init__.py": ""}, tag="cp311-cp311-win_amd64")
    code, output, report = run_nox(tmp_path, foreign, "-s", "audit")
    assert report is not None, output
    schema = json.loads(
        (Path(__file__).resolve().parents[2] / "checker/data/report.schema.json").read_text()
    )
    jsonschema.validate(report, schema)
    assert {w["install"] for w in report["wheels"]} == {"skipped"}
    assert not (tmp_path / "work" / "venvs").exists()
    assert code == (1 if report["summary"]["failed"] else 0)
    assert {w["project"] for w in report["wheels"]} == {"nicthr", "nicok", "nicwin"}


PILLOW_PLATFORMS = (
    "macosx_11_0_arm64",
    "win_amd64",
    "musllinux_1_2_x86_64",
    "manylinux_2_28_aarch64",
)


@pytest.mark.network
def test_pillow_wheels_of_four_platforms_audit_clean(tmp_path: Path) -> None:
    """Issue 4's acceptance: Pillow 13.0.0 for four platforms, every library resolved."""
    folder = tmp_path / "packages"
    for platform_tag in PILLOW_PLATFORMS:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
             "--only-binary=:all:", "--platform", platform_tag, "--python-version", "3.12",
             "--dest", str(folder), "pillow==13.0.0"],
            check=True,
        )  # fmt: skip
    code, output, report = run_nox(tmp_path, folder, "-s", "audit")
    assert code == 0, output
    assert report is not None
    assert report["summary"] == {"passed": 4, "failed": 0, "whitelisted": 0, "total": 4}
    for wheel in report["wheels"]:
        binaries = wheel["details"]["audit"]["binaries"]
        links = [link for binary in binaries for link in binary["links"]]
        assert binaries and links, wheel["wheel"]
        assert all(link["name"] and link["resolved"] for link in links), wheel["wheel"]
        assert {link["how"] for link in links} <= {"bundled", "system", "python"}
