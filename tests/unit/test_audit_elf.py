"""Static audit of ELF wheels: real extensions built with gcc, wrapped in real wheels."""

from __future__ import annotations

import hashlib
import logging
import subprocess
import sys
import zipfile
from collections.abc import Mapping
from pathlib import Path

import pytest

from checker.audit import AUDIT_KINDS, AuditResult, audit_wheel
from checker.binary import SNIFF_SIZE, read_binary
from checker.findings import Finding
from checker.wheel.contents import open_wheel
from tests.support.wheelbuild import (
    NEEDS_GCC_ON_LINUX,
    PythonBuild,
    compile_shared,
    make_wheel,
    module_source,
)

pytestmark = NEEDS_GCC_ON_LINUX

DEP_SOURCE = "int nicdep_value(void) { return 42; }\n"
USES_DEP = module_source(
    "_ext", body="if (nicdep_value() != 42) return NULL;", prelude="int nicdep_value(void);"
)
USES_PTHREAD = module_source(
    "_ext",
    body="pthread_t t; if (pthread_create(&t, NULL, start, NULL) == 0) pthread_join(t, NULL);",
    prelude="#include <pthread.h>\nstatic void *start(void *arg) { return arg; }",
)


@pytest.fixture(scope="module")
def build() -> PythonBuild:
    from tests.support.wheelbuild import python_build

    return python_build(Path(sys.executable))


@pytest.fixture(scope="module")
def arch(build: PythonBuild) -> str:
    if not build.platform.startswith("linux-"):
        pytest.skip("needs a Linux build of Python")
    return build.platform.split("-", 1)[1]


@pytest.fixture(scope="module")
def dep(tmp_path_factory: pytest.TempPathFactory, build: PythonBuild) -> Path:
    out = tmp_path_factory.mktemp("dep") / "libnicdep.so"
    compile_shared(build, DEP_SOURCE, out, python_headers=False, args=["-Wl,-soname,libnicdep.so"])
    return out


def _ext(build: PythonBuild, tmp: Path, source: str, *args: str) -> bytes:
    folder = tmp / f"ext-{hashlib.sha256(repr((source, args)).encode()).hexdigest()[:12]}"
    return compile_shared(build, source, folder / "_ext.so", args=args)


def _audit(folder: Path, files: Mapping[str, bytes | str], tag: str, **kw: str) -> AuditResult:
    wheel = make_wheel(folder, "pkg", "1.0", files, tag=tag)
    contents, findings = open_wheel(wheel)
    assert contents is not None, findings
    with contents:
        return audit_wheel(contents, **kw)


def _only(result: AuditResult, kind: str) -> Finding:
    found = [f for f in result.findings if f.kind == kind]
    assert len(found) == 1, result.findings
    assert found[0].stage == "static"
    return found[0]


def test_unshipped_library_is_named_with_who_needs_it(
    tmp_path: Path, build: PythonBuild, arch: str, dep: Path
) -> None:
    ext = _ext(build, tmp_path, USES_DEP, f"-L{dep.parent}", "-lnicdep")
    files: dict[str, bytes | str] = {"pkg/__init__.py": "", "pkg/_ext.so": ext}
    result = _audit(tmp_path / "a", files, f"cp311-cp311-manylinux_2_17_{arch}")
    found = _only(result, "external-library")
    assert "libnicdep.so" in found.error and "pkg._ext" in found.error
    assert (found.module, found.file) == ("pkg._ext", "pkg/_ext.so")
    (binary,) = result.binaries
    assert binary.module == "pkg._ext"
    link = next(link for link in binary.links if link.name == "libnicdep.so")
    assert (link.resolved, link.how) == (None, "external")
    assert result.platform == f"manylinux_2_17_{arch}"

    # No manylinux promise: no allow-list check, but the library is still resolved nowhere.
    plain = _audit(tmp_path / "b", files, f"cp311-cp311-linux_{arch}")
    missing = _only(plain, "missing-library")
    assert "libnicdep.so" in missing.error and "pkg._ext" in missing.error
    assert all(f.kind == "missing-library" for f in plain.findings)


