"""Static facts computed in a child process (checker.probe.static_apart), with a gcc-built
wheel installed by real uv: the child's facts are the ones this process computes, a wheel a
probe is computing is left to it, and a child that fails costs only time."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import pytest

from checker.config.context import RunContext
from checker.probe import static_apart
from checker.probe.install import find_uv, install_together, installed_files
from checker.probe.static_apart import Job, compute_apart
from checker.probe.static_facts import claim, compute_static_facts, is_known, run_static_facts
from checker.setcheck.job import check_set
from checker.wheel.contents import WheelContents, open_wheel
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
    """Two wheels: an extension with a helper library beside it, and a pure one."""
    folder = tmp / "packages"
    ext = compile_shared(build, module_source("_ext"), tmp / "src" / f"_ext{build.ext_suffix}")
    helper = compile_shared(build, "int helper(void) { return 1; }\n", tmp / "src" / "libh.so")
    files: dict[str, bytes | str] = {
        "nicapart/__init__.py": "",
        f"nicapart/_ext{build.ext_suffix}": ext,
        "nicapart/libh.so": helper,
        "nicapart/data.txt": "abc",
    }
    make_wheel(folder, "nicapart", "1.0", files, tag=build.tag)
    make_wheel(folder, "nicplain", "1.0", {"nicplain/__init__.py": "X = 1\n"})
    return folder


def _installed(ctx: RunContext, folder: Path) -> Path:
    python, reason = install_together(
        find_uv(), ctx.interpreter, ctx.settings.work_dir / "v", sorted(folder.glob("*.whl")),
        folder,
    )  # fmt: skip
    assert python is not None, reason
    return python


def _installed_wheel(tmp: Path, build: PythonBuild) -> tuple[RunContext, Path, Path]:
    """A context for ``_folder``, the venv with its wheels (its interpreter), the
    extension's wheel."""
    folder = _folder(tmp, build)
    ctx = build_context(tmp / "run", folder)
    python = _installed(ctx, folder)
    (wheel,) = folder.glob("nicapart-*.whl")
    return ctx, python, wheel


def _open(path: Path, python: Path) -> WheelContents:
    contents, findings = open_wheel(path)
    assert contents is not None, findings
    contents.store.use_installed(installed_files(contents, python))
    return contents


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_facts_computed_apart_are_the_ones_computed_here(
    tmp_path: Path, build: PythonBuild, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx, python, wheel = _installed_wheel(tmp_path, build)
    monkeypatch.setattr(static_apart, "MIN_BYTES", 0)
    with _open(wheel, python) as contents:
        assert compute_apart(ctx, [Job(contents, _sha(wheel), python)]) == {_sha(wheel)}
        assert contents.store.differing == set()
        lock = claim(_sha(wheel))  # released once the child said the wheel is done
        assert lock is not None
        lock.release()
        read = run_static_facts(ctx, contents, _sha(wheel))
    assert read.cached  # read back from the cache the child wrote
    with _open(wheel, python) as contents:
        here = compute_static_facts(contents, min_glibc=None)
    assert read.record == here.record == ()
    assert read.audit == here.audit
    assert dict(read.known_exports) == dict(here.known_exports)
    exports = read.known_exports[f"nicapart/_ext{build.ext_suffix}"]
    assert exports is not None and exports.inits == ("PyInit__ext",)
    # Known now: asked again, nothing is computed apart.
    with _open(wheel, python) as contents:
        assert compute_apart(ctx, [Job(contents, _sha(wheel), python)]) == set()


def test_an_installed_file_that_is_not_the_member_is_marked_differing(
    tmp_path: Path, build: PythonBuild, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx, python, wheel = _installed_wheel(tmp_path, build)
    (data,) = python.parent.parent.glob("lib/python*/site-packages/nicapart/data.txt")
    data.write_text("abd")  # same size, other bytes: as from a stale cache entry
    monkeypatch.setattr(static_apart, "MIN_BYTES", 0)
    with _open(wheel, python) as contents:
        assert compute_apart(ctx, [Job(contents, _sha(wheel), python)]) == {_sha(wheel)}
        assert contents.store.differing == {"nicapart/data.txt"}
        # The facts are the archive's: its member matches RECORD.
        assert run_static_facts(ctx, contents, _sha(wheel)).record == ()


def test_a_wheel_a_thread_is_computing_is_left_to_it(
    tmp_path: Path, build: PythonBuild, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx, python, wheel = _installed_wheel(tmp_path, build)
    monkeypatch.setattr(static_apart, "MIN_BYTES", 0)
    lock = claim(_sha(wheel))  # as a probe computing this content now
    assert lock is not None
    try:
        with _open(wheel, python) as contents:
            assert compute_apart(ctx, [Job(contents, _sha(wheel), python)]) == set()
    finally:
        lock.release()
    assert not is_known(ctx, _sha(wheel))


def test_too_little_to_compute_stays_in_this_process(tmp_path: Path, build: PythonBuild) -> None:
    ctx, python, wheel = _installed_wheel(tmp_path, build)
    assert wheel.stat().st_size < static_apart.MIN_BYTES
    with _open(wheel, python) as contents:
        assert compute_apart(ctx, [Job(contents, _sha(wheel), python)]) == set()
    assert not is_known(ctx, _sha(wheel))
    lock = claim(_sha(wheel))
    assert lock is not None  # every lock it took is released
    lock.release()


def test_the_set_check_with_probes_beside_it_computes_apart_and_finds_the_same(
    tmp_path: Path, build: PythonBuild, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _folder(tmp_path, build)
    one = build_context(tmp_path / "one", folder, {"NATIVE_CHECK_JOBS": "1"})
    alone = check_set(one, discover(folder))
    assert alone.details["static_facts"] == {"cached": 0, "computed": 2, "apart": 0}
    monkeypatch.setattr(static_apart, "MIN_BYTES", 0)
    ctx = build_context(tmp_path / "two", folder, {"NATIVE_CHECK_JOBS": "2"})
    beside = check_set(ctx, discover(folder))
    assert beside.details["static_facts"] == {"cached": 0, "computed": 2, "apart": 2}
    assert beside.findings == alone.findings == ()
    assert beside.details["modules"] == alone.details["modules"] == 1


def test_a_child_that_fails_costs_only_time(
    tmp_path: Path, build: PythonBuild, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _folder(tmp_path, build)
    monkeypatch.setattr(static_apart, "MIN_BYTES", 0)
    ctx = build_context(tmp_path / "run", folder, {"NATIVE_CHECK_JOBS": "2"})
    monkeypatch.setattr(sys, "executable", "/bin/false")  # the child exits 1, says nothing
    result = check_set(ctx, discover(folder))
    assert result.details["static_facts"] == {"cached": 0, "computed": 2, "apart": 0}
    assert result.findings == ()
    assert result.details["modules"] == 1
