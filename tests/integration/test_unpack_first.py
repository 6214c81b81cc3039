"""The largest wheel unpacked into uv's cache by a uv process of its own while the set venv
installs (checker.setcheck.unpack), with gcc-built wheels and real uv: the wheel lands in
the cache, the throw-away folder is removed, a wheel uv refuses costs nothing but a log line,
and the set check finds the same with and without it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from checker.atomic import finish_removals
from checker.probe.install import find_uv, unpack_into_cache
from checker.setcheck import unpack
from checker.setcheck.job import check_set
from checker.wheel.discover import discover
from tests.integration.conftest import build_context
from tests.support.wheelbuild import (
    NEEDS_GCC_ON_LINUX,
    PythonBuild,
    compile_shared,
    make_wheel,
    module_source,
    python_build,
)

pytestmark = [pytest.mark.integration, NEEDS_GCC_ON_LINUX]


@pytest.fixture(scope="module")
def build() -> PythonBuild:
    return python_build(Path(sys.executable))


def _folder(tmp: Path, build: PythonBuild) -> Path:
    """An extension wheel (the larger) and a pure one."""
    folder = tmp / "packages"
    ext = compile_shared(build, module_source("_first"), tmp / "src" / f"_first{build.ext_suffix}")
    files: dict[str, bytes | str] = {
        "nicfirst/__init__.py": "",
        f"nicfirst/_first{build.ext_suffix}": ext,
    }
    make_wheel(folder, "nicfirst", "1.0", files, tag=build.tag)
    make_wheel(folder, "nicsecond", "1.0", {"nicsecond/__init__.py": "X = 1\n"})
    return folder


def test_the_wheel_lands_in_uvs_cache_and_the_scratch_folder_goes(
    tmp_path: Path, build: PythonBuild, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _folder(tmp_path, build)
    cache = tmp_path / "uv-cache"
    monkeypatch.setenv("UV_CACHE_DIR", str(cache))
    (wheel,) = folder.glob("nicfirst-*.whl")
    scratch = tmp_path / "work" / "set-unpack"
    assert unpack_into_cache(find_uv(), Path(sys.executable), wheel, scratch) == "unpacked"
    finish_removals()
    assert not scratch.exists()
    assert list(cache.rglob(f"_first{build.ext_suffix}"))  # unpacked where uv links from
    # In the cache now: uv's dry run says so, and nothing is installed or unpacked again.
    assert unpack_into_cache(find_uv(), Path(sys.executable), wheel, scratch) == "cached"
    assert not scratch.exists()


def test_a_wheel_uv_refuses_is_only_logged(
    tmp_path: Path, build: PythonBuild, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "packages"
    # Built for no interpreter that exists: uv will not install it.
    foreign = make_wheel(
        folder, "nicforeign", "1.0", {"nicforeign/__init__.py": ""}, tag="cp99-cp99-win_arm64"
    )
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv-cache"))
    scratch = tmp_path / "work" / "set-unpack"
    assert unpack_into_cache(find_uv(), Path(sys.executable), foreign, scratch) == "failed"
    finish_removals()
    assert not scratch.exists()


def test_only_a_wheel_of_min_bytes_or_more_is_worth_it(
    tmp_path: Path, build: PythonBuild, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _folder(tmp_path, build)
    wheels = sorted(folder.glob("*.whl"))
    assert unpack.largest(wheels) is None  # both far below 64 MiB
    monkeypatch.setattr(unpack, "MIN_BYTES", 0)
    (largest,) = folder.glob("nicfirst-*.whl")
    assert unpack.largest(wheels) == largest
    assert unpack.largest([]) is None


def test_the_set_check_unpacks_the_largest_first_and_finds_the_same(
    tmp_path: Path, build: PythonBuild, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _folder(tmp_path, build)
    monkeypatch.setattr(unpack, "MIN_BYTES", 0)
    one = build_context(tmp_path / "one", folder, {"NATIVE_CHECK_JOBS": "1"})
    alone = check_set(one, discover(folder))
    assert "unpacked_first" not in alone.details  # no cores to spare
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv-cache"))  # cold: uv unpacks anew
    ctx = build_context(tmp_path / "two", folder, {"NATIVE_CHECK_JOBS": "2"})
    first = check_set(ctx, discover(folder))
    (largest,) = folder.glob("nicfirst-*.whl")
    assert first.details["unpacked_first"] == {"wheel": largest.name, "uv": "unpacked"}
    assert first.findings == alone.findings == ()
    assert first.details["modules"] == alone.details["modules"] == 1
    assert first.details["co_installed"]
    finish_removals()
    assert not list((ctx.settings.work_dir / "set").rglob("*-unpack"))