def test_bundled_library_found_through_origin_rpath(
    tmp_path: Path, build: PythonBuild, arch: str, dep: Path
) -> None:
    rpath = "-Wl,-rpath,$ORIGIN/../pkg.libs"
    ext = _ext(build, tmp_path, USES_DEP, f"-L{dep.parent}", "-lnicdep", rpath)
    assert read_binary(ext, "x").slices[0].runpaths + read_binary(ext, "x").slices[0].rpaths
    files: dict[str, bytes | str] = {"pkg/_ext.so": ext, "pkg.libs/libnicdep.so": dep.read_bytes()}
    result = _audit(tmp_path / "a", files, f"cp311-cp311-manylinux_2_17_{arch}")
    assert result.findings == ()
    binary = next(b for b in result.binaries if b.module == "pkg._ext")
    link = next(link for link in binary.links if link.name == "libnicdep.so")
    assert (link.resolved, link.how) == ("pkg.libs/libnicdep.so", "bundled")
    assert {link.how for link in binary.links} <= {"bundled", "system"}
    library = next(b for b in result.binaries if b.file == "pkg.libs/libnicdep.so")
    assert library.module == "pkg.libs/libnicdep.so"

    # The library shipped, but not where the binary looks: missing, with both places named.
    moved = {"pkg/_ext.so": ext, "pkg/data/libnicdep.so": dep.read_bytes()}
    result = _audit(tmp_path / "b", moved, f"cp311-cp311-manylinux_2_17_{arch}")
    found = _only(result, "missing-library")
    assert "libnicdep.so" in found.error and "pkg/data/libnicdep.so" in found.error
    assert "pkg.libs" in found.error


def test_symbol_version_newer_than_the_tag(tmp_path: Path, build: PythonBuild, arch: str) -> None:
    ext = _ext(build, tmp_path, USES_PTHREAD, "-lpthread")
    versions = {s.version for s in read_binary(ext, "x").slices[0].imported_symbols}
    if "GLIBC_2.34" not in versions:
        pytest.skip(f"this glibc does not version pthread_create at 2.34: {versions}")
    files: dict[str, bytes | str] = {"pkg/_ext.so": ext}
    old = _audit(tmp_path / "a", files, f"cp311-cp311-manylinux_2_17_{arch}")
    found = _only(old, "symbol-version")
    assert "GLIBC_2.34" in found.error and "pthread_create" in found.error
    assert f"manylinux_2_17_{arch}" in found.error and "pkg._ext" in found.error
    (binary,) = old.binaries
    assert binary.symbol_versions["GLIBC"] >= "2.34"

    assert _audit(tmp_path / "b", files, f"cp311-cp311-manylinux_2_36_{arch}").findings == ()

    # The wheel claims both tags: it must work on the older one (auditwheel semantics).
    both = _audit(tmp_path / "c", files, f"cp311-cp311-manylinux_2_17_{arch}.manylinux_2_36_{arch}")
    assert "GLIBC_2.34" in _only(both, "symbol-version").error
    legacy = _audit(tmp_path / "d", files, f"cp311-cp311-manylinux2014_{arch}")
    assert "GLIBC_2.34" in _only(legacy, "symbol-version").error

    # The project's glibc floor: stricter than the tag.
    floor = _audit(tmp_path / "e", files, f"cp311-cp311-manylinux_2_36_{arch}", min_glibc="2.28")
    found = _only(floor, "symbol-version")
    assert "GLIBC_2.34" in found.error and "floor is 2.28" in found.error
    assert "glibc floor 2.28" in floor.platform
    roomy = _audit(tmp_path / "f", files, f"cp311-cp311-manylinux_2_36_{arch}", min_glibc="2.36")
    assert roomy.findings == ()
    with pytest.raises(ValueError, match="min_glibc"):
        _audit(tmp_path / "g", files, f"cp311-cp311-manylinux_2_36_{arch}", min_glibc="new")


