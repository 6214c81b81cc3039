"""Tests for checker.probe.bytecode: bytecode of hard-linked sources shared between venvs, safely.

The "venvs" are folders on sys.path whose sources are hard links of one file, as uv installs
them from its cache; real Python processes with ``-X pycache_prefix`` compile and load.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from checker.probe.bytecode import SharedBytecode, mirror

TAG = sys.implementation.cache_tag
SOURCE = "def where():\n    raise RuntimeError('here')\nVALUE = {value!r}\n"
SHOW = (
    "import sys, traceback, mod\n"
    "try:\n    mod.where()\n"
    "except RuntimeError as exc:\n    print(traceback.extract_tb(exc.__traceback__)[-1].filename)\n"
    "print(mod.VALUE)\nprint(mod.__cached__)\n"
)


def _run(prefix: Path, site: Path) -> list[str]:
    """Import ``mod`` from ``site`` in a fresh interpreter; what it says about itself."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONPATH"] = str(site)
    proc = subprocess.run(
        [sys.executable, "-X", f"pycache_prefix={prefix}", "-c", SHOW],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        cwd=site,
    )
    return proc.stdout.splitlines()


def _venvs(tmp: Path) -> tuple[Path, Path, Path]:
    """Two "venvs" whose mod.py is one file (a hard link, as from uv's cache)."""
    cache, a, b = tmp / "uv-cache", tmp / "venv-a" / "site", tmp / "venv-b" / "site"
    for folder in (cache, a, b):
        folder.mkdir(parents=True)
    (cache / "mod.py").write_text(SOURCE.format(value="cached"))
    try:
        os.link(cache / "mod.py", a / "mod.py")
        os.link(cache / "mod.py", b / "mod.py")
    except OSError:
        pytest.skip("no hard links on this file system")
    return cache, a.parent, b.parent


def _compiled_in_a(tmp: Path) -> tuple[SharedBytecode, Path, Path]:
    """venv-a probed (its mod.py compiled into the tree) and remembered; venv-b not yet."""
    _cache, venv_a, venv_b = _venvs(tmp)
    share = SharedBytecode(tmp / "pyc", TAG)
    assert share.is_new(venv_a)
    _run(share.prefix, venv_a / "site")
    share.remember(venv_a)
    return share, venv_a, venv_b


def test_mirror_is_where_importlib_looks(tmp_path: Path) -> None:
    prefix = tmp_path / "pyc"
    source = tmp_path / "some dir" / "pkg" / "mod.py"
    code = f"import importlib.util, sys\nprint(importlib.util.cache_from_source({str(source)!r}))"
    proc = subprocess.run(
        [sys.executable, "-X", f"pycache_prefix={prefix}", "-c", code],
        capture_output=True,
        text=True,
        check=True,
    )
    assert SharedBytecode(prefix, TAG).pyc(source) == Path(proc.stdout.strip())
    assert mirror(prefix, source.parent) == Path(proc.stdout.strip()).parent


def test_a_second_venv_loads_the_first_venvs_bytecode_as_its_own(tmp_path: Path) -> None:
    share, venv_a, venv_b = _compiled_in_a(tmp_path)
    prefix = share.prefix
    assert share.is_new(venv_b)
    assert share.seed(venv_b) == 1
    pyc_b = share.pyc(venv_b / "site" / "mod.py")
    assert pyc_b.stat().st_ino == share.pyc(venv_a / "site" / "mod.py").stat().st_ino
    before = pyc_b.stat()
    filename, value, cached = _run(prefix, venv_b / "site")
    # Loaded, not recompiled, and the code knows it runs from venv-b.
    assert pyc_b.stat().st_mtime_ns == before.st_mtime_ns and pyc_b.stat().st_nlink == 2
    assert Path(filename) == venv_b / "site" / "mod.py"
    assert (value, Path(cached)) == ("cached", pyc_b)
    assert not share.is_new(venv_b)


def test_another_file_with_the_same_name_is_never_given_that_bytecode(tmp_path: Path) -> None:
    share, _venv_a, venv_b = _compiled_in_a(tmp_path)
    # venv-b's mod.py replaced by another file: same name and size, other bytes.
    other = venv_b / "site" / "mod.py"
    other.unlink()
    other.write_text(SOURCE.format(value="OTHER!"))
    assert share.seed(venv_b) == 0
    assert _run(share.prefix, venv_b / "site")[1] == "OTHER!"


def test_a_source_gone_from_its_first_venv_is_not_trusted(tmp_path: Path) -> None:
    """An inode number may be reused once its file is gone: then nothing is linked."""
    share, venv_a, venv_b = _compiled_in_a(tmp_path)
    (venv_a / "site" / "mod.py").unlink()
    assert share.seed(venv_b) == 0
    assert _run(share.prefix, venv_b / "site")[1] == "cached"
