"""Tests for checker.folder.deps: walking Requires-Dist over the wheels of a packages folder."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pytest
from packaging.tags import Tag
from packaging.utils import canonicalize_name

from checker.folder.deps import (
    FolderIndex,
    find_missing,
    index_folder,
    requirement_names,
)
from checker.wheel.contents import open_wheel
from checker.wheel.discover import discover
from tests.support.wheelbuild import make_wheel

SUPPORTED = [Tag("cp311", "cp311", "linux_x86_64"), Tag("py3", "none", "any")]
LINUX = {"sys_platform": "linux", "platform_system": "Linux", "python_version": "3.11"}
WINDOWS = {"sys_platform": "win32", "platform_system": "Windows", "python_version": "3.11"}


def wheel(
    folder: Path, name: str, version: str, requires: Iterable[str] = (), tag: str = "py3-none-any"
) -> None:
    module = canonicalize_name(name).replace("-", "_")
    make_wheel(folder, name, version, {f"{module}.py": ""}, requires_dist=requires, tag=tag)


def index(folder: Path) -> FolderIndex:
    return index_folder(discover(folder), SUPPORTED)


def missing(
    folder: Path, root: str, requires: Iterable[str], markers: Mapping[str, str] = LINUX
) -> str | None:
    return find_missing(canonicalize_name(root), list(requires), index(folder), markers)


def test_index_folder_filters_by_tags(tmp_path: Path) -> None:
    wheel(tmp_path, "a", "1.0")
    wheel(tmp_path, "a", "2.0", tag="cp311-cp311-linux_x86_64")
    wheel(tmp_path, "b", "1.0", tag="cp312-cp312-linux_x86_64")
    wheel(tmp_path, "c", "1.0", tag="cp311-cp311-win_amd64")
    (tmp_path / "broken.whl").write_bytes(b"")
    found = index(tmp_path)
    assert set(found) == {"a"}
    assert sorted(str(a.version) for a in found["a"]) == ["1.0", "2.0"]


def test_satisfied_chain(tmp_path: Path) -> None:
    wheel(tmp_path, "a", "1.0", ["b>=1"])
    wheel(tmp_path, "b", "1.5", ["C_Lib==2.*"])
    wheel(tmp_path, "c-lib", "2.1")
    assert missing(tmp_path, "a", ["b>=1"]) is None


def test_missing_direct_requirement(tmp_path: Path) -> None:
    wheel(tmp_path, "a", "1.0", ["zlib-ng>=0.4"])
    message = missing(tmp_path, "a", ["zlib-ng>=0.4"])
    assert message is not None
    assert "zlib-ng" in message
    assert "of a " in message
    assert "has no wheel" in message


def test_missing_transitive_names_the_chain(tmp_path: Path) -> None:
    wheel(tmp_path, "a", "1.0", ["b"])
    wheel(tmp_path, "b", "1.3", ["c>=2"])
    message = missing(tmp_path, "a", ["b"])
    assert message is not None
    assert "c>=2" in message
    # The chain leads from the root through b (with its version) to c.
    assert "b 1.3" in message
    assert message.index("b 1.3") < message.index("<- a")


def test_version_not_satisfied_says_what_folder_has(tmp_path: Path) -> None:
    wheel(tmp_path, "a", "1.0", ["b>=2"])
    wheel(tmp_path, "b", "1.0")
    wheel(tmp_path, "b", "1.5")
    message = missing(tmp_path, "a", ["b>=2"])
    assert message is not None
    assert "b>=2" in message
    assert "1.0" in message
    assert "1.5" in message


def test_best_version_is_walked(tmp_path: Path) -> None:
    # b 1.0 needs something absent; b 2.0 (the one the installer picks) does not.
    wheel(tmp_path, "b", "1.0", ["absent"])
    wheel(tmp_path, "b", "2.0")
    assert missing(tmp_path, "a", ["b"]) is None
    assert missing(tmp_path, "a", ["b<2"]) is not None


def test_incompatible_wheel_does_not_satisfy(tmp_path: Path) -> None:
    wheel(tmp_path, "b", "1.0", tag="cp311-cp311-win_amd64")
    message = missing(tmp_path, "a", ["b"])
    assert message is not None
    assert "'b'" in message


def test_markers_honoured(tmp_path: Path) -> None:
    wheel(tmp_path, "b", "1.0", ['pywin32; sys_platform == "win32"'])
    requires = ["b", 'colorama; platform_system == "Windows"']
    assert missing(tmp_path, "a", requires, LINUX) is None
    message = missing(tmp_path, "a", requires, WINDOWS)
    assert message is not None
    assert "colorama" in message
    # The transitive marker too.
    wheel(tmp_path, "colorama", "0.4.6")
    message = missing(tmp_path, "a", requires, WINDOWS)
    assert message is not None
    assert "pywin32" in message


def test_python_version_marker(tmp_path: Path) -> None:
    requires = ['tomli; python_version < "3.11"']
    wheel(tmp_path, "b", "1.0")
    assert missing(tmp_path, "a", requires, LINUX) is None
    old = {**LINUX, "python_version": "3.10", "python_full_version": "3.10.12"}
    message = missing(tmp_path, "a", requires, old)
    assert message is not None
    assert "tomli" in message


def test_extras(tmp_path: Path) -> None:
    wheel(tmp_path, "b", "1.0", ["c", 'd; extra == "fast"', 'e; extra == "other"'])
    wheel(tmp_path, "c", "1.0")
    # Without the extra, d is not needed.
    assert missing(tmp_path, "a", ["b"]) is None
    message = missing(tmp_path, "a", ["b[fast]"])
    assert message is not None
    assert "'d" in message
    assert "b 1.0" in message
    wheel(tmp_path, "d", "1.0")
    assert missing(tmp_path, "a", ["b[fast]"]) is None
    # Another extra of the same requirement is walked separately.
    message = missing(tmp_path, "a", ["b", "b[other]"])
    assert message is not None
    assert "'e" in message


def test_root_extra_markers_are_inactive(tmp_path: Path) -> None:
    # The root is installed without extras: its extra-only requirements do not count.
    wheel(tmp_path, "b", "1.0")
    assert missing(tmp_path, "a", ["b", 'absent; extra == "docs"']) is None


def test_cycle_terminates(tmp_path: Path) -> None:
    wheel(tmp_path, "a", "1.0", ["b"])
    wheel(tmp_path, "b", "1.0", ["a"])
    assert missing(tmp_path, "a", ["b"]) is None


def test_invalid_requirement(tmp_path: Path) -> None:
    wheel(tmp_path, "b", "1.0", ["b-dep (>>1)"])
    message = missing(tmp_path, "a", ["not a valid requirement !!"])
    assert message is not None
    assert "invalid requirement" in message
    message = missing(tmp_path, "a", ["b"])
    assert message is not None
    assert "invalid requirement" in message
    assert "b-dep (>>1)" in message
    assert "b 1.0" in message


def test_requirement_names() -> None:
    names = requirement_names(
        ["Foo_Bar>=1", 'win; sys_platform == "win32"', 'x; extra == "e"', "!!bad"], LINUX
    )
    assert names == {"foo-bar"}
    assert requirement_names(['win; sys_platform == "win32"'], WINDOWS) == {"win"}


def test_the_index_is_built_once_per_folder_and_target(tmp_path: Path) -> None:
    wheel(tmp_path, "a", "1.0", ["b"])
    wheel(tmp_path, "b", "1.0")
    refs = discover(tmp_path)
    first = index_folder(refs, SUPPORTED)
    assert index_folder(list(refs), list(SUPPORTED)) is first  # the same run asks again
    assert index_folder(refs, None) is not first  # another target: its own index
    assert sorted(index_folder(refs, None)) == ["a", "b"]


def test_requires_dist_is_read_once_per_file_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wheel(tmp_path, "a", "1.0", ["b"])
    wheel(tmp_path, "b", "1.0", ["c"])
    wheel(tmp_path, "c", "1.0")
    opened: list[str] = []
    real = open_wheel

    def counting(path: Path) -> Any:
        opened.append(path.name)
        return real(path)

    monkeypatch.setattr("checker.folder.deps.open_wheel", counting)
    for _ in range(3):  # three walks of the same closure, as a probe, the audit and sharing do
        assert missing(tmp_path, "a", ["b"]) is None
    assert sorted(opened) == ["b-1.0-py3-none-any.whl", "c-1.0-py3-none-any.whl"]
    # A wheel rewritten in place (another size) is read again, with its new requirements.
    wheel(tmp_path, "c", "1.0", ["absent-project"])
    message = missing(tmp_path, "a", ["b"])
    assert message is not None
    assert "absent-project" in message
    assert opened.count("c-1.0-py3-none-any.whl") == 2
