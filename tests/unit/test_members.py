"""Member bytes read once from disk (checker.wheel.members): installed files, checked against the
archive, or one streaming extraction; binaries parsed through mmap."""

from __future__ import annotations

import hashlib
import sys
import zipfile
from pathlib import Path

import pytest

from checker.binary import read_binary, read_binary_file
from checker.wheel.contents import open_wheel
from checker.wheel.members import MemberStore
from tests.support.wheelbuild import (
    NEEDS_GCC,
    compile_shared,
    make_wheel,
    module_source,
    python_build,
)

pytestmark = NEEDS_GCC


@pytest.fixture
def wheel(tmp_path: Path) -> Path:
    build = python_build(Path(sys.executable))
    ext = compile_shared(build, module_source("_ext"), tmp_path / "b" / "_ext.so")
    files: dict[str, bytes | str] = {"pkg/__init__.py": "X = 1\n", "pkg/_ext.so": ext}
    return make_wheel(tmp_path / "w", "pkg", "1.0", files, tag=build.tag)


def _sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def test_archive_members_stream_once_and_binaries_land_on_disk(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        store = MemberStore(archive)
        ext = archive.read("pkg/_ext.so")
        assert store.digest("pkg/_ext.so", "sha256") == (_sha(ext), len(ext))
        assert store.digest("pkg/__init__.py", "sha256") == (_sha(b"X = 1\n"), 6)
        path = store.path("pkg/_ext.so")  # kept while hashing: not inflated again
        assert (
            path.read_bytes() == ext
            and store.head("pkg/_ext.so") == ext[: len(store.head("pkg/_ext.so"))]
        )
        assert read_binary_file(path, "pkg/_ext.so") == read_binary(ext, "pkg/_ext.so")
        store.close()
        assert not path.exists()  # the extraction is temporary


def test_installed_file_is_read_when_it_is_the_member(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site, members=["pkg/__init__.py", "pkg/_ext.so"])
        store = MemberStore(archive)
        store.use_installed(lambda member: site / member)
        ext = archive.read("pkg/_ext.so")
        assert store.digest("pkg/_ext.so", "sha256") == (_sha(ext), len(ext))
        assert store.path("pkg/_ext.so") == site / "pkg/_ext.so"
        assert store.differing == set()


def test_an_installed_file_that_is_not_the_member_is_never_trusted(
    wheel: Path, tmp_path: Path
) -> None:
    """A stale cache entry under the same name: read from the archive, and reported."""
    site = tmp_path / "site"
    (site / "pkg").mkdir(parents=True)
    (site / "pkg" / "__init__.py").write_text("X = 2\n")  # same size, other bytes
    with zipfile.ZipFile(wheel) as archive:
        store = MemberStore(archive)
        store.use_installed(lambda member: site / member)
        assert store.digest("pkg/__init__.py", "sha256") == (_sha(b"X = 1\n"), 6)
        assert store.differing == {"pkg/__init__.py"}


def test_wheel_contents_parse_binaries_through_the_store(wheel: Path) -> None:
    contents, findings = open_wheel(wheel)
    assert contents is not None, findings
    with contents:
        info = contents.binary("pkg/_ext.so")
        assert "PyInit__ext" in info.exports
        assert contents.binary("pkg/_ext.so") is info  # parsed once
