"""Extras: optional backends are tested with the dependencies the folder ships."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.integration.conftest import build_context, check_in_folder
from tests.support.wheelbuild import extension_wheel, make_wheel, module_source, python_build

pytestmark = pytest.mark.integration

# The extension's PyInit imports an optional dependency, as cffi backends do.
IMPORTS_NICFAST = module_source(
    "_backend",
    body='PyObject *dep = PyImport_ImportModule("nicfastdep"); if (!dep) return NULL; '
    "Py_DECREF(dep);",
)


def _optional_backend_wheel(folder: Path, tmp: Path, name: str, dependency: str) -> Path:
    return extension_wheel(
        folder,
        python_build(Path(sys.executable)),
        name,
        {f"{name}/_backend": IMPORTS_NICFAST},
        workdir=tmp / f"build-{name}",
        pure={f"{name}/__init__.py": ""},
        requires_dist=[f'{dependency}>=1; extra == "fast"'],
    )


def test_extra_whose_dependency_ships_is_installed_and_tested(tmp_path: Path) -> None:
    folder = tmp_path / "packages"
    wheel = _optional_backend_wheel(folder, tmp_path, "nicopt", "nicfastdep")
    make_wheel(folder, "nicfastdep", "1.0", {"nicfastdep/__init__.py": ""})
    fragment = check_in_folder(build_context(tmp_path / "run", folder), wheel)
    assert fragment.extra["extras"] == ["fast"]
    (module,) = fragment.modules
    assert (module.module, module.status) == ("nicopt._backend", "ok")


def test_extra_the_folder_lacks_is_skipped_as_optional(tmp_path: Path) -> None:
    folder = tmp_path / "packages"
    wheel = _optional_backend_wheel(folder, tmp_path, "nicopt", "nicfastdep")
    fragment = check_in_folder(build_context(tmp_path / "run", folder), wheel)
    assert "extras" not in fragment.extra
    (module,) = fragment.modules
    assert (module.status, module.kind) == ("skipped", "optional-dependency")
    assert module.error is not None
    assert "nicfastdep" in module.error and "extra 'fast'" in module.error


def test_undeclared_module_in_the_folder_is_named_but_still_fails(tmp_path: Path) -> None:
    folder = tmp_path / "packages"
    wheel = extension_wheel(
        folder,
        python_build(Path(sys.executable)),
        "nicundecl",
        {"nicundecl/_backend": IMPORTS_NICFAST},
        workdir=tmp_path / "build",
        pure={"nicundecl/__init__.py": ""},
    )
    make_wheel(folder, "nicfastdep", "1.0", {"nicfastdep/__init__.py": ""})
    fragment = check_in_folder(build_context(tmp_path / "run", folder), wheel)
    (module,) = fragment.modules
    assert (module.status, module.kind) == ("failed", "missing-python-module")
    assert module.error is not None
    assert "not declared" in module.error and "'nicfastdep'" in module.error
