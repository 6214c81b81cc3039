"""Tests for checker.wheel.fragment: JSON round trip, atomic writes, damaged fragments."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from checker.errors import InputFileError
from checker.findings import Finding, ModuleResult
from checker.wheel.fragment import (
    FRAGMENT_VERSION,
    Fingerprint,
    Fragment,
    fragment_path,
    read_fragment,
    remove_fragment,
    sha256_file,
    write_fragment,
)

WHEEL = "alpha-1.0-cp311-cp311-linux_x86_64.whl"


def _fragment(**changes: object) -> Fragment:
    base = Fragment(
        wheel=WHEEL,
        project="alpha",
        version="1.0",
        sha256="ab" * 32,
        size=1234,
        run_id="run-1",
        fingerprint="0123456789abcdef01234567",
        python="3.11.7",
        interpreter="/opt/python/bin/python3.11",
        platform="linux-x64",
        variant="python-3.11.7",
        duration=2.5,
        install="ok",
        findings=(
            Finding("integrity", "integrity", "integrity", "'a.py' does not match", "a.py"),
            Finding("install", "install", "missing-dependency", "no wheel for 'b'"),
        ),
        modules=(
            ModuleResult("alpha._x", "alpha/_x.so", "ok", duration=0.25),
            ModuleResult("alpha._y", "alpha/_y.so", "failed", "crash", "Segfault", None, 0.5),
            ModuleResult("alpha._z", None, "skipped", "not-a-module", None, "no PyInit_", 0.0),
        ),
        extra={"static": {"needed": ["libc.so.6"]}, "note": "x"},
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_round_trip() -> None:
    frag = _fragment()
    data = frag.to_json()
    assert data["fragment_version"] == FRAGMENT_VERSION
    # Through real JSON text, as the aggregate reads it.
    assert Fragment.from_json(json.loads(json.dumps(data))) == frag


def test_round_trip_minimal() -> None:
    frag = _fragment(project=None, version=None, findings=(), modules=(), extra={})
    assert Fragment.from_json(json.loads(json.dumps(frag.to_json()))) == frag


def test_write_and_read(tmp_path: Path) -> None:
    folder = tmp_path / "fragments"
    frag = _fragment()
    path = write_fragment(folder, frag)
    assert path == fragment_path(folder, WHEEL)
    assert path.name == WHEEL + ".json"
    assert json.loads(path.read_text(encoding="utf-8"))["wheel"] == WHEEL
    assert read_fragment(path) == frag
    assert [p.name for p in folder.iterdir()] == [path.name]


def test_write_overwrites_atomically(tmp_path: Path) -> None:
    first = _fragment(run_id="run-1")
    second = _fragment(run_id="run-2", modules=())
    path = write_fragment(tmp_path, first)
    assert write_fragment(tmp_path, second) == path
    assert read_fragment(path) == second
    leftovers = [p.name for p in tmp_path.iterdir() if p != path]
    assert leftovers == []


def test_remove_fragment(tmp_path: Path) -> None:
    path = write_fragment(tmp_path, _fragment())
    remove_fragment(tmp_path, WHEEL)
    assert not path.exists()
    remove_fragment(tmp_path, WHEEL)  # absent: no error


def test_read_missing_is_none(tmp_path: Path) -> None:
    assert read_fragment(tmp_path / "absent.whl.json") is None


@pytest.mark.parametrize(
    "content",
    [
        b"{ this is not json",
        b"",
        b"[]",
        b"null",
        b'"text"',
        b"\xff\xfe\x00\x01 binary garbage",
        b'{"fragment_version": 1}',
        b'{"fragment_version": 1, "wheel": "x", "sha256": "", "size": "big"}',
    ],
)
def test_read_garbage_names_the_path(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / (WHEEL + ".json")
    path.write_bytes(content)
    with pytest.raises(InputFileError) as info:
        read_fragment(path)
    assert str(path) in str(info.value)


def test_damaged_nested_entries(tmp_path: Path) -> None:
    data = _fragment().to_json()
    data["modules"] = ["not an object"]
    path = tmp_path / "f.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(InputFileError, match=str(path)):
        read_fragment(path)


@pytest.mark.parametrize("version", [0, 2, None, "1"])
def test_fragment_version_mismatch_rejected(tmp_path: Path, version: object) -> None:
    data = _fragment().to_json()
    data["fragment_version"] = version
    with pytest.raises(ValueError, match="fragment_version"):
        Fragment.from_json(data)
    path = tmp_path / "f.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(InputFileError) as info:
        read_fragment(path)
    assert "fragment_version" in str(info.value)


def test_fingerprint_digest_changes_with_every_field() -> None:
    base = Fingerprint(
        wheel_sha256="ab" * 32,
        interpreter="/usr/bin/python3.11",
        python="3.11.7",
        platform="linux-x64",
        variant="python-3.11.7",
        checker_version="0.1.0",
    )
    digest = base.digest()
    assert digest == Fingerprint(**dataclasses.asdict(base)).digest()
    assert len(digest) >= 16
    seen = {digest}
    for field in dataclasses.fields(Fingerprint):
        changed = dataclasses.replace(base, **{field.name: getattr(base, field.name) + "x"})
        other = changed.digest()
        assert other != digest, field.name
        seen.add(other)
    assert len(seen) == len(dataclasses.fields(Fingerprint)) + 1


def test_sha256_file(tmp_path: Path) -> None:
    import hashlib

    path = tmp_path / "blob"
    data = bytes(range(256)) * 5000
    path.write_bytes(data)
    assert sha256_file(path) == (hashlib.sha256(data).hexdigest(), len(data))
