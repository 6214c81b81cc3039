"""An interpreter that cannot start, made so for real on Linux as the embeddable CPython's venv
is on Windows: its stdlib is not where it looks, so it dies with ``Fatal Python error:
init_fs_encoding ... No module named 'encodings'`` (3.14+: ``Fatal Python error: Failed to
import encodings module ...``).

The base: ``{base}/bin/python3.X``, a symlink to this interpreter (which starts: it finds its
stdlib from its real path), beside a ``lib/python3.X/os.py`` that is only a landmark. uv's venv
records ``home = {base}/bin``; the venv's interpreter searches its stdlib from there, finds the
landmark and no ``encodings``: the venv cannot start while its base can. CPython 3.14 and
later find a venv's stdlib through the real path of its interpreter's symlink instead, so
there the checker's own (symlinked) venvs of that base start; a venv whose interpreter is a
copy of the real one still cannot.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from checker.probe.install import find_uv
from tests.support.noxrun import ROOT, run_nox
from tests.support.wheelbuild import (
    NEEDS_GCC_ON_LINUX,
    extension_wheel,
    make_wheel,
    module_source,
    python_build,
)

pytestmark = [pytest.mark.integration, NEEDS_GCC_ON_LINUX]

SCHEMA = json.loads((ROOT / "checker" / "data" / "report.schema.json").read_text())
VERSION = f"{sys.version_info[0]}.{sys.version_info[1]}"


def _base(folder: Path) -> Path:
    """A base that starts but whose venvs cannot."""
    python = folder / "bin" / f"python{VERSION}"
    python.parent.mkdir(parents=True)
    python.symlink_to(Path(sys.executable).resolve())
    landmark = folder / "lib" / f"python{VERSION}" / "os.py"
    landmark.parent.mkdir(parents=True)
    landmark.write_text("", encoding="utf-8")
    return python


def _venv(base: Path, venv: Path, *, copies: bool = False) -> Path:
    """A uv venv of ``base``; ``copies``: its interpreters copies of the real one, no symlinks."""
    subprocess.run([find_uv(), "venv", "-q", "--python", str(base), str(venv)], check=True)
    if copies:
        real = base.resolve()
        for link in (venv / "bin").glob("python*"):
            if link.is_symlink():
                link.unlink()
                shutil.copy2(real, link)
    return venv / "bin" / "python"


def _starts(python: Path) -> bool:
    return subprocess.run([str(python), "-c", "pass"], check=False).returncode == 0


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("nostart")
    build = python_build(Path(sys.executable))
    packages = root / "packages"
    for name in ("nicnostarta", "nicnostartb"):
        modules = {f"{name}/_one": module_source("_one"), f"{name}/_two": module_source("_two")}
        extension_wheel(packages, build, name, modules, workdir=root / "build" / name,
                        pure={f"{name}/__init__.py": ""})  # fmt: skip
    make_wheel(packages, "nicnostartpure", "1.0", {"nicnostartpure/__init__.py": ""})
    return packages


def test_a_venv_that_cannot_start_is_one_interpreter_failure_per_wheel(
    folder: Path, tmp_path: Path
) -> None:
    base = _base(tmp_path / "base")
    assert _starts(base)
    if _starts(_venv(base, tmp_path / "premise")):  # CPython 3.14+: see the module's docstring
        pytest.skip(f"a uv venv of {base} starts on CPython {VERSION}: its stdlib is found "
                    "through the real path of its interpreter's symlink")  # fmt: skip
    code, output, report = run_nox(tmp_path, folder, "-s", "check_native", "-P", str(base))
    assert report is not None, output
    jsonschema.validate(report, SCHEMA)
    assert code == 1, output
    native = [w for w in report["wheels"] if not w["wheel"].startswith("nicnostartpure")]
    assert len(native) == 2
    for wheel in native:
        (finding,) = [f for f in wheel["findings"] if f["kind"] == "interpreter"]
        assert "Fatal Python error" in finding["error"], finding
        assert "No module named 'encodings'" in finding["error"]
        assert "Current thread" not in finding["error"]
        assert finding["status"] == "failed"
        # Never one crash per module: the modules were not imported.
        assert {m["kind"] for m in wheel["modules"]} == {"not-installed"}
    set_kinds = {(f["kind"], f["status"]) for f in report["set"]}
    assert ("interpreter", "failed") in set_kinds
    assert "crash" not in output
    # Never whitelistable: no snippet offers it.
    assert "interpreter" not in json.dumps(report.get("whitelist_snippet") or {})


def test_a_target_that_cannot_start_is_a_setup_error_naming_it(
    folder: Path, tmp_path: Path
) -> None:
    base = _base(tmp_path / "base")
    target = _venv(base, tmp_path / "venv", copies=True)
    assert not _starts(target)
    code, output, _ = run_nox(tmp_path, folder, "-s", "check_native", "-P", str(target))
    assert code == 2, output
    assert f"interpreter {str(target)!r} cannot start" in output
    # 3.13 and older: "init_fs_encoding: failed to get the Python codec of the filesystem
    # encoding"; 3.14 and later: "Failed to import encodings module".
    assert "Fatal Python error" in output and "No module named 'encodings'" in output
    assert "Current thread" not in output and "Traceback" not in output
