"""checker.probe.install with the real uv: a fresh venv, the wheel and its dependencies from the
folder only, landing where the venv's own interpreter imports them from."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from checker.probe.install import find_uv, install_wheel, site_packages
from tests.integration.conftest import build_context, check_in_folder
from tests.support.wheelbuild import (
    NEEDS_GCC_ON_LINUX,
    compile_shared,
    make_wheel,
    module_source,
    python_build,
)

pytestmark = pytest.mark.integration

BASE = Path(getattr(sys, "_base_executable", sys.executable))


def _folder(tmp: Path) -> tuple[Path, Path]:
    folder = tmp / "packages"
    make_wheel(folder, "nicdep", "1.0", {"nicdep/__init__.py": "VALUE = 7\n"})
    wheel = make_wheel(
        folder,
        "nicapp",
        "1.0",
        {"nicapp/__init__.py": "from nicdep import VALUE\n"},
        requires_dist=["nicdep"],
    )
    return folder, wheel


def _imports(python: Path) -> str:
    proc = subprocess.run(
        [str(python), "-I", "-c", "import nicapp, nicdep; print(nicapp.VALUE, nicdep.__file__)"],
        capture_output=True,
        text=True,
        check=True,
    )
    return proc.stdout


@pytest.mark.parametrize("landed", [True, False])
def test_the_wheel_and_its_dependency_land_in_the_venv(tmp_path: Path, landed: bool) -> None:
    """Installed with the target interpreter into the venv's prefix; when the files would not
    land where the venv imports from (simulated by a dist-info name that is never there),
    the venv is made again and installed the ordinary way: the same outcome either way."""
    folder, wheel = _folder(tmp_path)
    venv = tmp_path / "venv"
    dist_info = "nicapp-1.0.dist-info" if landed else "not-there-1.0.dist-info"
    result = install_wheel(find_uv(), BASE, venv, wheel, folder, dist_info=dist_info)
    assert result.python is not None, result.log
    (site,) = site_packages(venv)
    assert (site / "nicapp-1.0.dist-info").is_dir() and (site / "nicdep").is_dir()
    value, where = _imports(result.python).split()
    assert value == "7" and Path(where).is_relative_to(venv)


def test_a_missing_dependency_is_an_install_finding(tmp_path: Path) -> None:
    folder, wheel = _folder(tmp_path)
    next(folder.glob("nicdep-*.whl")).unlink()
    result = install_wheel(
        find_uv(), BASE, tmp_path / "venv", wheel, folder, dist_info="nicapp-1.0.dist-info"
    )
    assert result.python is None
    assert result.finding is not None and result.finding.kind == "install-error"
    assert "nicdep" in result.finding.error


@NEEDS_GCC_ON_LINUX
def test_a_dependency_rebuilt_under_its_file_name_is_installed_anew(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """uv keeps a wheel it takes from --find-links by its file name: a dependency rebuilt
    under the same name would be installed from the stale cache entry. The probe names the
    dependencies that are the only wheel of their project by path (kept by file and mtime),
    so its venv holds the folder's bytes, with one uv cache for both runs."""
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv-cache"))
    build = python_build(Path(sys.executable))
    folder = tmp_path / "packages"
    ext = compile_shared(build, module_source("_x"), tmp_path / f"_x{build.ext_suffix}")
    files: dict[str, bytes | str] = {"nicapp/__init__.py": "", f"nicapp/_x{build.ext_suffix}": ext}
    wheel = make_wheel(folder, "nicapp", "1.0", files, tag=build.tag, requires_dist=["nicdep"])

    def installed_dependency(value: int) -> str:
        make_wheel(folder, "nicdep", "1.0", {"nicdep/__init__.py": f"VALUE = {value}\n"})
        ctx = build_context(tmp_path / "run", folder)
        fragment = check_in_folder(ctx, wheel)
        assert fragment.install == "ok" and [m.status for m in fragment.modules] == ["ok"]
        (found,) = [
            path
            for path in ctx.venvs_root.rglob("nicdep/__init__.py")
            if ".removed-" not in str(path)
        ]
        return found.read_text(encoding="utf-8")

    assert installed_dependency(7) == "VALUE = 7\n"
    assert installed_dependency(8) == "VALUE = 8\n"  # from --find-links it would still be 7
