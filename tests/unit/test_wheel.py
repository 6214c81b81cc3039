"""Tests for checker.wheel.contents: opening wheels, where members land, extension candidates."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from checker.findings import Finding
from checker.wheel.contents import WheelContents, extension_candidates, open_wheel
from tests.support.wheelbuild import make_wheel

SUFFIXES = (".cpython-311-x86_64-linux-gnu.so", ".abi3.so", ".so")
EXT = SUFFIXES[0]
TAG = "cp311-cp311-linux_x86_64"


@contextmanager
def opened(path: Path) -> Iterator[WheelContents]:
    contents, findings = open_wheel(path)
    assert findings == []
    assert contents is not None
    with contents:
        yield contents


def _corrupt(path: Path) -> Finding:
    contents, findings = open_wheel(path)
    assert contents is None
    assert len(findings) == 1
    finding = findings[0]
    assert finding.kind == "corrupt-wheel"
    assert finding.module == "integrity"
    assert path.name in finding.error
    return finding


def test_open_valid_wheel(tmp_path: Path) -> None:
    path = make_wheel(
        tmp_path,
        "Foo-Bar",
        "1.2.0",
        {"foo_bar/__init__.py": ""},
        tag=TAG,
        requires_dist=["six>=1", 'colorama; sys_platform == "win32"'],
    )
    with opened(path) as contents:
        assert contents.project == "foo-bar"
        assert contents.version == "1.2.0"
        assert contents.dist_info == "Foo_Bar-1.2.0.dist-info"
        assert contents.data_dir == "Foo_Bar-1.2.0.data"
        assert contents.requires_dist == ("six>=1", 'colorama; sys_platform == "win32"')
        assert contents.tags == frozenset({TAG})
        assert "foo_bar/__init__.py" in contents.names
        assert contents.top_level_names() == frozenset({"foo_bar"})
    # The context manager closes the zip.
    assert contents.zip.fp is None


def test_not_a_zip(tmp_path: Path) -> None:
    path = tmp_path / "foo-1.0-py3-none-any.whl"
    path.write_bytes(b"this is not a zip archive at all\n" * 10)
    assert "not a valid zip" in _corrupt(path).error


def test_truncated_zip(tmp_path: Path) -> None:
    good = make_wheel(tmp_path / "src", "foo", "1.0", {"foo/__init__.py": "x = 1\n" * 200})
    data = good.read_bytes()
    path = tmp_path / good.name
    path.write_bytes(data[: len(data) // 2])
    assert "zip" in _corrupt(path).error


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "foo-1.0-py3-none-any.whl"
    path.write_bytes(b"")
    assert "not a valid zip" in _corrupt(path).error


def _zip(path: Path, members: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return path


def test_no_dist_info(tmp_path: Path) -> None:
    path = _zip(tmp_path / "foo-1.0-py3-none-any.whl", {"foo/__init__.py": ""})
    error = _corrupt(path).error
    assert "dist-info" in error
    assert "none" in error


def test_two_dist_infos(tmp_path: Path) -> None:
    meta = "Metadata-Version: 2.1\nName: foo\nVersion: 1.0\n"
    members: dict[str, str] = {}
    for info in ("foo-1.0.dist-info", "foo-2.0.dist-info"):
        members |= {f"{info}/METADATA": meta, f"{info}/WHEEL": "", f"{info}/RECORD": ""}
    path = _zip(tmp_path / "foo-1.0-py3-none-any.whl", members)
    error = _corrupt(path).error
    assert "foo-1.0.dist-info" in error
    assert "foo-2.0.dist-info" in error


def test_dist_info_of_another_project(tmp_path: Path) -> None:
    path = make_wheel(tmp_path, "bar", "1.0", {"bar.py": ""}, filename="foo-1.0-py3-none-any.whl")
    assert "bar-1.0.dist-info" in _corrupt(path).error


def test_dist_info_lacking_record(tmp_path: Path) -> None:
    path = _zip(
        tmp_path / "foo-1.0-py3-none-any.whl",
        {"foo-1.0.dist-info/METADATA": "Name: foo\nVersion: 1.0\n", "foo-1.0.dist-info/WHEEL": ""},
    )
    assert "RECORD" in _corrupt(path).error


def test_metadata_name_mismatch(tmp_path: Path) -> None:
    path = _zip(
        tmp_path / "foo-1.0-py3-none-any.whl",
        {
            "foo-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: other\nVersion: 1.0\n",
            "foo-1.0.dist-info/WHEEL": "",
            "foo-1.0.dist-info/RECORD": "",
        },
    )
    error = _corrupt(path).error
    assert "Name" in error
    assert "'other'" in error


def test_metadata_version_mismatch(tmp_path: Path) -> None:
    path = make_wheel(tmp_path, "foo", "1.1", {"foo.py": ""}, filename="foo-1.0-py3-none-any.whl")
    # The dist-info folder name still says 1.1; only METADATA decides the version check.
    error = _corrupt(path).error
    assert "Version" in error
    assert "'1.1'" in error
    assert "'1.0'" in error


def test_metadata_version_equal_after_normalization(tmp_path: Path) -> None:
    path = make_wheel(
        tmp_path, "foo", "1.0rc1", {"foo.py": ""}, filename="foo-1.0c1-py3-none-any.whl"
    )
    with opened(path) as contents:
        assert contents.project == "foo"


def test_invalid_file_name(tmp_path: Path) -> None:
    path = make_wheel(tmp_path, "foo", "1.0", {"foo.py": ""}, filename="foo.whl")
    assert "invalid wheel file name" in _corrupt(path).error


@pytest.fixture
def layout_wheel(tmp_path: Path) -> Path:
    return make_wheel(
        tmp_path,
        "pkg",
        "1.0",
        {
            "pkg/__init__.py": "",
            "pkg.data/platlib/plat/_p" + EXT: b"\x7fELF",
            "pkg-1.0.data/platlib/plat/_p" + EXT: b"\x7fELF",
            "pkg-1.0.data/purelib/pure/mod.py": "",
            "pkg-1.0.data/scripts/run": "#!/bin/sh\n",
            "pkg-1.0.data/headers/pkg.h": "",
            "pkg-1.0.data/platlib/": "",
        },
        tag=TAG,
    )


def test_installed_path(layout_wheel: Path) -> None:
    with opened(layout_wheel) as contents:
        assert contents.installed_path("pkg/__init__.py") == "pkg/__init__.py"
        assert contents.installed_path("pkg-1.0.data/platlib/plat/_p" + EXT) == "plat/_p" + EXT
        assert contents.installed_path("pkg-1.0.data/purelib/pure/mod.py") == "pure/mod.py"
        assert contents.installed_path("pkg-1.0.data/scripts/run") is None
        # Only the wheel's own ``{dist}-{version}.data`` folder is special.
        assert contents.installed_path("pkg.data/platlib/plat/_p" + EXT) == (
            "pkg.data/platlib/plat/_p" + EXT
        )
        assert contents.installed_path("pkg-1.0.data/headers/pkg.h") is None
        assert contents.installed_path("pkg-1.0.data/platlib/") is None
        assert contents.installed_path("pkg-1.0.dist-info/METADATA") == (
            "pkg-1.0.dist-info/METADATA"
        )
        assert contents.top_level_names() == frozenset({"pkg", "plat", "pure"})


def test_extension_candidates(tmp_path: Path) -> None:
    path = make_wheel(
        tmp_path,
        "pkg",
        "1.0",
        {
            "top" + EXT: b"",
            "pkg/__init__.py": "",
            "pkg/_core" + EXT: b"",
            "pkg/sub/deeper/_deep" + EXT: b"",
            "pkg/_stable.abi3.so": b"",
            "pkg/_plain.so": b"",
            "pkg/_old.cpython-310-x86_64-linux-gnu.so": b"",
            "pkg/helper.py": "",
            "pkg/_core.c": "",
            "pkg.libs/libgfortran-abc.so.5": b"",
            "numpy.libs/libopenblas" + EXT: b"",
            "pkg/data.d/_hidden" + EXT: b"",
            "pkg-1.0.data/platlib/platmod/_fast" + EXT: b"",
            "pkg-1.0.data/scripts/tool" + EXT: b"",
            "3a7f__mypyc" + EXT: b"",
        },
        tag=TAG,
    )
    with opened(path) as contents:
        found = {c.module: c for c in extension_candidates(contents, SUFFIXES)}
        candidates = extension_candidates(contents, SUFFIXES)
    assert sorted(found) == [
        "3a7f__mypyc",
        "pkg._core",
        "pkg._old",
        "pkg._plain",
        "pkg._stable",
        "pkg.sub.deeper._deep",
        "platmod._fast",
        "top",
    ]
    assert [c.module for c in candidates] == sorted(c.module for c in candidates)
    assert found["pkg._core"].suffix == EXT
    assert found["pkg._stable"].suffix == ".abi3.so"
    assert found["pkg._plain"].suffix == ".so"
    assert found["pkg._old"].other_interpreter is True
    assert not any(c.other_interpreter for m, c in found.items() if m != "pkg._old")
    fast = found["platmod._fast"]
    assert fast.member == "pkg-1.0.data/platlib/platmod/_fast" + EXT
    assert fast.installed == "platmod/_fast" + EXT
    deep = found["pkg.sub.deeper._deep"]
    assert deep.member == deep.installed == "pkg/sub/deeper/_deep" + EXT


def test_extension_candidates_follow_the_suffix_list(tmp_path: Path) -> None:
    path = make_wheel(
        tmp_path,
        "pkg",
        "1.0",
        {"pkg/_a.cp311-win_amd64.pyd": b"", "pkg/_b" + EXT: b""},
        tag=TAG,
    )
    with opened(path) as contents:
        windows = extension_candidates(contents, (".cp311-win_amd64.pyd", ".pyd"))
        linux = extension_candidates(contents, SUFFIXES)
    assert [c.module for c in windows] == ["pkg._a"]
    assert [c.module for c in linux] == ["pkg._b"]
