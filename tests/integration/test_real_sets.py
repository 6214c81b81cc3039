"""What real wheel sets need (torch + CUDA, numba, zstandard), rebuilt small with gcc.

Each case is a real wheel with a real compiled extension, installed by real uv and imported:
a library found in a dependency wheel through ``RUNPATH $ORIGIN/../..`` (as torch finds
libcublas in nvidia-cublas-cu12), the same library only in a wheel the install does not bring
along, a library that exports nothing (torch's libtorch_global_deps), a missing library that
the original tool's whitelist accepts by its import error (numba's tbbpool) and an optional
backend whose provider the folder lacks (zstandard's ``_cffi`` without cffi).
"""

from __future__ import annotations

import json
import platform
import sys
from pathlib import Path

import pytest

from checker.probe.job import check_wheel
from checker.runs.aggregate import aggregate
from checker.runs.audit import Folder, audit_fragment
from checker.wheel.discover import discover
from checker.wheel.fragment import Fragment, write_fragment
from tests.integration.conftest import build_context, check_in_folder
from tests.support.locks import this_platform
from tests.support.wheelbuild import (
    NEEDS_GCC_ON_LINUX,
    PythonBuild,
    compile_shared,
    extension_wheel,
    make_wheel,
    module_source,
    python_build,
)

pytestmark = [pytest.mark.integration, NEEDS_GCC_ON_LINUX]

SHARED = "int nic_shared_value(void) { return 42; }\n"
USES_SHARED = module_source(
    "_core",
    body="if (nic_shared_value() != 42) return NULL;",
    prelude="int nic_shared_value(void);",
)
# An extension whose PyInit imports a module by another name than its distribution's, as
# zstandard's _cffi imports _cffi_backend (distribution cffi).
IMPORTS_BACKEND = module_source(
    "_cffi",
    body='PyObject *dep = PyImport_ImportModule("_nic_backend"); if (!dep) return NULL; '
    "Py_DECREF(dep);",
)


@pytest.fixture(scope="module")
def build() -> PythonBuild:
    return python_build(Path(sys.executable))


def _manylinux(build: PythonBuild) -> str:
    return f"cp{build.version}-cp{build.version}-manylinux_2_17_{platform.machine()}"


def _shared_lib(build: PythonBuild, tmp: Path) -> Path:
    out = tmp / "lib" / "libnicshared.so"
    args = ["-Wl,-soname,libnicshared.so"]
    compile_shared(build, SHARED, out, python_headers=False, args=args)
    return out


def _provider(folder: Path, build: PythonBuild, lib: Path) -> Path:
    """nicprov: ships nicprov/lib/libnicshared.so, as nvidia-cublas-cu12 ships libcublas."""
    files: dict[str, bytes | str] = {
        "nicprov/__init__.py": "",
        "nicprov/lib/libnicshared.so": lib.read_bytes(),
    }
    return make_wheel(folder, "nicprov", "1.0", files, tag=_manylinux(build))


def _user(folder: Path, build: PythonBuild, tmp: Path, lib: Path, *, requires: bool = True) -> Path:
    """nicuser: nicuser/sub/_core finds libnicshared.so through RUNPATH $ORIGIN/../../nicprov/lib
    (torch/lib/libtorch_cuda.so: $ORIGIN/../../nvidia/cublas/lib)."""
    args = [
        f"-L{lib.parent}",
        "-lnicshared",
        "-Wl,--enable-new-dtags,-rpath,$ORIGIN/../../nicprov/lib",
    ]
    ext = compile_shared(build, USES_SHARED, tmp / "user" / f"_core{build.ext_suffix}", args=args)
    files: dict[str, bytes | str] = {
        "nicuser/__init__.py": "",
        "nicuser/sub/__init__.py": "",
        f"nicuser/sub/_core{build.ext_suffix}": ext,
    }
    requires_dist = ["nicprov>=1"] if requires else []
    return make_wheel(
        folder, "nicuser", "1.0", files, tag=_manylinux(build), requires_dist=requires_dist
    )


def _check(tmp: Path, folder: Path, wheel: Path) -> Fragment:
    """The real per-wheel check (uv install, import) of ``wheel`` in ``folder``."""
    return check_in_folder(build_context(tmp / "run", folder), wheel)


