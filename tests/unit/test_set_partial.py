"""The largest co-installable part of a folder (checker.setcheck.partial): which wheels are
left out and why, with uv faked by a rule of what installs together."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from pathlib import Path

import pytest

from checker.probe.install import uv_reason
from checker.setcheck.partial import MAX_TRIES, culprits, largest_part, newest_of_each
from checker.wheel.contents import WheelContents, open_wheel
from tests.support.wheelbuild import make_wheel

CONFLICT = (
    "error: No solution found when resolving dependencies\n"
    "  cause: Because there is no version of nicdep==1.0 and nicold==1.0 depends on "
    "nicdep==1.0, we can conclude that nicold==1.0 cannot be used."
)


@pytest.fixture
def folder(tmp_path: Path) -> Iterator[list[WheelContents]]:
    packages = tmp_path / "packages"
    for version in ("1.0", "2.0", "10.0"):
        make_wheel(packages, "nicdep", version, {"nicdep/__init__.py": ""})
    make_wheel(packages, "nicold", "1.0", {"nicold/__init__.py": ""}, requires_dist=["nicdep==1.0"])
    make_wheel(packages, "nicnew", "1.0", {"nicnew/__init__.py": ""}, requires_dist=["NicDep>=2"])
    with ExitStack() as stack:
        opened = [open_wheel(path)[0] for path in sorted(packages.glob("*.whl"))]
        yield [stack.enter_context(c) for c in opened if c is not None]


def _names(wheels: Sequence[WheelContents]) -> list[str]:
    return sorted(c.path.name for c in wheels)


def test_the_newest_version_of_each_project_by_version_not_by_name(
    folder: list[WheelContents],
) -> None:
    kept, left = newest_of_each(folder)
    assert [c.path.name for c in kept if c.project == "nicdep"] == ["nicdep-10.0-py3-none-any.whl"]
    assert sorted(left) == ["nicdep-1.0-py3-none-any.whl", "nicdep-2.0-py3-none-any.whl"]
    assert "older version of nicdep than nicdep-10.0" in left["nicdep-1.0-py3-none-any.whl"]


def test_the_wheel_asking_for_the_conflict_goes_not_the_one_others_need(
    folder: list[WheelContents],
) -> None:
    kept, _left = newest_of_each(folder)
    assert _names(culprits(CONFLICT, kept)) == ["nicold-1.0-py3-none-any.whl"]
    # uv names nothing of the folder: nothing to leave out.
    assert culprits("error: the disk is full", kept) == []


def test_largest_part_installs_without_the_old_version_and_its_requirer(
    folder: list[WheelContents], tmp_path: Path
) -> None:
    tried: list[list[str]] = []

    def install(wheels: Sequence[WheelContents]) -> tuple[Path | None, str]:
        tried.append(_names(wheels))
        if any(c.project == "nicold" for c in wheels):
            return None, CONFLICT
        return tmp_path / "python", ""

    part = largest_part(install, folder, "error: conflicting URLs for package `nicdep`")
    assert part.python == tmp_path / "python"
    assert _names(part.wheels) == ["nicdep-10.0-py3-none-any.whl", "nicnew-1.0-py3-none-any.whl"]
    assert sorted(part.left_out) == [
        "nicdep-1.0-py3-none-any.whl", "nicdep-2.0-py3-none-any.whl", "nicold-1.0-py3-none-any.whl"
    ]  # fmt: skip
    assert part.tries == len(tried) == 2
    assert "leaving out: nicdep-1.0-py3-none-any.whl (an older version" in part.summary()


def test_the_tries_are_bounded(folder: list[WheelContents]) -> None:
    calls: list[int] = []

    def refuse(wheels: Sequence[WheelContents]) -> tuple[Path | None, str]:
        calls.append(len(wheels))
        return None, "error: " + " ".join(str(c.project) for c in wheels[:1])

    part = largest_part(refuse, folder, "error: nicdep")
    assert part.python is None and len(calls) <= MAX_TRIES
    assert "no co-installable part found" in part.summary()


def test_uv_progress_lines_never_enter_the_reason() -> None:
    output = (
        "Using CPython 3.12.1 interpreter at: /root/.pyenv/versions/3.12.1/bin/python3.12\n"
        "Resolved 3 packages in 2ms\n"
        "error: Requirements contain conflicting URLs for package `nicdep`:\n"
        "- file:///tmp/p/nicdep-1.0-py3-none-any.whl\n"
    )
    reason = uv_reason(output)
    assert reason.startswith("error: Requirements contain conflicting URLs")
    assert "Using CPython" not in reason and "Resolved" not in reason
    assert reason.endswith("nicdep-1.0-py3-none-any.whl")