def test_abi3_violations(tmp_path: Path, build: PythonBuild, arch: str) -> None:
    limited = _ext(build, tmp_path, module_source("_ext"), "-DPy_LIMITED_API=0x03080000")
    tag = f"cp38-abi3-manylinux_2_17_{arch}"
    clean = _audit(tmp_path / "a", {"pkg/_ext.abi3.so": limited}, tag)
    assert clean.findings == ()
    assert "abi3 >= 3.8" in clean.platform

    body = (
        'PyObject *s = PyUnicode_FromString("x"); Py_ssize_t n;'
        "if (!PyUnicode_AsUTF8(s) || !PyUnicode_AsUTF8AndSize(s, &n)) return NULL;"
    )
    full = _ext(build, tmp_path, module_source("_ext", body=body))
    found = _only(_audit(tmp_path / "b", {"pkg/_ext.abi3.so": full}, tag), "abi3-violation")
    assert "PyUnicode_AsUTF8 (not in the stable ABI)" in found.error
    assert "PyUnicode_AsUTF8AndSize (added in 3.10)" in found.error
    assert "cp38-abi3" in found.error and found.module == "pkg._ext"
    # The same binary in a version-specific wheel is not an abi3 question.
    assert _audit(tmp_path / "c", {"pkg/_ext.so": full}, f"cp311-cp311-linux_{arch}").findings == ()


def test_architecture_and_pure_wheels(
    tmp_path: Path, build: PythonBuild, arch: str, dep: Path
) -> None:
    ext = _ext(build, tmp_path, USES_DEP, f"-L{dep.parent}", "-lnicdep")
    other = "aarch64" if arch != "aarch64" else "x86_64"
    files: dict[str, bytes | str] = {"pkg/_ext.so": ext, "pkg.libs/libnicdep.so": dep.read_bytes()}
    wrong = _audit(tmp_path / "a", files, f"cp311-cp311-manylinux_2_17_{other}")
    kinds = {f.kind for f in wrong.findings}
    assert "architecture" in kinds
    assert any(arch in f.error and other in f.error for f in wrong.findings)

    # A pure wheel promises no platform: its binaries are described, never judged.
    pure = _audit(tmp_path / "b", {"pkg/_ext.so": ext}, "py3-none-any")
    assert pure.findings == () and pure.platform == "any"
    assert [b.module for b in pure.binaries] == ["pkg._ext"]


def test_binaries_are_found_by_content_and_bad_ones_skipped(
    tmp_path: Path, build: PythonBuild, arch: str, dep: Path, caplog: pytest.LogCaptureFixture
) -> None:
    files: dict[str, bytes | str] = {
        "pkg/blob.bin": dep.read_bytes(),  # an ELF without a library suffix
        "pkg/fake.so": "not a binary at all\n",
        "pkg/broken.so": b"\x7fELF" + b"\x02\x01\x01" + b"\xff" * 200,
        "pkg/__init__.py": "",
    }
    with caplog.at_level(logging.WARNING, logger="checker.audit"):
        result = _audit(tmp_path / "a", files, f"cp311-cp311-manylinux_2_17_{arch}")
    assert [b.file for b in result.binaries] == ["pkg/blob.bin"]
    assert result.findings == ()
    assert any("pkg/broken.so" in r.getMessage() for r in caplog.records)
    data = result.to_json()
    assert data["policy"] == f"manylinux_2_17_{arch}"
    (binary,) = data["binaries"]
    assert binary["module"] == "pkg/blob.bin" and binary["format"] == "elf"
    assert binary["architectures"] == [arch]
    assert all(set(link) == {"name", "resolved", "how"} for link in binary["links"])
    assert set(binary) == {
        "file", "module", "format", "architectures", "links", "symbol_versions", "min_os",
    }  # fmt: skip
    assert set(AUDIT_KINDS) == {
        "missing-library", "external-library", "symbol-version", "macos-version",
        "architecture", "abi3-violation", "exec-stack", "isa-level",
    }  # fmt: skip


