"""Issue 3's fixture corpus through the real pipeline: gcc-built wheels, real uv, real probe."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from checker.findings import Finding, ModuleResult
from checker.wheel.fragment import Fragment
from tests.integration.conftest import CheckCorpus, Corpus, build_context, check_in_folder
from tests.support import pythons
from tests.support.corpus import SEGV
from tests.support.wheelbuild import extension_wheel, module_source, python_build

pytestmark = pytest.mark.integration


def modules(fragment: Fragment) -> dict[str, ModuleResult]:
    return {m.module: m for m in fragment.modules}


def only_finding(fragment: Fragment) -> Finding:
    assert len(fragment.findings) == 1, fragment.findings
    return fragment.findings[0]


def assert_failed(result: ModuleResult, kind: str, *words: str) -> None:
    assert (result.status, result.kind) == ("failed", kind), result
    assert result.error is not None
    for word in words:
        assert word in result.error, (word, result.error)


def assert_ok(result: ModuleResult) -> None:
    assert (result.status, result.kind, result.error) == ("ok", None, None), result


# -- crashes: one bad module never hides its siblings ------------------------------------


def test_segfault_is_a_crash_and_the_sibling_still_imports(check_corpus: CheckCorpus) -> None:
    fragment = check_corpus("nic-segv")
    assert fragment.install == "ok"
    assert fragment.findings == ()
    found = modules(fragment)
    assert list(found) == ["nicsegv._a", "nicsegv._b"]
    assert_failed(found["nicsegv._a"], "crash", "SIGSEGV", "nicsegv._a", "Segmentation fault")
    assert found["nicsegv._a"].file == f"nicsegv/_a{python_build(Path(sys.executable)).ext_suffix}"
    assert_ok(found["nicsegv._b"])


def test_module_isolation_gives_the_same_statuses(check_corpus: CheckCorpus) -> None:
    per_wheel = check_corpus("nic-segv")
    per_module = check_corpus("nic-segv", {"NATIVE_CHECK_ISOLATE": "module"})
    assert [(m.module, m.status, m.kind) for m in per_module.modules] == [
        (m.module, m.status, m.kind) for m in per_wheel.modules
    ]
    assert_failed(modules(per_module)["nicsegv._a"], "crash", "SIGSEGV")


def test_abort_is_a_crash_naming_sigabrt(check_corpus: CheckCorpus) -> None:
    found = modules(check_corpus("nic-abort"))
    assert_failed(found["nicabort._a"], "crash", "SIGABRT", "nicabort._a")
    assert_ok(found["nicabort._b"])


def test_exit_during_import_is_a_crash_with_its_status(check_corpus: CheckCorpus) -> None:
    found = modules(check_corpus("nic-exit"))
    assert_failed(found["nicexit._a"], "crash", "exit status 3", "nicexit._a")
    assert_ok(found["nicexit._b"])


def test_hang_times_out_and_the_sibling_still_imports(check_corpus: CheckCorpus) -> None:
    fragment = check_corpus("nic-hang", {"NATIVE_CHECK_IMPORT_TIMEOUT": "3"})
    found = modules(fragment)
    assert_failed(found["nichang._a"], "timeout", "within 3 s", "killed")
    assert_ok(found["nichang._b"])
    assert fragment.duration < 20


# -- loader errors ------------------------------------------------------------------------


def test_missing_library_names_the_library(check_corpus: CheckCorpus) -> None:
    found = modules(check_corpus("nic-missinglib"))
    assert_failed(found["nicmissinglib._ext"], "missing-library", "libnicdep.so")
    assert "_probe.py" not in str(found["nicmissinglib._ext"].error)


def test_undefined_symbol_names_the_symbol(check_corpus: CheckCorpus) -> None:
    found = modules(check_corpus("nic-undefsym"))
    assert_failed(found["nicundefsym._ext"], "undefined-symbol", "nic_no_such_function")
    assert "site-packages" not in str(found["nicundefsym._ext"].error)


def test_wrong_init_name_is_decided_without_importing(check_corpus: CheckCorpus) -> None:
    found = modules(check_corpus("nic-initname"))
    result = found["nicinitname._a"]
    assert_failed(result, "init-mismatch", "PyInit_b", "PyInit__a")
    assert result.duration == 0.0  # never imported


def test_ctypes_library_is_skipped_as_not_a_module(check_corpus: CheckCorpus) -> None:
    fragment = check_corpus("nic-ctypes")
    assert fragment.install == "ok"
    (result,) = fragment.modules
    assert (result.module, result.status, result.kind) == (
        "nicctypes.libhelper",
        "skipped",
        "not-a-module",
    )


# -- where modules live and how they are named --------------------------------------------


def test_module_under_data_platlib_is_found_and_imported(check_corpus: CheckCorpus) -> None:
    fragment = check_corpus("nic-data")
    (result,) = fragment.modules
    assert result.module == "nicdata._ext"
    assert result.file is not None and result.file.startswith("nicdata/_ext")
    assert_ok(result)


def test_digit_leading_mypyc_module_imports(check_corpus: CheckCorpus) -> None:
    (result,) = check_corpus("nic-mypyc").modules
    assert result.module == "3a7f__mypyc"
    assert_ok(result)


# -- Python-level failures ----------------------------------------------------------------


def test_parent_package_exception_is_attributed_to_the_parent(check_corpus: CheckCorpus) -> None:
    found = modules(check_corpus("nic-parent"))
    assert_failed(
        found["nicparent._ext"],
        "exception",
        "parent package 'nicparent'",
        "ValueError",
        "nicparent refuses to load",
        "nicparent/__init__.py:1",
    )


def test_undeclared_python_import(check_corpus: CheckCorpus) -> None:
    found = modules(check_corpus("nic-undeclared"))
    assert_failed(
        found["nicundeclared._ext"],
        "missing-python-module",
        "nic_not_there_xyz",
        "not declared in Requires-Dist",
    )


def test_declared_python_import_that_does_not_resolve(check_corpus: CheckCorpus) -> None:
    fragment = check_corpus("nic-declared")
    assert fragment.install == "ok"  # nic-somedep came from the folder
    result = modules(fragment)["nicdeclared._ext"]
    assert_failed(
        result, "missing-python-module", "nicsomedep.not_there", "declared in Requires-Dist"
    )
    assert "not declared" not in str(result.error)


def test_order_dependent_circular_import_loads_with_a_note(check_corpus: CheckCorpus) -> None:
    (result,) = check_corpus("nic-circ").modules
    assert_ok(result)
    assert result.note is not None
    assert "circular import" in result.note
    assert "'niccirc.a'" in result.note


def test_unresolvable_circular_import_fails(check_corpus: CheckCorpus) -> None:
    (result,) = check_corpus("nic-cycle").modules
    assert_failed(result, "circular-import", "partially initialized module", "niccycle.")
    assert result.note is None  # no bogus "cause" repeating the error


# -- install-stage and integrity findings -------------------------------------------------


def test_missing_dependency_is_an_install_finding(check_corpus: CheckCorpus) -> None:
    fragment = check_corpus("nic-needsdep")
    assert fragment.install == "failed"
    finding = only_finding(fragment)
    assert (finding.module, finding.kind) == ("install", "missing-dependency")
    assert "'nic-absent-dep>=1'" in finding.error
    (result,) = fragment.modules
    assert (result.module, result.status, result.kind) == (
        "nicneedsdep._ext",
        "skipped",
        "not-installed",
    )


def test_wheel_for_another_platform_is_not_installed(check_corpus: CheckCorpus) -> None:
    fragment = check_corpus("nic-win")
    assert fragment.install == "skipped"
    finding = only_finding(fragment)
    assert finding.kind == "incompatible-wheel"
    assert "win_amd64" in finding.error
    (result,) = fragment.modules
    assert (result.module, result.status, result.kind) == (
        "nicwin._ext",
        "skipped",
        "not-installed",
    )
    assert "install_seconds" not in fragment.extra  # uv never ran


def test_garbage_wheel_is_corrupt(check_corpus: CheckCorpus) -> None:
    fragment = check_corpus("nic-garbage")
    assert fragment.install == "skipped"
    finding = only_finding(fragment)
    assert (finding.stage, finding.kind) == ("integrity", "corrupt-wheel")
    assert "not a valid zip" in finding.error
    assert fragment.modules == ()


# -- the sandbox ---------------------------------------------------------------------------


def test_probe_runs_with_throwaway_home_and_empty_cwd(
    corpus: Corpus, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_marker = Path.home() / "nic-home-marker"
    if real_marker.exists():
        pytest.skip(f"{real_marker} exists already: the test could not tell who wrote it")
    report = tmp_path / "sandbox-report.json"
    monkeypatch.setenv("NIC_SANDBOX_REPORT", str(report))
    monkeypatch.setenv("NIC_SECRET_TOKEN", "must-not-leak")
    ctx = build_context(
        tmp_path / "ctx", corpus.packages, {"NATIVE_CHECK_KEEP_ENV": "NIC_SANDBOX_REPORT"}
    )
    stale = ctx.sandbox_dir("nic-home-1.0") / "cwd" / "left-by-an-interrupted-run"
    stale.parent.mkdir(parents=True)
    stale.write_text("stale")
    fragment = check_in_folder(ctx, corpus.wheels["nic-home"])
    (result,) = fragment.modules
    assert_ok(result)  # the __init__ raises when the working directory is not empty
    assert not real_marker.exists()
    seen = json.loads(report.read_text())
    sandbox = ctx.settings.work_dir / "sandbox"
    for key in ("home", "cwd", "tmp"):
        assert Path(seen[key]).is_relative_to(sandbox), (key, seen[key])
    assert seen["home"] != os.environ.get("HOME")
    assert seen["cwd_listing"] == []
    assert "NIC_SECRET_TOKEN" not in seen["environ"]
    assert "NIC_SANDBOX_REPORT" in seen["environ"]
    assert not Path(seen["home"]).exists()  # thrown away after the probe


# -- other interpreters ---------------------------------------------------------------------


@pytest.mark.parametrize("which", ["oldest", "newest"])
def test_probe_on_another_interpreter(which: str, tmp_path: Path) -> None:
    others = pythons.other_minor()
    if not others:
        pytest.skip(pythons.missing_reason())
    if which == "newest" and len(others) < 2:
        pytest.skip(pythons.missing_reason("two other CPython versions (the oldest is tested)"))
    other = others[0] if which == "oldest" else others[-1]
    python, version = other.path, other.version
    build = python_build(python)
    packages = tmp_path / "packages"
    extension_wheel(
        packages,
        build,
        "nic-other",
        {
            "nicother/_a": module_source("_a", SEGV),
            "nicother/_b": module_source("_b"),
            "nicother/_c": module_source(
                "_c", "if (nic_nowhere() != 1) return NULL;", "int nic_nowhere(void);"
            ),
        },
        pure={"nicother/__init__.py": ""},
        workdir=tmp_path / "build",
    )
    ctx = build_context(tmp_path / "ctx", packages, interpreter=str(python))
    assert ctx.info.version == version
    (wheel,) = packages.iterdir()
    fragment = check_in_folder(ctx, wheel)
    assert fragment.install == "ok", fragment.findings
    assert fragment.python == version
    found = modules(fragment)
    assert_failed(found["nicother._a"], "crash", "SIGSEGV")
    assert_ok(found["nicother._b"])
    assert_failed(found["nicother._c"], "undefined-symbol", "nic_nowhere")
