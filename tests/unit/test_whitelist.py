"""Tests for checker.verdict.whitelist: parsing, matching, stale entries and the snippet."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from checker.config.paths import default_whitelist_path, whitelist_candidates
from checker.errors import InputFileError
from checker.verdict.whitelist import (
    Entry,
    Whitelist,
    load_whitelist,
    parse_whitelist,
    snippet,
    stable_substring,
    wheel_glob,
)

PATH = Path("whitelists/python-3.11/linux-x64.json")
CHARSET = "charset_normalizer-3.4.0-cp311-cp311-manylinux_2_17_x86_64.whl"
NUMPY = "numpy-2.1.0-cp311-cp311-manylinux_2_17_x86_64.whl"


def _parse(data: object) -> Whitelist:
    return parse_whitelist(json.dumps(data), PATH)


def test_parse_valid() -> None:
    wl = _parse(
        {
            NUMPY: {"numpy._core._umath": "libopenblas"},
            "charset_normalizer-3.*.whl": {"charset_normalizer.md": ["GLIBC_2.34", "undefined"]},
        }
    )
    assert wl.path == PATH
    assert wl.entries == (
        Entry(NUMPY, "numpy._core._umath", "libopenblas"),
        Entry("charset_normalizer-3.*.whl", "charset_normalizer.md", "GLIBC_2.34"),
        Entry("charset_normalizer-3.*.whl", "charset_normalizer.md", "undefined"),
    )


def test_empty_object_is_valid() -> None:
    assert parse_whitelist("{}", PATH).entries == ()
    assert parse_whitelist('{"x.whl": {}}', PATH).entries == ()


def test_glob_key_and_list_values_match() -> None:
    wl = _parse({"charset_normalizer-3.*.whl": {"charset_normalizer.md": ["GLIBC_2.34", "boom"]}})
    error = "/lib64/libc.so.6: version `GLIBC_2.34' not found"
    assert wl.match(CHARSET, "charset_normalizer.md", error) == wl.entries[0]
    assert wl.match(CHARSET, "charset_normalizer.md", "it went BOOM") == wl.entries[1]
    # The key is a glob over file names: other major version, other project -> no match.
    other = "charset_normalizer-2.1.0-cp311-cp311-manylinux_2_17_x86_64.whl"
    assert wl.match(other, "charset_normalizer.md", error) is None
    assert wl.match(NUMPY, "charset_normalizer.md", error) is None


def test_match_is_case_insensitive_for_wheel_and_substring() -> None:
    wl = _parse({"NumPy-2.1.0-CP311-cp311-manylinux_2_17_x86_64.WHL": {"numpy.x": "LibOpenBLAS"}})
    assert wl.match(NUMPY, "numpy.x", "error: cannot load LIBOPENBLAS64_.so") is not None
    assert wl.match(NUMPY, "numpy.x", "libopenbla missing") is None


def test_module_must_be_exact() -> None:
    wl = _parse({"numpy-*.whl": {"numpy.x": "err"}})
    assert wl.match(NUMPY, "numpy.x", "err") is not None
    assert wl.match(NUMPY, "numpy.X", "err") is None
    assert wl.match(NUMPY, "numpy.x.y", "err") is None
    assert wl.match(NUMPY, "numpy", "err") is None
    assert wl.match(NUMPY, "numpy.*", "err") is None


def test_malformed_json_names_file_line_and_column() -> None:
    text = '{\n  "a.whl": {"m": "x"},\n  "b.whl": {"m": "y",}\n}\n'
    with pytest.raises(InputFileError) as info:
        parse_whitelist(text, PATH)
    assert re.search(rf"{re.escape(str(PATH))}:3:\d+", str(info.value)), str(info.value)


def test_duplicate_wheel_key() -> None:
    text = '{"a.whl": {"m": "x"}, "a.whl": {"n": "y"}}'
    with pytest.raises(InputFileError) as info:
        parse_whitelist(text, PATH)
    assert str(PATH) in str(info.value)
    assert "duplicate" in str(info.value)
    assert "a.whl" in str(info.value)


def test_duplicate_module_key() -> None:
    with pytest.raises(InputFileError, match="duplicate key 'm'"):
        parse_whitelist('{"a.whl": {"m": "x", "m": "y"}}', PATH)


@pytest.mark.parametrize(
    "data",
    [
        [],
        "text",
        {"a.whl": "module"},
        {"a.whl": ["m"]},
        {"a.whl": {"m": 3}},
        {"a.whl": {"m": ["ok", 3]}},
        {"a.whl": {"m": None}},
        {"a.whl": {"m": {"nested": "x"}}},
    ],
)
def test_wrong_types(data: object) -> None:
    with pytest.raises(InputFileError) as info:
        _parse(data)
    assert str(PATH) in str(info.value)


@pytest.mark.parametrize("pattern", ["", "   ", ["ok", ""]])
def test_empty_pattern(pattern: object) -> None:
    with pytest.raises(InputFileError) as info:
        _parse({"a.whl": {"m": pattern}})
    assert "empty" in str(info.value)
    assert str(PATH) in str(info.value)


def test_load_missing_optional_is_empty(tmp_path: Path) -> None:
    wl = load_whitelist(tmp_path / "absent.json", required=False)
    assert wl.entries == ()
    assert wl.path is None


def test_load_missing_required_is_error(tmp_path: Path) -> None:
    path = tmp_path / "absent.json"
    with pytest.raises(InputFileError) as info:
        load_whitelist(path, required=True)
    assert str(path) in str(info.value)


def test_load_reads_file(tmp_path: Path) -> None:
    path = tmp_path / "w.json"
    path.write_text('{"a-*.whl": {"a._x": "boom"}}', encoding="utf-8")
    wl = load_whitelist(path, required=True)
    assert wl.path == path
    assert wl.entries == (Entry("a-*.whl", "a._x", "boom"),)


def test_load_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "w.json"
    path.write_bytes(b"\xff\xfe{}")
    with pytest.raises(InputFileError) as info:
        load_whitelist(path, required=False)
    assert str(path) in str(info.value)


def test_unused_only_for_wheels_of_the_run() -> None:
    wl = _parse(
        {
            "numpy-*.whl": {"numpy.a": "used", "numpy.b": "stale"},
            "scipy-*.whl": {"scipy.c": "not in this run"},
            CHARSET: {"charset_normalizer.md": ["one", "two"]},
        }
    )
    used_a = wl.match(NUMPY, "numpy.a", "it was used")
    used_one = wl.match(CHARSET, "charset_normalizer.md", "ONE")
    assert used_a is not None
    assert used_one is not None
    unused = wl.unused([used_a, used_one], [NUMPY, CHARSET])
    assert unused == [
        Entry("numpy-*.whl", "numpy.b", "stale"),
        Entry(CHARSET, "charset_normalizer.md", "two"),
    ]
    assert wl.unused([], []) == []
    assert len(wl.unused([], [NUMPY, CHARSET, "scipy-1.0-py3-none-any.whl"])) == 5


@pytest.mark.parametrize(
    ("wheel", "expected"),
    [
        (NUMPY, "numpy-*.whl"),
        (CHARSET, "charset_normalizer-*.whl"),
        ("PyYAML-6.0.2-cp311-cp311-manylinux_2_17_x86_64.whl", "PyYAML-*.whl"),
        ("ruamel.yaml.clib-0.2.8-cp311-cp311-manylinux_2_17_x86_64.whl", "ruamel.yaml.clib-*.whl"),
    ],
)
def test_wheel_glob(wheel: str, expected: str) -> None:
    glob = wheel_glob(wheel)
    assert glob.lower() == expected.lower()
    # The key must select its own wheel, and the same project at another version.
    entry = Entry(glob, "m", "x")
    assert entry.matches_wheel(wheel)
    bumped = wheel.replace(wheel.split("-")[1], "99.0", 1)
    assert entry.matches_wheel(bumped)
    assert not entry.matches_wheel("other-1.0-py3-none-any.whl")


def test_wheel_glob_does_not_match_project_sharing_a_prefix() -> None:
    entry = Entry(wheel_glob(NUMPY), "m", "x")
    assert not entry.matches_wheel("numpy_quaternion-2023.0.4-cp311-cp311-linux_x86_64.whl")


REAL_ERRORS = [
    # glibc loader
    "libopenblas64_p-r0-0cf96a72.3.23.dev.so: cannot open shared object file: "
    "No such file or directory",
    "/tmp/venv/lib/python3.11/site-packages/numpy/_core/_multiarray_umath.cpython-311-"
    "x86_64-linux-gnu.so: undefined symbol: cblas_sgemm",
    "/lib/x86_64-linux-gnu/libc.so.6: version `GLIBC_2.34' not found (required by "
    "/tmp/venv/lib/python3.11/site-packages/charset_normalizer/md.cpython-311-x86_64-linux-gnu.so)",
    # macOS loader
    "dlopen(/Users/runner/venv/lib/python3.11/site-packages/_cffi_backend.cpython-311-darwin.so, "
    "0x0002): Library not loaded: @rpath/libffi.8.dylib\n  Referenced from: <8F1C> "
    "/Users/runner/venv/_cffi_backend.so\n  Reason: tried: '/usr/lib/libffi.8.dylib' "
    "(no such file)",
    "dlopen(/private/var/folders/xy/T/venv/site-packages/lxml/etree.cpython-311-darwin.so, "
    "0x0002): symbol not found in flat namespace '_xsltApplyStylesheet'",
    # Windows loader
    "DLL load failed while importing _imaging: The specified module could not be found.",
    "DLL load failed while importing _ssl: %1 is not a valid Win32 application.",
    # crashes and others
    "Fatal Python error: Segmentation fault",
    "the import crashed: signal 11 (SIGSEGV) at 0x00007f3a2b1c0d10",
    "No module named 'numpy'",
    "ImportError: cannot import name 'x' from 'pkg' (at /tmp/venv/pkg/__init__.py:3)",
    "dynamic module does not define module export function (PyInit__speedups)",
    "  leading blanks: then text  ",
    '\nTraceback (most recent call last):\n  File "x.py", line 1\nRuntimeError: boom',
    "/only/a/path.so",
]


@pytest.mark.parametrize("error", REAL_ERRORS)
def test_stable_substring_is_a_usable_pattern(error: str) -> None:
    pattern = stable_substring(error)
    assert pattern, "an empty pattern is rejected by the whitelist parser"
    assert pattern in error
    assert pattern == pattern.strip()
    assert len(pattern) <= 120
    if any(not re.search(r"[\\/]|0x[0-9a-fA-F]{4,}", seg) for seg in error.split(": ")):
        # Some part is free of paths and addresses: the pattern must be too.
        assert "/" not in pattern
        assert not re.search(r"0x[0-9a-fA-F]{4,}", pattern)


def test_stable_substring_keeps_the_informative_part() -> None:
    assert stable_substring(REAL_ERRORS[1]) == "undefined symbol: cblas_sgemm"
    assert stable_substring(REAL_ERRORS[3]) == "Library not loaded"
    assert stable_substring(REAL_ERRORS[5]) == REAL_ERRORS[5]
    assert "0x" not in stable_substring("crash at 0x7ffdeadbeef: Segmentation fault")


def test_a_windows_exception_status_is_kept_an_address_is_not() -> None:
    # numpy under Wine 8.0 (ucrtbase.crealf unimplemented), as the probe reports it
    error = (
        "the interpreter died (exit status 0x80000100) while importing numpy._core._simd: "
        'Windows fatal exception: code 0x80000100; File "numpy\\_core\\multiarray.py", line 11'
    )
    assert stable_substring(error) == (
        "the interpreter died (exit status 0x80000100) while importing numpy._core._simd: "
        "Windows fatal exception"
    )
    crash = "the interpreter died (access violation (0xC0000005)) while importing pkg._x"
    assert stable_substring(crash) == crash
    assert "0x" not in stable_substring("crash at 0xC0001234dead: Segmentation fault")
    assert "0x" not in stable_substring("Current thread 0x00000024: boom")


def test_stable_substring_is_stable_across_machines() -> None:
    one = "/home/a/venv/lib/site-packages/pkg/_x.so: undefined symbol: foo_bar"
    two = "C:\\Users\\b\\venv\\Lib\\site-packages\\pkg\\_x.pyd: undefined symbol: foo_bar"
    assert stable_substring(one) == stable_substring(two) == "undefined symbol: foo_bar"


def test_snippet_round_trips_through_the_parser() -> None:
    failures = [
        (wheel, f"mod{i}", error)
        for i, error in enumerate(REAL_ERRORS)
        for wheel in (NUMPY, "ruamel.yaml.clib-0.2.8-cp311-cp311-manylinux_2_17_x86_64.whl")
    ]
    result = snippet(failures)
    wl = parse_whitelist(json.dumps(result), PATH)
    for wheel, module, error in failures:
        assert wl.match(wheel, module, error) is not None, (wheel, module, error)
    assert sorted(result) == list(result)
    assert set(result) == {"numpy-*.whl", "ruamel.yaml.clib-*.whl"}


def test_snippet_lists_every_way_a_module_fails() -> None:
    result = snippet([(NUMPY, "numpy.b", "first: one"), (NUMPY, "numpy.b", "second")])
    assert result == {"numpy-*.whl": {"numpy.b": ["first: one", "second"]}}
    # A second error that the first substring already covers adds nothing.
    again = snippet([(NUMPY, "numpy.b", "first: one"), (NUMPY, "numpy.b", "x first: one y")])
    assert again == {"numpy-*.whl": {"numpy.b": "first: one"}}
    assert snippet([]) == {}


@pytest.mark.parametrize("data", [{"": {"m": "x"}}, {"  ": {"m": "x"}}, {"a.whl": {"": "x"}}])
def test_empty_wheel_key_or_module(data: object) -> None:
    # Such an entry could never match, nor ever be reported as stale.
    with pytest.raises(InputFileError) as info:
        _parse(data)
    assert "empty" in str(info.value)
    assert str(PATH) in str(info.value)


@pytest.mark.parametrize(
    ("present", "expected"),
    [
        ((), "python-3.12.10/linux-x64.json"),  # none: the per-variant file (empty)
        (("linux-x64.json",), "linux-x64.json"),  # the original tool's shared file
        (("python-3.12/linux-x64.json", "linux-x64.json"), "python-3.12/linux-x64.json"),
        (
            ("python-3.12.10/linux-x64.json", "python-3.12/linux-x64.json", "linux-x64.json"),
            "python-3.12.10/linux-x64.json",
        ),
        (("python-3.12.10/macosx-x64.json", "linux-x64.json"), "linux-x64.json"),
    ],
)
def test_whitelist_lookup_takes_the_most_specific_file_that_exists(
    tmp_path: Path, present: tuple[str, ...], expected: str
) -> None:
    for name in present:
        path = tmp_path / "whitelists" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("{}", encoding="utf-8")
    found = default_whitelist_path(tmp_path, "python-3.12.10", "linux-x64")
    assert found == tmp_path / "whitelists" / expected


def test_a_named_variant_falls_back_to_the_shared_platform_file(tmp_path: Path) -> None:
    shared = tmp_path / "whitelists" / "linux-x64.json"
    shared.parent.mkdir()
    shared.write_text("{}", encoding="utf-8")
    assert default_whitelist_path(tmp_path, "python-3.12.10-rapids", "linux-x64") == shared
    assert whitelist_candidates(tmp_path, "rapids", "linux-x64") == [
        tmp_path / "whitelists" / "rapids" / "linux-x64.json",
        shared,
    ]
