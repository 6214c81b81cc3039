"""checker.probe.install with the real uv: a fresh venv, the wheel and its dependencies from the
folder only, landing where the venv's own interpreter imports them from."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from checker.probe.install import find_uv, install_wheel, site_packages
from tests.support.wheelbuild import make_wheel

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
