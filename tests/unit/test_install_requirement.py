"""Tests for checker.probe.install.requirement_for: one uv cache entry per wheel."""

from __future__ import annotations

from pathlib import Path

from checker.probe.install import requirement_for


def _touch(folder: Path, *names: str) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / name for name in names]
    for path in paths:
        path.write_bytes(b"")
    return paths


def test_the_only_file_of_its_version_is_asked_for_by_name(tmp_path: Path) -> None:
    folder = tmp_path / "pkgs"
    wheel, _other = _touch(folder, "Foo_Bar-1.0-py3-none-any.whl", "baz-2.0-py3-none-any.whl")
    assert requirement_for(wheel, folder) == "foo-bar==1.0"
    assert requirement_for(wheel, folder, ["x", "y"]) == "foo-bar[x,y]==1.0"


def test_several_builds_of_one_version_are_asked_for_by_file(tmp_path: Path) -> None:
    folder = tmp_path / "pkgs"
    first, _second = _touch(
        folder,
        "nicx-1.0-cp312-cp312-manylinux_2_17_x86_64.whl",
        "nicx-1.0-cp312-abi3-manylinux_2_17_x86_64.whl",
    )
    assert requirement_for(first, folder) == str(first)
    assert requirement_for(first, folder, ["x"]) == f"nicx[x] @ {first.absolute().as_uri()}"


def test_a_file_outside_the_folder_is_asked_for_by_file(tmp_path: Path) -> None:
    (outside,) = _touch(tmp_path / "elsewhere", "nicy-1.0-py3-none-any.whl")
    folder = tmp_path / "pkgs"
    _touch(folder, "nicy-1.0-py3-none-any.whl")
    assert requirement_for(outside, folder) == str(outside)


def test_a_file_added_to_the_folder_is_seen(tmp_path: Path) -> None:
    folder = tmp_path / "pkgs"
    (wheel,) = _touch(folder, "nicz-1.0-cp312-cp312-linux_x86_64.whl")
    assert requirement_for(wheel, folder) == "nicz==1.0"
    _touch(folder, "nicz-1.0-cp311-cp311-linux_x86_64.whl")
    assert requirement_for(wheel, folder) == str(wheel)