def test_library_found_in_a_required_wheel_through_runpath(
    tmp_path: Path, build: PythonBuild
) -> None:
    folder = tmp_path / "packages"
    lib = _shared_lib(build, tmp_path)
    provider = _provider(folder, build, lib)
    wheel = _user(folder, build, tmp_path, lib)
    ctx = build_context(tmp_path / "run", folder)
    refs = discover(folder)
    (ref,) = [r for r in refs if r.path == wheel]
    fragment = check_wheel(ctx, ref, refs)
    assert [(m.module, m.status) for m in fragment.modules] == [("nicuser.sub._core", "ok")]
    assert fragment.findings == ()
    (binary,) = fragment.extra["audit"]["binaries"]
    (link,) = [link for link in binary["links"] if link["name"] == "libnicshared.so"]
    assert link["how"] == "dependency"
    assert link["provider"] == provider.name
    assert link["resolved"] == "nicprov/lib/libnicshared.so"
    # nox -s audit resolves it the same way, without installing anything.
    audited = audit_fragment(ref, ctx.settings, None, Folder(tuple(refs), this_platform(), {}))
    assert audited.findings == ()


def test_library_only_in_a_wheel_outside_the_closure_is_named(
    tmp_path: Path, build: PythonBuild
) -> None:
    folder = tmp_path / "packages"
    lib = _shared_lib(build, tmp_path)
    provider = _provider(folder, build, lib)
    wheel = _user(folder, build, tmp_path, lib, requires=False)
    ctx = build_context(tmp_path / "run", folder)
    refs = discover(folder)
    (ref,) = [r for r in refs if r.path == wheel]
    fragment = check_wheel(ctx, ref, refs)
    # The venv lacks nicprov: the import fails, and the static finding explains why.
    (module,) = fragment.modules
    assert (module.status, module.kind) == ("failed", "missing-library")
    assert "libnicshared.so" in (module.error or "")
    (why,) = module.explanation
    assert why.kind == "external-library"
    assert provider.name in why.error and "does not bring" in why.error
    assert fragment.findings == ()  # one failure, not two


def test_dependency_absent_from_the_folder_leaves_the_library_unresolved(
    tmp_path: Path, build: PythonBuild
) -> None:
    folder = tmp_path / "packages"
    lib = _shared_lib(build, tmp_path)
    wheel = _user(folder, build, tmp_path, lib)
    fragment = _check(tmp_path, folder, wheel)
    assert fragment.install == "failed"
    kinds = sorted(f.kind for f in fragment.findings)
    assert kinds == ["external-library", "missing-dependency"]
    (static,) = [f for f in fragment.findings if f.stage == "static"]
    assert "libnicshared.so" in static.error


def test_library_that_exports_nothing_is_not_a_module(tmp_path: Path, build: PythonBuild) -> None:
    folder = tmp_path / "packages"
    # Like torch/lib/libtorch_global_deps.so: only DT_NEEDED entries, not one exported symbol.
    blob = compile_shared(
        build,
        "static int unused(void) { return 0; }\n",
        tmp_path / "g" / "libnic_global_deps.so",
        python_headers=False,
        args=["-nostartfiles", "-Wl,--no-as-needed", "-lm"],
    )
    wheel = make_wheel(
        folder,
        "nicglobal",
        "1.0",
        {"nicglobal/__init__.py": "", "nicglobal/lib/libnic_global_deps.so": blob},
        tag=build.tag,
    )
    fragment = _check(tmp_path, folder, wheel)
    (module,) = fragment.modules
    assert (module.module, module.status, module.kind) == (
        "nicglobal.lib.libnic_global_deps",
        "skipped",
        "not-a-module",
    )
    assert "exports no symbol" in (module.note or module.error or "")


