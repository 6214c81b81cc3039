"""classify(): every loader message shape maps to its kind and names the culprit."""

from __future__ import annotations

from typing import Any

import pytest

from checker.findings import KINDS, ModuleResult
from checker.probe.classify import ImportContext, classify, same_failure

NO_DEPS = ImportContext(declared=(), requirement_names=())
SITE = "/venv/lib/python3.11/site-packages"
PROBE = "/opt/checker/checker/_probe.py"
IMPORTLIB = "/usr/lib/python3.11/importlib/__init__.py"
PROBE_FRAMES = [
    [PROBE, 135, "probe_module", "module = importlib.import_module(name)"],
    [
        IMPORTLIB,
        126,
        "import_module",
        "return _bootstrap._gcd_import(name[level:], package, level)",
    ],
    ["<frozen importlib._bootstrap>", 1204, "_gcd_import", ""],
]


def import_error(
    message: str,
    exc_type: str = "ImportError",
    *,
    module: str = "pkg._x",
    frames: list[list[Any]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "module": module,
        "ok": False,
        "stage": "module",
        "parent": None,
        "exc_type": exc_type,
        "exc_module": "builtins",
        "message": message,
        "name": None,
        "frames": PROBE_FRAMES if frames is None else frames,
        "duration": 0.01,
        **extra,
    }


def failed(raw: dict[str, Any], ctx: ImportContext = NO_DEPS) -> ModuleResult:
    result = classify(raw, "pkg/_x.so", ctx)
    assert result.status == "failed"
    assert result.kind in KINDS
    assert result.error is not None
    return result


@pytest.mark.parametrize(
    ("message", "kind", "words"),
    [
        pytest.param(
            "libnicdep.so.1: cannot open shared object file: No such file or directory",
            "missing-library",
            ["libnicdep.so.1"],
            id="glibc-missing-library",
        ),
        pytest.param(
            "Error loading shared library libgfortran.so.5: No such file or directory "
            f"(needed by {SITE}/pkg/_x.cpython-311-x86_64-linux-musl.so)",
            "missing-library",
            ["libgfortran.so.5"],
            id="musl-missing-library",
        ),
        pytest.param(
            f"dlopen({SITE}/pkg/_x.cpython-311-darwin.so, 0x0002): Library not loaded: "
            "@rpath/libomp.dylib\n  Referenced from: <UUID> "
            f"{SITE}/pkg/_x.cpython-311-darwin.so\n  Reason: tried: '/usr/lib/libomp.dylib' "
            "(no such file)",
            "missing-library",
            ["@rpath/libomp.dylib"],
            id="macos-missing-library",
        ),
        pytest.param(
            "DLL load failed while importing _x: The specified module could not be found.",
            "missing-library",
            ["DLL load failed while importing _x", "could not be found"],
            id="windows-missing-dll",
        ),
        pytest.param(
            "/lib/x86_64-linux-gnu/libc.so.6: version `GLIBC_2.99' not found "
            f"(required by {SITE}/pkg/_x.cpython-311-x86_64-linux-gnu.so)",
            "symbol-version",
            ["GLIBC_2.99"],
            id="glibc-symbol-version",
        ),
        pytest.param(
            f"{SITE}/pkg/_x.cpython-311-x86_64-linux-gnu.so: undefined symbol: cblas_dgemm",
            "undefined-symbol",
            ["cblas_dgemm"],
            id="glibc-undefined-symbol",
        ),
        pytest.param(
            f"Error relocating {SITE}/pkg/_x.so: cblas_dgemm: symbol not found",
            "undefined-symbol",
            ["cblas_dgemm"],
            id="musl-undefined-symbol",
        ),
        pytest.param(
            f"dlopen({SITE}/pkg/_x.so, 2): Symbol not found: _cblas_dgemm\n"
            f"  Referenced from: {SITE}/pkg/_x.so\n  Expected in: flat namespace",
            "undefined-symbol",
            ["_cblas_dgemm"],
            id="macos11-undefined-symbol",
        ),
        pytest.param(
            f"dlopen({SITE}/pkg/_x.cpython-311-darwin.so, 0x0002): "
            "symbol not found in flat namespace '_cblas_dgemm'",
            "undefined-symbol",
            ["_cblas_dgemm"],
            id="macos12-undefined-symbol",
        ),
        pytest.param(
            "DLL load failed while importing _x: The specified procedure could not be found.",
            "undefined-symbol",
            ["procedure could not be found"],
            id="windows-missing-procedure",
        ),
        pytest.param(
            "dynamic module does not define module export function (PyInit__x)",
            "init-mismatch",
            ["PyInit__x"],
            id="pyinit-mismatch",
        ),
        pytest.param(
            "cannot import name 'Y' from partially initialized module 'pkg.b' "
            f"(most likely due to a circular import) ({SITE}/pkg/b.py)",
            "circular-import",
            ["partially initialized module 'pkg.b'", "(pkg/b.py)"],
            id="circular-import",
        ),
        pytest.param(
            "initialization failed for some reason",
            "exception",
            ["ImportError: initialization failed"],
            id="other-import-error",
        ),
    ],
)
def test_import_error_message_shapes(message: str, kind: str, words: list[str]) -> None:
    result = failed(import_error(message))
    assert result.kind == kind, result
    assert result.error is not None
    assert result.error.startswith("ImportError: ")
    for word in words:
        assert word in result.error, (word, result.error)
    assert "site-packages" not in result.error  # paths are made relative to it
    assert "_probe.py" not in result.error and "importlib" not in result.error


def test_only_the_first_line_of_a_loader_message_is_kept() -> None:
    result = failed(import_error("Library not loaded: @rpath/libz.1.dylib\n  Referenced from: x"))
    assert result.kind == "missing-library"
    assert "Referenced from" not in str(result.error)


def test_the_last_frame_outside_the_machinery_is_named() -> None:
    frames = [
        *PROBE_FRAMES,
        [f"{SITE}/pkg/__init__.py", 7, "<module>", "from pkg import _x"],
        ["<frozen importlib._bootstrap>", 241, "_call_with_frames_removed", ""],
    ]
    result = failed(import_error("boom", "RuntimeError", frames=frames))
    assert result.kind == "exception"
    assert result.error == "RuntimeError: boom (at pkg/__init__.py:7 in <module>)"


def test_a_package_named_like_importlib_is_not_machinery() -> None:
    frames = [*PROBE_FRAMES, [f"{SITE}/importlib_metadata/__init__.py", 9, "<module>", ""]]
    result = failed(import_error("boom", "RuntimeError", frames=frames))
    assert result.error == "RuntimeError: boom (at importlib_metadata/__init__.py:9 in <module>)"


def test_exception_in_parent_names_the_parent() -> None:
    raw = import_error(
        "bad config", "ValueError", stage="parent", parent="pkg", cause="KeyError: 'HOME'"
    )
    result = failed(raw)
    assert result.kind == "exception"
    assert result.error is not None
    assert result.error.startswith("importing parent package 'pkg' raised ValueError: bad config")
    assert result.note == "KeyError: 'HOME'"


def test_empty_message_is_said_so() -> None:
    result = failed(import_error("", "SystemError"))
    assert result.error == "SystemError: (no message)"


def test_circular_flag_from_the_probe_wins() -> None:
    result = failed(import_error("cannot import name 'X' from 'pkg.a'", circular=True))
    assert result.kind == "circular-import"


@pytest.mark.parametrize(
    ("name", "ctx", "declared"),
    [
        pytest.param("nic_not_there_xyz", NO_DEPS, False, id="undeclared"),
        pytest.param(
            "numpy.core._multiarray_umath",
            ImportContext(declared={"numpy"}, requirement_names={"numpy"}),
            True,
            id="declared-by-a-folder-wheel",
        ),
        pytest.param(
            "nic_dep",
            ImportContext(declared=(), requirement_names={"nic-dep"}),
            True,
            id="declared-by-requirement-name",
        ),
        pytest.param(
            "yaml",
            ImportContext(declared={"attr"}, requirement_names={"attrs"}),
            False,
            id="other-requirements-only",
        ),
    ],
)
def test_module_not_found_declared_or_not(name: str, ctx: ImportContext, declared: bool) -> None:
    raw = import_error(f"No module named {name!r}", "ModuleNotFoundError", name=name)
    result = failed(raw, ctx)
    assert result.kind == "missing-python-module"
    assert result.error is not None
    assert f"No module named {name!r}" in result.error
    if declared:
        assert "(declared in Requires-Dist but not importable)" in result.error
    else:
        assert "(not declared in Requires-Dist)" in result.error


def test_timeout() -> None:
    result = failed({"module": "pkg._x", "ok": False, "timeout": 2.5})
    assert result.kind == "timeout"
    assert result.error == "import did not finish within 2.5 s; the probe was killed"


FAULTHANDLER_STDERR = f"""Fatal Python error: Segmentation fault

Current thread 0x00007f0c2b3fe740 (most recent call first):
  File "<frozen importlib._bootstrap>", line 241 in _call_with_frames_removed
  File "<frozen importlib._bootstrap_external>", line 1233 in create_module
  File "{SITE}/pkg/__init__.py", line 3 in <module>
  File "{IMPORTLIB}", line 126 in import_module
  File "{PROBE}", line 135 in probe_module
  File "{PROBE}", line 240 in <module>"""


def test_crash_with_faulthandler_stderr() -> None:
    raw = {"module": "pkg._x", "ok": False, "crash": "SIGSEGV", "stderr": FAULTHANDLER_STDERR}
    result = failed(raw)
    assert result.kind == "crash"
    assert result.error == (
        "the interpreter died (SIGSEGV) while importing pkg._x: Fatal Python error: "
        'Segmentation fault; File "pkg/__init__.py", line 3 in <module>'
    )


def test_crash_in_the_machinery_only_names_the_fatal_error() -> None:
    stderr = "\n".join(
        line for line in FAULTHANDLER_STDERR.splitlines() if "pkg/__init__" not in line
    )
    raw = {"module": "pkg._x", "ok": False, "crash": "SIGSEGV", "stderr": stderr}
    result = failed(raw)
    assert result.error == (
        "the interpreter died (SIGSEGV) while importing pkg._x: Fatal Python error: "
        "Segmentation fault"
    )


def test_crash_without_stderr() -> None:
    raw = {"module": "pkg._x", "ok": False, "crash": "exit status 3", "stderr": ""}
    result = failed(raw)
    assert (result.kind, result.error) == (
        "crash",
        "the interpreter died (exit status 3) while importing pkg._x",
    )


def test_success_keeps_the_note_and_duration() -> None:
    raw = {"module": "pkg._x", "ok": True, "note": "circular import when ...", "duration": 0.5}
    result = classify(raw, "pkg/_x.so", NO_DEPS)
    assert result == ModuleResult(
        "pkg._x", "pkg/_x.so", "ok", note="circular import when ...", duration=0.5
    )


def test_same_failure_ignores_where_the_other_process_stopped() -> None:
    """The set check reads a module's failure from its wheel's probe (checker.setcheck.coimport):
    the same exception counts as the same failure wherever each process was when it raised."""
    in_probe = [*PROBE_FRAMES, [f"{SITE}/pkg/__init__.py", 7, "<module>", "import pkg._x"]]
    recorded = failed(import_error("initialization failed", frames=in_probe))
    in_set = [*PROBE_FRAMES, ["/set/venv/site-packages/pkg/_x.py", 2, "<module>", ""]]
    assert same_failure(import_error("initialization failed", frames=in_set), recorded)
    assert not same_failure(import_error("another reason", frames=in_set), recorded)
    assert not same_failure(import_error("initialization failed", "RuntimeError"), recorded)


def test_same_failure_of_crashes_and_of_what_did_not_fail() -> None:
    crash = {"module": "pkg._x", "ok": False, "crash": "SIGSEGV", "stderr": FAULTHANDLER_STDERR}
    recorded = failed(crash)
    assert same_failure({**crash, "stderr": ""}, recorded)
    assert not same_failure({**crash, "crash": "SIGABRT"}, recorded)
    ok = classify({"module": "pkg._x", "ok": True}, "pkg/_x.so", NO_DEPS)
    assert not same_failure(crash, ok)  # the probe imported it: the set must look itself
    assert not same_failure({"module": "pkg._x", "ok": True}, recorded)
