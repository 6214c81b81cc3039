"""The CPython layouts the users ship, built as files: which layout, which packages folder,
and the ._pth a venv made from an embeddable base gets."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from checker.config.layouts import (
    POSIX,
    WINDOWS_EMBEDDABLE,
    WINDOWS_INSTALLER,
    detect_layout,
    pth_entries,
    write_venv_pth,
)
from checker.config.paths import default_packages_folder

# What the users' edited python312._pth says (python312.zip extracted to python_stdlib/).
USERS_PTH = (
    "python_stdlib\r\n.\r\nLib\\site-packages\r\n\r\n# Uncomment to run site.main()\r\n"
    "import site\r\n"
)


def _embeddable(folder: Path, pth: str = USERS_PTH, *, zipped: bool = False) -> Path:
    folder.mkdir(parents=True)
    for name in ("python.exe", "python3.exe", "python312.dll", "vcruntime140.dll"):
        (folder / name).write_bytes(b"MZ")
    (folder / "python312._pth").write_text(pth, encoding="utf-8", newline="")
    if zipped:
        (folder / "python312.zip").write_bytes(b"PK")
    else:
        (folder / "python_stdlib" / "encodings").mkdir(parents=True)
    return folder / "python.exe"


def _installer(root: Path) -> Path:
    (root / "Lib").mkdir(parents=True)
    (root / "Lib" / "os.py").write_text("", encoding="utf-8")
    (root / "DLLs").mkdir()
    (root / "python.exe").write_bytes(b"MZ")
    return root / "python.exe"


def _posix(root: Path) -> Path:
    (root / "bin").mkdir(parents=True)
    (root / "lib" / "python3.12").mkdir(parents=True)
    (root / "bin" / "python3").write_bytes(b"\x7fELF")
    return root / "bin" / "python3"


@pytest.mark.parametrize(
    ("build", "kind", "root"),
    [
        (lambda d: _embeddable(d / "windows-x64" / "bin"), WINDOWS_EMBEDDABLE, "windows-x64"),
        (lambda d: _embeddable(d / "windows-x64"), WINDOWS_EMBEDDABLE, "windows-x64"),
        (lambda d: _installer(d / "Python312"), WINDOWS_INSTALLER, "Python312"),
        (lambda d: _posix(d / "linux-x64"), POSIX, "linux-x64"),
    ],
    ids=["embeddable-in-bin", "embeddable-in-root", "installer", "posix-bin"],
)
def test_each_layout_and_its_packages_folder(tmp_path: Path, build, kind, root) -> None:  # type: ignore[no-untyped-def]
    python = build(tmp_path / "pydist")
    layout = detect_layout(python)
    assert layout.kind == kind
    assert layout.root == tmp_path / "pydist" / root
    project = tmp_path / "project"
    # No packages folder in the distribution: the project's own.
    assert default_packages_folder(python, project) == project / "packages"
    (tmp_path / "pydist" / root / "packages").mkdir()
    assert default_packages_folder(python, project) == tmp_path / "pydist" / root / "packages"


def test_pth_entries_keep_order_and_see_import_site(tmp_path: Path) -> None:
    python = _embeddable(tmp_path / "bin")
    entries, imports_site = pth_entries(python.parent / "python312._pth")
    assert entries == ["python_stdlib", ".", "Lib\\site-packages"]
    assert imports_site


@pytest.mark.parametrize("zipped", [False, True], ids=["stdlib-folder", "stdlib-zip"])
def test_a_venv_of_an_embeddable_base_gets_an_isolated_pth(tmp_path: Path, zipped: bool) -> None:
    pth = "python312.zip\n.\nLib\\site-packages\nimport site\n" if zipped else USERS_PTH
    python = _embeddable(tmp_path / "pydist" / "bin", pth, zipped=zipped)
    scripts = tmp_path / "venv" / "Scripts"
    scripts.mkdir(parents=True)
    written = write_venv_pth(python, scripts)
    assert written == scripts / "python312._pth"
    text = written.read_text(encoding="utf-8")
    lines = [ln for ln in text.splitlines() if not ln.startswith("#")]
    stdlib = python.parent / ("python312.zip" if zipped else "python_stdlib")
    assert lines == [
        os.path.normpath(stdlib),
        os.path.normpath(python.parent),
        str(Path("..", "Lib", "site-packages")),
        "import site",
    ]
    # Never the base's site-packages: the venv stays isolated from what the base has.
    assert not any("site-packages" in ln and Path(ln).is_absolute() for ln in lines)


def test_absolute_entries_are_kept_as_written(tmp_path: Path) -> None:
    python = _embeddable(tmp_path / "bin", "C:\\py\\python312.zip\r\nD:/extra\r\nimport site\r\n")
    scripts = tmp_path / "Scripts"
    scripts.mkdir()
    written = write_venv_pth(python, scripts)
    assert written is not None
    text = written.read_text(encoding="utf-8")
    assert "C:\\py\\python312.zip\n" in text and "D:/extra\n" in text


@pytest.mark.parametrize("build", [_installer, _posix], ids=["installer", "posix"])
def test_other_layouts_need_no_pth(tmp_path: Path, build) -> None:  # type: ignore[no-untyped-def]
    python = build(tmp_path / "dist")
    scripts = tmp_path / "venv" / "Scripts"
    scripts.mkdir(parents=True)
    assert write_venv_pth(python, scripts) is None
    assert list(scripts.iterdir()) == []
