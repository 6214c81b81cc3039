"""Libraries a dependency ships where the loader does not look (torch/lib/libc10.so for
torchvision/_C.so): gcc-built wheels, the static audit resolved across the folder."""

from __future__ import annotations

import platform
import shutil
import sys
from pathlib import Path

import pytest

from checker.audit import audit_wheel
from checker.audit.across import resolve_across
from checker.audit.model import AuditResult
from checker.runs.audit import Folder
from checker.wheel.contents import open_wheel
from checker.wheel.discover import discover
from tests.support.wheelbuild import (
    PythonBuild,
    compile_shared,
    make_wheel,
    module_source,
    python_build,
)

pytestmark = pytest.mark.skipif(
    shutil.which("gcc") is None or not sys.platform.startswith("linux"),
    reason="needs gcc on Linux",
)

USES_FOO = module_source(
    "_core", body="if (nicfoo_value() != 7) return NULL;", prelude="int nicfoo_value(void);"
)


@pytest.fixture(scope="module")
def build() -> PythonBuild:
    return python_build(Path(sys.executable))


def _folder(tmp: Path, build: PythonBuild, *, requires: bool) -> Path:
    """nicfooprov ships nicfooprov/lib/libnicfoo.so (as torch ships torch/lib/libc10.so);
    nicfoouse's extension needs libnicfoo.so with no RPATH at all."""
    tag = f"cp{build.version}-cp{build.version}-manylinux_2_17_{platform.machine()}"
    lib = tmp / "lib" / "libnicfoo.so"
    source = "int nicfoo_value(void) { return 7; }\n"
    compile_shared(build, source, lib, python_headers=False, args=["-Wl,-soname,libnicfoo.so"])
    folder = tmp / "packages"
    files: dict[str, bytes | str] = {
        "nicfooprov/__init__.py": "",
        "nicfooprov/lib/libnicfoo.so": lib.read_bytes(),
    }
    make_wheel(folder, "nicfooprov", "1.0", files, tag=tag)
    ext = compile_shared(
        build,
        USES_FOO,
        tmp / "ext" / f"_core{build.ext_suffix}",
        args=[f"-L{lib.parent}", "-lnicfoo"],
    )
    files = {
        "nicfoouse/__init__.py": "import nicfooprov\n",
        f"nicfoouse/_core{build.ext_suffix}": ext,
    }
    requires_dist = ["nicfooprov>=1"] if requires else []
    make_wheel(folder, "nicfoouse", "1.0", files, tag=tag, requires_dist=requires_dist)
    return folder


def _audit(folder: Path) -> AuditResult:
    refs = discover(folder)
    (user,) = [r for r in refs if r.project == "nicfoouse"]
    contents, _findings = open_wheel(user.path)
    assert contents is not None
    with contents:
        before = audit_wheel(contents)
        assert [f.kind for f in before.findings] == ["external-library"]
        return resolve_across(before, Folder(tuple(refs), "linux-x64", {}).around(contents))


def _link(audit: AuditResult) -> dict[str, object]:
    (binary,) = audit.binaries
    (link,) = [link.to_json() for link in binary.links if link.name == "libnicfoo.so"]
    return link


def test_a_library_the_required_wheel_ships_anywhere_is_a_dependency(
    tmp_path: Path, build: PythonBuild
) -> None:
    audit = _audit(_folder(tmp_path, build, requires=True))
    assert audit.findings == ()
    link = _link(audit)
    assert (link["how"], link["resolved"]) == ("dependency", "nicfooprov/lib/libnicfoo.so")
    assert str(link["provider"]).startswith("nicfooprov-1.0-")
    assert "loaded when nicfooprov (which nicfoouse requires) is imported first" in str(
        link["note"]
    )


def test_the_same_library_in_a_wheel_outside_the_closure_stays_a_finding(
    tmp_path: Path, build: PythonBuild
) -> None:
    audit = _audit(_folder(tmp_path, build, requires=False))
    (finding,) = audit.findings
    assert finding.kind == "external-library"
    assert "only nicfooprov-1.0-" in finding.error and "does not bring that wheel" in finding.error
    assert _link(audit)["how"] == "external"