def test_audit_reads_only_the_sniff_bytes_of_other_files(
    tmp_path: Path, build: PythonBuild, arch: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ext = _ext(build, tmp_path, module_source("_ext"))
    padding = bytes(range(256)) * (4 * 1024 * 4)  # 4 MiB data files that are not binaries
    files: dict[str, bytes | str] = {"pkg/_ext.so": ext}
    files.update({f"pkg/data/{i}.dat": padding[i:] for i in range(4)})
    wheel = make_wheel(tmp_path, "pkg", "1.0", files, tag=f"cp311-cp311-manylinux_2_17_{arch}")
    read = 0
    original = zipfile.ZipExtFile.read

    def counting_read(self: zipfile.ZipExtFile, n: int | None = -1) -> bytes:
        nonlocal read
        data = original(self, n)
        read += len(data)
        return data

    monkeypatch.setattr(zipfile.ZipExtFile, "read", counting_read)
    contents, _ = open_wheel(wheel)
    assert contents is not None
    read = 0
    with contents:
        result = audit_wheel(contents)
    assert [b.module for b in result.binaries] == ["pkg._ext"]
    # The extension twice at most (sniff + whole), every other member up to SNIFF_SIZE.
    assert read <= len(ext) + len(contents.names) * SNIFF_SIZE, read


# std::runtime_error(const char*) at GLIBCXX_3.4.21 (gcc 5), as cupy 14.2.0 needs it.
USES_GLIBCXX_3_4_21 = """
void nic_runtime_error(void *self, const char *what);
__asm__(".symver nic_runtime_error, _ZNSt13runtime_errorC1EPKc@GLIBCXX_3.4.21");
int nic_cxx(void *self) { nic_runtime_error(self, "x"); return 0; }
"""


def test_above_the_tag_within_the_users_floor_is_a_warning(
    tmp_path: Path, build: PythonBuild, arch: str
) -> None:
    """cupy 14.2.0 is tagged manylinux2014 and needs GLIBCXX_3.4.21: true for CentOS 7, harmless
    on a Rocky 8 floor (glibc 2.28, whose manylinux policy allows GLIBCXX up to 3.4.24)."""
    try:
        lib = _ext(build, tmp_path, USES_GLIBCXX_3_4_21, "-lstdc++")
    except subprocess.CalledProcessError as exc:  # e.g. gcc without g++'s libstdc++ to link
        pytest.skip(f"gcc cannot link against libstdc++ here: {exc.stderr.strip()[-200:]}")
    versions = {s.version for s in read_binary(lib, "x").slices[0].imported_symbols}
    assert "GLIBCXX_3.4.21" in versions, versions
    files: dict[str, bytes | str] = {"pkg/__init__.py": "", "pkg/libnic.so": lib}
    tag = f"py3-none-manylinux2014_{arch}"
    strict = _only(_audit(tmp_path / "a", files, tag), "symbol-version")
    assert strict.severity == "failure" and "GLIBCXX_3.4.21" in strict.error
    floor = _audit(tmp_path / "b", files, tag, min_glibc="2.28")
    (warning,) = floor.findings
    assert (warning.kind, warning.severity) == ("symbol-version", "warning")
    assert "GLIBCXX_3.4.21" in warning.error
    assert f"manylinux_2_17_{arch} promises (up to GLIBCXX_3.4.19)" in warning.error
    assert f"within the glibc floor 2.28 (manylinux_2_28_{arch} allows up to GLIBCXX_3.4." in (
        warning.error
    )
    # A floor no newer than the tag excuses nothing.
    same = _only(_audit(tmp_path / "c", files, tag, min_glibc="2.17"), "symbol-version")
    assert same.severity == "failure"


def test_a_glibc_symbol_above_the_floor_stays_a_failure(
    tmp_path: Path, build: PythonBuild, arch: str
) -> None:
    ext = _ext(build, tmp_path, USES_PTHREAD, "-lpthread")
    versions = {s.version for s in read_binary(ext, "x").slices[0].imported_symbols}
    if "GLIBC_2.34" not in versions:
        pytest.skip(f"this glibc does not version pthread_create at 2.34: {versions}")
    files: dict[str, bytes | str] = {"pkg/_ext.so": ext}
    tag = f"cp311-cp311-manylinux2014_{arch}"
    within = _only(_audit(tmp_path / "a", files, tag, min_glibc="2.36"), "symbol-version")
    assert within.severity == "warning" and "within the glibc floor 2.36" in within.error
    above = _only(_audit(tmp_path / "b", files, tag, min_glibc="2.28"), "symbol-version")
    assert above.severity == "failure"
    # manylinux2014's highest GLIBC_ is the policy's (2.17 on x86_64, 2.18 on aarch64).
    assert f"manylinux_2_17_{arch} allows up to GLIBC_2.1" in above.error
    assert "the glibc floor is 2.28" in above.error


def test_gcc_links_what_we_expect(tmp_path: Path, build: PythonBuild, dep: Path) -> None:
    """Guard for the fixtures: gcc records libnicdep.so as DT_NEEDED (no --as-needed drop)."""
    ext = _ext(build, tmp_path, USES_DEP, f"-L{dep.parent}", "-lnicdep")
    assert "libnicdep.so" in read_binary(ext, "x").slices[0].needed
    assert read_binary(dep.read_bytes(), "dep").slices[0].soname == "libnicdep.so"


def test_gpu_driver_library_is_a_driver_link_not_a_finding(
    tmp_path: Path, build: PythonBuild, arch: str
) -> None:
    """libcuda.so.1 comes with the NVIDIA driver: no wheel can ship it (torch links it)."""
    stub = tmp_path / "driver" / "libcuda.so.1"
    compile_shared(
        build, "int cuInit(unsigned f) { return (int)f; }\n", stub, python_headers=False,
        args=["-Wl,-soname,libcuda.so.1"],
    )  # fmt: skip
    source = module_source("_ext", body="cuInit(0);", prelude="int cuInit(unsigned);")
    ext = _ext(build, tmp_path, source, str(stub))
    files: dict[str, bytes | str] = {"pkg/__init__.py": "", "pkg/_ext.so": ext}
    result = _audit(tmp_path / "a", files, f"cp311-cp311-manylinux_2_17_{arch}")
    assert result.findings == ()
    (binary,) = result.binaries
    link = next(link for link in binary.links if link.name == "libcuda.so.1")
    assert (link.how, link.resolved) == ("driver", "libcuda.so.*")


def test_hpc_fabric_libraries_are_the_machines(
    tmp_path: Path, build: PythonBuild, arch: str
) -> None:
    """nvidia-nvshmem's bootstrap and transport plugins link the cluster's MPI, PMIx,
    OpenSHMEM, libfabric and UCX: like the RDMA stack, the target machine's."""
    fabric = ("libmpi.so.40", "libpmix.so.2", "liboshmem.so.40", "libfabric.so.1", "libucp.so.0")
    stubs = []
    for index, soname in enumerate(fabric):
        stub = tmp_path / "fabric" / soname
        compile_shared(
            build, f"int nic_fabric_{index}(void) {{ return {index}; }}\n", stub,
            python_headers=False, args=[f"-Wl,-soname,{soname}"],
        )  # fmt: skip
        stubs.append(str(stub))
    calls = " ".join(f"nic_fabric_{i}();" for i in range(len(fabric)))
    decls = " ".join(f"int nic_fabric_{i}(void);" for i in range(len(fabric)))
    plugin = _ext(
        build, tmp_path, f"{decls}\nint nic_plugin(void) {{ {calls} return 0; }}\n", *stubs
    )
    files: dict[str, bytes | str] = {"pkg/__init__.py": "", "pkg/lib/nic_transport.so.7": plugin}
    result = _audit(tmp_path / "a", files, f"py3-none-manylinux_2_17_{arch}")
    assert result.findings == ()
    (binary,) = result.binaries
    how = {link.name: link.how for link in binary.links if link.name in fabric}
    assert how == dict.fromkeys(fabric, "driver")


def test_unresolved_link_keeps_the_paths_the_loader_tries(
    tmp_path: Path, build: PythonBuild, arch: str, dep: Path
) -> None:
    """RUNPATH entries above the wheel's own files are kept for the install's other wheels."""
    rpath = "-Wl,--enable-new-dtags,-rpath,$ORIGIN/../nvidia/dep/lib:$ORIGIN/../../../../lib"
    ext = _ext(build, tmp_path, USES_DEP, f"-L{dep.parent}", "-lnicdep", rpath)
    files: dict[str, bytes | str] = {"pkg/__init__.py": "", "pkg/_ext.so": ext}
    result = _audit(tmp_path / "a", files, f"cp311-cp311-manylinux_2_17_{arch}")
    (binary,) = result.binaries
    link = next(link for link in binary.links if link.name == "libnicdep.so")
    assert link.how == "external"
    assert link.candidates == ("nvidia/dep/lib/libnicdep.so", "../../../lib/libnicdep.so")
