"""Tests for checker.probe.static_facts: RECORD, audit and exports kept per wheel content."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pytest

from checker.probe.static_facts import StaticFacts, compute_static_facts, static_facts
from checker.wheel.contents import open_wheel
from tests.support.wheelbuild import (
    NEEDS_GCC,
    PythonBuild,
    compile_shared,
    make_wheel,
    module_source,
    python_build,
)

pytestmark = NEEDS_GCC


@pytest.fixture(scope="module")
def build() -> PythonBuild:
    build = python_build(Path(sys.executable))
    if not build.platform.startswith("linux-"):
        pytest.skip("needs a Linux build of Python")
    return build


def _wheel(tmp: Path, build: PythonBuild, *, broken_record: bool = False) -> Path:
    """A real extension (PyInit__ext), a helper library without PyInit and, optionally, a
    RECORD row that does not match."""
    ext = compile_shared(build, module_source("_ext"), tmp / "src" / "_ext.so")
    helper = compile_shared(build, "int helper(void) { return 1; }\n", tmp / "src" / "libhelper.so")
    overrides = {"pkg/data.txt": "sha256=AAAA,3"} if broken_record else None
    files: dict[str, bytes | str] = {
        "pkg/__init__.py": "",
        f"pkg/_ext{build.ext_suffix}": ext,
        "pkg/libhelper.so": helper,
        "pkg/data.txt": "abc",
    }
    return make_wheel(
        tmp / "wheels", "pkg", "1.0", files, tag=build.tag, record_overrides=overrides
    )


def _facts(path: Path, cache: Path | None, min_glibc: str | None = None) -> StaticFacts:
    sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
    contents, findings = open_wheel(path)
    assert contents is not None, findings
    with contents:
        return static_facts(contents, sha256, min_glibc=min_glibc, cache=cache)


def _same(a: StaticFacts, b: StaticFacts) -> None:
    assert a.record == b.record
    assert a.audit == b.audit
    assert dict(a.known_exports) == dict(b.known_exports)


def test_computed_once_then_read_back_equal(tmp_path: Path, build: PythonBuild) -> None:
    path = _wheel(tmp_path, build, broken_record=True)
    cache = tmp_path / "static"
    first = _facts(path, cache)
    assert not first.cached
    assert [f.file for f in first.record] == ["pkg/data.txt"]  # the broken row, found
    ext = f"pkg/_ext{build.ext_suffix}"
    exports = first.known_exports[ext]
    assert exports is not None and exports.inits == ("PyInit__ext",)
    helper = first.known_exports["pkg/libhelper.so"]
    assert helper is not None and helper.inits == () and helper.any
    assert len(list(cache.glob("*.json"))) == 1

    second = _facts(path, cache)
    assert second.cached
    _same(first, second)


def test_the_key_decides(tmp_path: Path, build: PythonBuild) -> None:
    path = _wheel(tmp_path, build)
    cache = tmp_path / "static"
    _facts(path, cache)
    # Another min_glibc is another audit: computed again, and the entry rewritten.
    assert not _facts(path, cache, min_glibc="2.5").cached
    assert _facts(path, cache, min_glibc="2.5").cached
    assert not _facts(path, cache).cached


def test_other_bytes_never_meet_an_old_entry(tmp_path: Path, build: PythonBuild) -> None:
    cache = tmp_path / "static"
    good = _wheel(tmp_path / "a", build)
    assert _facts(good, cache).record == ()
    # Same name, other bytes (a RECORD row that no longer matches): its own entry, found.
    bad = _wheel(tmp_path / "b", build, broken_record=True)
    assert good.name == bad.name
    facts = _facts(bad, cache)
    assert not facts.cached and len(facts.record) == 1
    assert len(list(cache.glob("*.json"))) == 2


@pytest.mark.parametrize("damage", ["garbage", "truncated", "wrong-shape"])
def test_an_unreadable_entry_is_recomputed(tmp_path: Path, build: PythonBuild, damage: str) -> None:
    path = _wheel(tmp_path, build)
    cache = tmp_path / "static"
    first = _facts(path, cache)
    (entry,) = cache.glob("*.json")
    text = entry.read_text()
    if damage == "garbage":
        entry.write_bytes(b"\xff\x00not json")
    elif damage == "truncated":
        entry.write_text(text[: len(text) // 2])
    else:
        data = json.loads(text)
        data["audit"] = {"policy": 3}
        entry.write_text(json.dumps(data))
    again = _facts(path, cache)
    assert not again.cached
    _same(first, again)
    assert _facts(path, cache).cached  # and the entry is whole again


def test_without_a_cache_nothing_is_written(tmp_path: Path, build: PythonBuild) -> None:
    path = _wheel(tmp_path, build)
    contents, _ = open_wheel(path)
    assert contents is not None
    with contents:
        computed = compute_static_facts(contents, min_glibc=None)
    facts = _facts(path, None)
    assert not facts.cached
    _same(computed, facts)
    assert not (tmp_path / "static").exists()