def test_missing_library_whitelisted_by_its_import_error_only(
    tmp_path: Path, build: PythonBuild
) -> None:
    """numba's tbbpool: the original tool's entry names the import error, not the audit's."""
    folder = tmp_path / "packages"
    lib = _shared_lib(build, tmp_path)
    ext = compile_shared(
        build,
        USES_SHARED,
        tmp_path / "tbb" / f"_core{build.ext_suffix}",
        args=[f"-L{lib.parent}", "-lnicshared"],
    )
    files: dict[str, bytes | str] = {
        "nictbb/__init__.py": "",
        f"nictbb/_core{build.ext_suffix}": ext,
    }
    make_wheel(folder, "nictbb", "1.0", files, tag=_manylinux(build))
    project = tmp_path / "project"
    (project / "whitelists").mkdir(parents=True)
    entry = {"nictbb-*.whl": {"nictbb._core": "libnicshared.so: cannot open shared object file"}}
    (project / "whitelists" / f"{this_platform()}.json").write_text(json.dumps(entry))
    ctx = build_context(project, folder, {"NATIVE_CHECK_SET_CHECK": "0"})  # wheels only
    refs = discover(folder)
    for ref in refs:
        write_fragment(ctx.fragments_dir, check_wheel(ctx, ref, refs))
    report = aggregate(ctx, refs)
    (verdict,) = report.wheels
    assert verdict.status == "whitelisted", verdict
    (module,) = verdict.modules
    assert module.status == "whitelisted"
    assert [f.kind for f in module.result.explanation] == ["external-library"]
    assert verdict.findings == ()
    assert report.exit_code == 0 and report.unused_whitelist == ()
    assert report.whitelist_path == str(project / "whitelists" / f"{this_platform()}.json")


def _backend_user(folder: Path, build: PythonBuild, tmp: Path) -> Path:
    return extension_wheel(
        folder,
        build,
        "niczstd",
        {"niczstd/_cffi": IMPORTS_BACKEND},
        workdir=tmp / "build-niczstd",
        pure={"niczstd/__init__.py": ""},
        requires_dist=['nicbackend~=1.17; extra == "cffi"'],
    )


def test_optional_backend_whose_provider_the_folder_lacks(
    tmp_path: Path, build: PythonBuild
) -> None:
    folder = tmp_path / "packages"
    wheel = _backend_user(folder, build, tmp_path)
    fragment = _check(tmp_path, folder, wheel)
    (module,) = fragment.modules
    assert (module.status, module.kind) == ("skipped", "optional-dependency")
    assert module.error is not None
    assert "no wheel in the folder provides '_nic_backend'" in module.error
    assert "the extra 'cffi' (nicbackend~=1.17) is not satisfiable here" in module.error
    assert "not declared" not in module.error


def test_optional_backend_with_a_provider_the_extra_cannot_use(
    tmp_path: Path, build: PythonBuild
) -> None:
    """The same verdict whether or not an unusable provider happens to be in the folder."""
    folder = tmp_path / "packages"
    wheel = _backend_user(folder, build, tmp_path)
    make_wheel(folder, "nicbackend", "2.0", {"_nic_backend.py": ""})
    fragment = _check(tmp_path, folder, wheel)
    (module,) = fragment.modules
    assert (module.status, module.kind) == ("skipped", "optional-dependency")
    assert module.error is not None
    assert "the extra 'cffi' (nicbackend~=1.17) is not satisfiable here" in module.error


def test_library_a_dependency_installs_into_the_venv_prefix(
    tmp_path: Path, build: PythonBuild
) -> None:
    """A ``.data/data/lib/`` file lands in the venv's ``lib/``; RUNPATH can point there."""
    folder = tmp_path / "packages"
    lib = _shared_lib(build, tmp_path)
    provider = make_wheel(
        folder,
        "nicprefix",
        "1.0",
        {"nicprefix-1.0.data/data/lib/libnicshared.so": lib.read_bytes()},
        tag=_manylinux(build),
    )
    args = [
        f"-L{lib.parent}",
        "-lnicshared",
        "-Wl,--enable-new-dtags,-rpath,$ORIGIN/../../../../lib",
    ]
    ext = compile_shared(
        build, USES_SHARED, tmp_path / "pfx" / f"_core{build.ext_suffix}", args=args
    )
    files: dict[str, bytes | str] = {
        "nicdata/__init__.py": "",
        f"nicdata/_core{build.ext_suffix}": ext,
    }
    wheel = make_wheel(
        folder, "nicdata", "1.0", files, tag=_manylinux(build), requires_dist=["nicprefix"]
    )
    fragment = _check(tmp_path, folder, wheel)
    assert [(m.module, m.status) for m in fragment.modules] == [("nicdata._core", "ok")]
    assert fragment.findings == ()
    (binary,) = fragment.extra["audit"]["binaries"]
    (link,) = [link for link in binary["links"] if link["name"] == "libnicshared.so"]
    assert (link["how"], link["provider"]) == ("dependency", provider.name)
    assert link["resolved"] == "../../../lib/libnicshared.so"
