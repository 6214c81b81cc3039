"""Tests for checker.wheel.discover: finding, naming and selecting the wheels of a folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from checker.config.paths import default_packages_folder
from checker.errors import SetupError, UsageError
from checker.wheel.discover import WheelRef, discover, select


def _touch(folder: Path, *names: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_bytes(b"not inspected by discover")


def _by_name(refs: list[WheelRef]) -> dict[str, WheelRef]:
    return {r.filename: r for r in refs}


def test_discover_sorts_and_ignores_other_files(tmp_path: Path) -> None:
    _touch(
        tmp_path,
        "zeta-1.0-py3-none-any.whl",
        "alpha-2.0-py3-none-any.whl",
        "mid-0.1-cp311-cp311-linux_x86_64.whl",
        "README.txt",
        "alpha-2.0.tar.gz",
    )
    (tmp_path / "sub.whl").mkdir()  # a folder, not a wheel
    _touch(tmp_path / "nested", "deep-1.0-py3-none-any.whl")
    refs = discover(tmp_path)
    assert [r.filename for r in refs] == [
        "alpha-2.0-py3-none-any.whl",
        "mid-0.1-cp311-cp311-linux_x86_64.whl",
        "zeta-1.0-py3-none-any.whl",
    ]
    alpha = refs[0]
    assert alpha.project == "alpha"
    assert alpha.version == "2.0"
    assert alpha.name_error is None
    assert alpha.session_id == "alpha-2.0"
    assert alpha.path == tmp_path / "alpha-2.0-py3-none-any.whl"


def test_session_ids_unique_for_same_project_and_version(tmp_path: Path) -> None:
    _touch(
        tmp_path,
        "numpy-2.1.0-cp311-cp311-manylinux_2_17_x86_64.whl",
        "numpy-2.1.0-cp311-cp311-musllinux_1_2_x86_64.whl",
        "other-1.0-py3-none-any.whl",
    )
    refs = discover(tmp_path)
    ids = [r.session_id for r in refs]
    assert len(set(ids)) == len(ids) == 3
    by_name = _by_name(refs)
    many = by_name["numpy-2.1.0-cp311-cp311-manylinux_2_17_x86_64.whl"].session_id
    musl = by_name["numpy-2.1.0-cp311-cp311-musllinux_1_2_x86_64.whl"].session_id
    assert "manylinux" in many
    assert "musllinux" in musl
    # The unambiguous wheel keeps the short id.
    assert by_name["other-1.0-py3-none-any.whl"].session_id == "other-1.0"


def test_session_ids_for_two_versions_of_one_project(tmp_path: Path) -> None:
    _touch(tmp_path, "PyYAML-6.0.1-cp311-cp311-linux_x86_64.whl", "pyyaml-6.0.2-py3-none-any.whl")
    refs = discover(tmp_path)
    ids = sorted(r.session_id for r in refs)
    assert ids == ["pyyaml-6.0.1", "pyyaml-6.0.2"]
    assert all(r.project == "pyyaml" for r in refs)


def test_invalid_wheel_name_is_kept_with_error(tmp_path: Path) -> None:
    _touch(tmp_path, "not-a-wheel.whl", "good-1.0-py3-none-any.whl")
    refs = _by_name(discover(tmp_path))
    bad = refs["not-a-wheel.whl"]
    assert bad.project is None
    assert bad.version is None
    assert bad.name_error
    assert bad.session_id == "not-a-wheel"
    assert refs["good-1.0-py3-none-any.whl"].name_error is None


def test_missing_folder_is_setup_error(tmp_path: Path) -> None:
    folder = tmp_path / "nowhere"
    with pytest.raises(SetupError) as info:
        discover(folder)
    assert str(folder) in str(info.value)


def test_file_instead_of_folder_is_setup_error(tmp_path: Path) -> None:
    folder = tmp_path / "packages"
    folder.write_text("x", encoding="utf-8")
    with pytest.raises(SetupError) as info:
        discover(folder)
    assert str(folder) in str(info.value)
    assert "not a folder" in str(info.value)


def test_empty_folder_is_setup_error(tmp_path: Path) -> None:
    folder = tmp_path / "packages"
    _touch(folder, "notes.txt")
    with pytest.raises(SetupError) as info:
        discover(folder)
    assert str(folder) in str(info.value)
    assert "no wheels" in str(info.value)


@pytest.fixture
def refs(tmp_path: Path) -> list[WheelRef]:
    _touch(
        tmp_path,
        "numpy-2.1.0-cp311-cp311-manylinux_2_17_x86_64.whl",
        "numpy_quaternion-2023.0.4-cp311-cp311-linux_x86_64.whl",
        "PyYAML-6.0.2-cp311-cp311-manylinux_2_17_x86_64.whl",
        "charset_normalizer-3.4.0-cp311-cp311-manylinux_2_17_x86_64.whl",
        "zope.interface-6.1-cp311-cp311-linux_x86_64.whl",
        "six-1.16.0-py2.py3-none-any.whl",
    )
    return discover(tmp_path)


def _names(selected: list[WheelRef]) -> list[str]:
    return [r.filename for r in selected]


def test_select_without_patterns_returns_all(refs: list[WheelRef]) -> None:
    assert select(refs, []) == refs
    assert select(refs, ["", "  "]) == refs


def test_select_exact_file_name(refs: list[WheelRef]) -> None:
    assert _names(select(refs, ["six-1.16.0-py2.py3-none-any.whl"])) == [
        "six-1.16.0-py2.py3-none-any.whl"
    ]


def test_select_glob_is_case_insensitive(refs: list[WheelRef]) -> None:
    expected = [
        "numpy-2.1.0-cp311-cp311-manylinux_2_17_x86_64.whl",
    ]
    assert _names(select(refs, ["numpy-*"])) == expected
    assert _names(select(refs, ["NumPy-*"])) == expected
    assert _names(select(refs, ["pyyaml-*"])) == [
        "PyYAML-6.0.2-cp311-cp311-manylinux_2_17_x86_64.whl"
    ]
    assert len(select(refs, ["*manylinux*"])) == 3


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("PyYAML", "PyYAML-6.0.2-cp311-cp311-manylinux_2_17_x86_64.whl"),
        ("pyyaml", "PyYAML-6.0.2-cp311-cp311-manylinux_2_17_x86_64.whl"),
        ("charset_normalizer", "charset_normalizer-3.4.0-cp311-cp311-manylinux_2_17_x86_64.whl"),
        ("charset-normalizer", "charset_normalizer-3.4.0-cp311-cp311-manylinux_2_17_x86_64.whl"),
        ("Charset.Normalizer", "charset_normalizer-3.4.0-cp311-cp311-manylinux_2_17_x86_64.whl"),
        ("zope-interface", "zope.interface-6.1-cp311-cp311-linux_x86_64.whl"),
        ("numpy", "numpy-2.1.0-cp311-cp311-manylinux_2_17_x86_64.whl"),
    ],
)
def test_select_project_name_is_normalized(
    refs: list[WheelRef], pattern: str, expected: str
) -> None:
    # A project name never selects another project sharing its prefix (numpy_quaternion).
    assert _names(select(refs, [pattern])) == [expected]


def test_select_session_id(refs: list[WheelRef]) -> None:
    assert _names(select(refs, ["six-1.16.0"])) == ["six-1.16.0-py2.py3-none-any.whl"]


def test_select_several_patterns_keeps_folder_order(refs: list[WheelRef]) -> None:
    assert _names(select(refs, ["six", "numpy"])) == [
        "numpy-2.1.0-cp311-cp311-manylinux_2_17_x86_64.whl",
        "six-1.16.0-py2.py3-none-any.whl",
    ]


def test_select_pattern_matching_nothing_is_usage_error(refs: list[WheelRef]) -> None:
    with pytest.raises(UsageError) as info:
        select(refs, ["numpy", "scipy-*", "nonexistent"])
    message = str(info.value)
    assert "scipy-*" in message
    assert "nonexistent" in message
    assert "'numpy'" not in message


def test_default_packages_folder_beside_interpreter(tmp_path: Path) -> None:
    python = tmp_path / "python-3.11" / "bin" / "python3"
    python.parent.mkdir(parents=True)
    python.write_text("", encoding="utf-8")
    project = tmp_path / "project"
    project.mkdir()
    assert default_packages_folder(python, project) == project / "packages"
    beside = tmp_path / "python-3.11" / "packages"
    beside.mkdir()
    assert default_packages_folder(python, project) == beside


def test_session_ids_unique_when_names_differ_only_in_case(tmp_path: Path) -> None:
    _touch(
        tmp_path,
        "Foo-1.0-py3-none-any.whl",
        "foo-1.0-py3-none-any.whl",
        "FOO-1.0-py3-none-any.whl",
        "Bad.whl",
        "bad.whl",
    )
    if len(list(tmp_path.iterdir())) < 5:
        pytest.skip("case-insensitive file system")
    ids = [r.session_id for r in discover(tmp_path)]
    assert len(set(ids)) == len(ids) == 5
    assert all(i == i.lower() for i in ids)
