"""Extension modules found by their export hook: PyInit_, PyModExport_ (PEP 793) and the
punycode U variants, in the module plan (import, set check) and the static audit alike."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from checker.audit import audit_wheel
from checker.audit.scan import iter_binaries
from checker.wheel.contents import extension_candidates, open_wheel
from checker.wheel.modules import entry_points, is_entry_point, plan_modules
from tests.support.wheelbuild import (
    NEEDS_GCC_ON_LINUX,
    compile_shared,
    export_module_source,
    make_wheel,
    python_build,
)


def test_entry_points_of_ascii_and_non_ascii_names() -> None:
    assert entry_points("_rust") == ("PyInit__rust", "PyModExport__rust")
    # CPython: name.encode("punycode") with "-" as "_" (PEP 489), e.g. "café" -> "caf-dma".
    assert entry_points("café") == ("PyInitU_caf_dma", "PyModExportU_caf_dma")
    assert all(map(is_entry_point, ("PyInit_x", "PyInitU_x", "PyModExport_x", "PyModExportU_x")))
    assert not is_entry_point("PyModule_Create2")


def _wheel(tmp_path: Path, files: dict[str, str]) -> Path:
    """A wheel of gcc-built modules: installed path -> C source."""
    build = python_build(Path(sys.executable))
    built: dict[str, bytes | str] = {"nicexport/__init__.py": ""}
    for stem, source in files.items():
        out = tmp_path / "build" / (stem.replace("/", "__") + build.ext_suffix)
        built[stem + build.ext_suffix] = compile_shared(build, source, out)
    return make_wheel(tmp_path / "wheels", "nicexport", "1.0", built, tag=build.tag)


@NEEDS_GCC_ON_LINUX
def test_a_module_exporting_only_pymodexport_is_planned_for_import(tmp_path: Path) -> None:
    build = python_build(Path(sys.executable))
    path = _wheel(
        tmp_path,
        {
            "nicexport/_slots": export_module_source("_slots"),
            "nicexport/café": export_module_source("café", export_name="PyModExportU_caf_dma"),
            "nicexport/_other": export_module_source("_other", export_name="PyModExport_x"),
        },
    )
    contents, findings = open_wheel(path)
    assert contents is not None and findings == []
    with contents:
        candidates = extension_candidates(contents, [build.ext_suffix])
        plan = plan_modules(contents, candidates, ())
        assert [c.module for c in plan.to_import] == ["nicexport._slots", "nicexport.café"]
        (mismatch,) = plan.decided
        assert (mismatch.module, mismatch.kind) == ("nicexport._other", "init-mismatch")
        assert "PyModExport_x" in str(mismatch.error)
        assert "PyInit__other or PyModExport__other" in str(mismatch.error)
        extensions = {b.module for b in iter_binaries(contents) if b.is_extension}
        assert extensions == {"nicexport._slots", "nicexport.café"}


@NEEDS_GCC_ON_LINUX
def test_a_pymodexport_module_is_audited_for_abi3(tmp_path: Path) -> None:
    build = python_build(Path(sys.executable))
    prelude = "void nic_uses_print(PyObject *o) { PyObject_Print(o, NULL, 0); }"
    source = export_module_source("_slots", prelude=prelude)
    out = tmp_path / "build" / "_slots.abi3.so"
    data = compile_shared(build, source, out)
    tag = build.tag.replace(f"cp{build.version}-cp{build.version}", "cp311-abi3")
    path = make_wheel(tmp_path, "nicexport", "1.0", {"nicexport/_slots.abi3.so": data}, tag=tag)
    contents, _ = open_wheel(path)
    assert contents is not None
    with contents:
        result = audit_wheel(contents)
    (violation,) = [f for f in result.findings if f.kind == "abi3-violation"]
    assert "nicexport._slots" in violation.error
    assert "PyObject_Print (not in the stable ABI)" in violation.error


def _abi3t_wheel(tmp_path: Path, tag: str, prelude: str) -> Path:
    build = python_build(Path(sys.executable))
    source = export_module_source("_slots", prelude=prelude)
    data = compile_shared(build, source, tmp_path / "build" / "_slots.abi3t.so")
    platform = build.tag.split("-")[2]
    files: dict[str, bytes | str] = {"nicexport/_slots.abi3t.so": data}
    return make_wheel(tmp_path / tag, "nicexport", "1.0", files, tag=f"{tag}-{platform}")


@NEEDS_GCC_ON_LINUX
@pytest.mark.parametrize("tag", ["cp315-abi3.abi3t", "cp315-abi3t"])
def test_an_abi3t_wheel_is_held_to_the_stable_abi(tmp_path: Path, tag: str) -> None:
    # PyModule_Exec joined the stable ABI in 3.15; PyObject_Print never did.
    stable = "int nic_exec(PyObject *m) { return PyModule_Exec(m); }"
    clean = _abi3t_wheel(tmp_path / "clean", tag, stable)
    unstable = stable + "\nvoid nic_print(PyObject *o) { PyObject_Print(o, NULL, 0); }"
    dirty = _abi3t_wheel(tmp_path / "dirty", tag, unstable)
    results = {}
    for name, path in (("clean", clean), ("dirty", dirty)):
        contents, _ = open_wheel(path)
        assert contents is not None
        with contents:
            results[name] = audit_wheel(contents)
    assert [f.kind for f in results["clean"].findings if f.kind == "abi3-violation"] == []
    assert f"{tag.split('-')[1].replace('.', '/')} >= 3.15" in results["clean"].platform
    (violation,) = [f for f in results["dirty"].findings if f.kind == "abi3-violation"]
    assert f"tagged {tag} " in violation.error
    assert "PyObject_Print (not in the stable ABI)" in violation.error
    assert "PyModule_Exec" not in violation.error


@NEEDS_GCC_ON_LINUX
def test_a_symbol_newer_than_the_abi3t_claim_is_a_violation(tmp_path: Path) -> None:
    path = _abi3t_wheel(
        tmp_path, "cp314-abi3t", "int nic_exec(PyObject *m) { return PyModule_Exec(m); }"
    )
    contents, _ = open_wheel(path)
    assert contents is not None
    with contents:
        result = audit_wheel(contents)
    (violation,) = [f for f in result.findings if f.kind == "abi3-violation"]
    assert "PyModule_Exec (added in 3.15)" in violation.error
