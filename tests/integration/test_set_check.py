"""The folder as one environment (the set check), with gcc-built wheels, real uv and imports.

Every folder here passes wheel by wheel; together, each shows one thing per-wheel venvs cannot
see, next to a clean folder of the same shape.
"""

from __future__ import annotations

import json
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import jsonschema
import pytest

from checker.findings import SetFinding
from checker.probe import underway
from checker.setcheck import probed
from checker.setcheck.job import check_set, run_set_session
from checker.verdict.whitelist import stable_substring
from checker.wheel.discover import discover
from checker.wheel.fragment import Fragment, fragment_path, write_fragment
from tests.integration.conftest import build_context, check_in_folder
from tests.support.noxrun import ROOT, nox_run, run_nox
from tests.support.wheelbuild import (
    NEEDS_GCC_ON_LINUX,
    PythonBuild,
    compile_shared,
    make_wheel,
    module_source,
    python_build,
)

pytestmark = [pytest.mark.integration, NEEDS_GCC_ON_LINUX]

SCHEMA = json.loads((ROOT / "checker" / "data" / "report.schema.json").read_text())
# Loads its bundled library with RTLD_GLOBAL, as torch loads libtorch_global_deps.
GLOBAL_INIT = """import ctypes, os
_lib = ctypes.CDLL(os.path.join(os.path.dirname(__file__), "{lib}"), mode=ctypes.RTLD_GLOBAL)
"""


@pytest.fixture(scope="module")
def build() -> PythonBuild:
    return python_build(Path(sys.executable))


def _lib(build: PythonBuild, tmp: Path, name: str, source: str) -> bytes:
    out = tmp / "libs" / name
    return compile_shared(build, source, out, python_headers=False, args=[f"-Wl,-soname,{name}"])


def _set(tmp: Path, folder: Path) -> list[SetFinding]:
    ctx = build_context(tmp / "run", folder)
    return list(check_set(ctx, discover(folder)).findings)


def _globals_folder(
    build: PythonBuild,
    tmp: Path,
    *,
    symbol: str,
    on_wrong: str,
    names: tuple[str, str] = ("nicaglob", "nicbuser"),
    folder: Path | None = None,
) -> Path:
    """nicaglob loads libnicval_a.so (defining ``symbol``) with RTLD_GLOBAL; nicbuser's
    extension calls nic_value() of its own bundled libnicval_b.so and checks it is its own
    (``names``: other names for the two, ``folder``: another folder to write them to)."""
    first, second = names
    folder = folder or tmp / "packages"
    tmp = tmp / first
    lib_a = _lib(build, tmp, "libnicval_a.so", f"int {symbol}(void) {{ return 1; }}\n")
    ext_a = compile_shared(build, module_source("_a"), tmp / "a" / f"_a{build.ext_suffix}")
    make_wheel(
        folder, first, "1.0",
        {
            f"{first}/__init__.py": GLOBAL_INIT.format(lib="libnicval_a.so"),
            f"{first}/libnicval_a.so": lib_a,
            f"{first}/_a{build.ext_suffix}": ext_a,
        },
        tag=build.tag,
    )  # fmt: skip
    lib_b = tmp / "libs" / "libnicval_b.so"
    _lib(build, tmp, "libnicval_b.so", "int nic_value(void) { return 2; }\n")
    source = module_source(
        "_b", body=f"if (nic_value() != 2) {{ {on_wrong} }}", prelude="int nic_value(void);"
    )
    args = [
        f"-L{lib_b.parent}",
        "-lnicval_b",
        f"-Wl,--enable-new-dtags,-rpath,$ORIGIN/../{second}.libs",
    ]
    ext_b = compile_shared(build, source, tmp / "b" / f"_b{build.ext_suffix}", args=args)
    make_wheel(
        folder, second, "1.0",
        {
            f"{second}/__init__.py": "",
            f"{second}/_b{build.ext_suffix}": ext_b,
            f"{second}.libs/libnicval_b.so": lib_b.read_bytes(),
        },
        tag=build.tag,
    )  # fmt: skip
    return folder


WRONG_RAISES = (
    'PyErr_SetString(PyExc_ImportError, "nic_value() is not nicbuser\'s own"); return NULL;'
)


def test_rtld_global_interposition_is_a_co_import_failure(
    tmp_path: Path, build: PythonBuild
) -> None:
    folder = _globals_folder(build, tmp_path, symbol="nic_value", on_wrong=WRONG_RAISES)
    # Wheel by wheel, both pass.
    for wheel in sorted(folder.glob("*.whl")):
        fragment = check_in_folder(build_context(tmp_path / wheel.stem, folder), wheel)
        statuses = {m.status for m in fragment.modules}
        assert "ok" in statuses and "failed" not in statuses, fragment.modules
    (finding,) = _set(tmp_path, folder)
    assert finding.kind == "co-import" and finding.severity == "failure"
    assert finding.error.startswith(
        "nicbuser._b imports alone but fails after importing nicaglob._a"
    )
    assert "nic_value() is not nicbuser's own" in finding.error
    assert finding.wheels[0].startswith("nicbuser-") and finding.wheels[1].startswith("nicaglob-")


def test_co_import_crash_names_the_module_and_its_trigger(
    tmp_path: Path, build: PythonBuild
) -> None:
    folder = _globals_folder(build, tmp_path, symbol="nic_value", on_wrong="abort();")
    (finding,) = _set(tmp_path, folder)
    assert finding.kind == "co-import"
    assert "nicbuser._b imports alone but fails after importing nicaglob._a" in finding.error
    assert "the interpreter died (SIGABRT)" in finding.error


def test_a_preload_that_interposes_nothing_is_fine(tmp_path: Path, build: PythonBuild) -> None:
    folder = _globals_folder(build, tmp_path, symbol="nic_value_of_a", on_wrong="abort();")
    assert _set(tmp_path, folder) == []


def test_two_wheels_installing_one_path(tmp_path: Path, build: PythonBuild) -> None:
    folder = tmp_path / "packages"
    # The same empty namespace __init__ (as every nvidia-* wheel ships) is no collision.
    make_wheel(folder, "nicfirst", "1.0", {"nicns/__init__.py": "", "nicns/cfg.py": "A = 1\n"})
    make_wheel(folder, "nicsecond", "1.0", {"nicns/__init__.py": "", "nicns/cfg.py": "A = 2\n"})
    (finding,) = _set(tmp_path, folder)
    assert finding.kind == "file-collision"
    assert finding.wheels == ("nicfirst-1.0-py3-none-any.whl", "nicsecond-1.0-py3-none-any.whl")
    assert "nicns/cfg.py" in finding.error and "__init__" not in finding.error
    clean = tmp_path / "clean"
    make_wheel(clean, "nicfirst", "1.0", {"nicns/__init__.py": "", "nicns/a.py": "A = 1\n"})
    make_wheel(clean, "nicsecond", "1.0", {"nicns/__init__.py": "", "nicns/b.py": "A = 2\n"})
    assert _set(tmp_path / "c", clean) == []


def test_two_versions_each_needed_is_not_co_installable(tmp_path: Path) -> None:
    folder = tmp_path / "packages"
    for version in ("1.0", "2.0"):
        make_wheel(folder, "nicdep", version, {"nicdep/__init__.py": f"V = {version!r}\n"})
    make_wheel(folder, "nicold", "1.0", {"nicold/__init__.py": ""}, requires_dist=["nicdep==1.0"])
    make_wheel(folder, "nicnew", "1.0", {"nicnew/__init__.py": ""}, requires_dist=["nicdep==2.0"])
    for wheel in folder.glob("nic[on]*.whl"):  # each installs alone
        fragment = check_in_folder(build_context(tmp_path / wheel.stem, folder), wheel)
        assert fragment.install == "resolved" and not fragment.findings
    (finding,) = _set(tmp_path, folder)
    assert finding.kind == "not-co-installable"
    assert "nicdep" in finding.error
    assert any(w.startswith("nicdep-") for w in finding.wheels)
    clean = tmp_path / "clean"
    make_wheel(clean, "nicdep", "2.0", {"nicdep/__init__.py": ""})
    make_wheel(clean, "nicnew", "1.0", {"nicnew/__init__.py": ""}, requires_dist=["nicdep==2.0"])
    assert _set(tmp_path / "c", clean) == []


def _bundling(folder: Path, build: PythonBuild, tmp: Path, name: str, lib: str) -> None:
    """``name`` bundles ``{name}.libs/{lib}`` (a build of its own: its bytes name the wheel)."""
    data = _lib(build, tmp / name, lib, f"int {name}_marker(void) {{ return 1; }}\n")
    make_wheel(
        folder, name, "1.0", {f"{name}/__init__.py": "", f"{name}.libs/{lib}": data}, tag=build.tag
    )


def test_two_bundled_openmp_runtimes_are_a_warning(tmp_path: Path, build: PythonBuild) -> None:
    folder = tmp_path / "packages"
    _bundling(folder, build, tmp_path, "nicompa", "libgomp-a1b2c3d4.so.1")
    _bundling(folder, build, tmp_path, "nicompb", "libgomp-e5f6a7b8.so.1")
    (finding,) = _set(tmp_path, folder)
    assert (finding.kind, finding.severity) == ("duplicate-runtime", "warning")
    assert "OpenMP" in finding.error and "libgomp-a1b2c3d4.so.1" in finding.error
    assert len(finding.wheels) == 2
    clean = tmp_path / "clean"
    _bundling(clean, build, tmp_path / "c", "nicompa", "libgomp-a1b2c3d4.so.1")
    _bundling(clean, build, tmp_path / "c", "nicompb", "libnicunique-e5f6a7b8.so.1")
    assert _set(tmp_path / "c", clean) == []


def test_set_check_through_nox(tmp_path: Path, build: PythonBuild) -> None:
    """The set-check session, judged by check_native: a failure that the set whitelist covers
    passes, a warning does not fail the run until strict mode."""
    folder = _globals_folder(build, tmp_path / "w", symbol="nic_value", on_wrong=WRONG_RAISES)
    _bundling(folder, build, tmp_path, "nicompa", "libgomp-a1b2c3d4.so.1")
    _bundling(folder, build, tmp_path, "nicompb", "libgomp-e5f6a7b8.so.1")
    code, output, report = run_nox(tmp_path / "one", folder, "-s", "check_native")
    assert report is not None, output
    jsonschema.validate(report, SCHEMA)
    assert code == 1, output
    kinds = {(f["kind"], f["status"]) for f in report["set"]}
    assert kinds == {("co-import", "failed"), ("duplicate-runtime", "warning")}
    assert "set-check" in output and "[set]" in output
    assert report["whitelist_snippet"]["nicbuser-*.whl"]["set"]
    whitelist = tmp_path / "wl.json"
    whitelist.write_text(json.dumps({"nicbuser-*.whl": {"set": "is not nicbuser's own"}}))
    env = {"NATIVE_CHECK_WHITELIST": str(whitelist)}
    code, output, report = run_nox(tmp_path / "two", folder, "-s", "check_native", env=env)
    assert report is not None and code == 0, output
    assert {f["status"] for f in report["set"]} == {"whitelisted", "warning"}
    strict = {**env, "NATIVE_CHECK_STRICT_WHITELIST": "1"}
    code, output, _report = run_nox(tmp_path / "three", folder, "-s", "check_native", env=strict)
    assert code == 1, output


def test_renamed_copies_keep_apart_one_soname_conflicts(tmp_path: Path, build: PythonBuild) -> None:
    """auditwheel's renamed libgfortran copies (numpy, scipy) load side by side: no warning;
    two builds under one file name are taken for one library by the loader: a warning."""
    renamed = tmp_path / "renamed"
    _bundling(renamed, build, tmp_path / "r", "nicfa", "libgfortran-040039e1.so.5")
    _bundling(renamed, build, tmp_path / "r", "nicfb", "libgfortran-1c2d3e4f.so.5")
    assert _set(tmp_path / "r", renamed) == []
    same = tmp_path / "same"
    _bundling(same, build, tmp_path / "s", "nicfa", "libgfortran.so.5")
    _bundling(same, build, tmp_path / "s", "nicfb", "libgfortran.so.5")
    (finding,) = _set(tmp_path / "s", same)
    assert finding.kind == "duplicate-runtime" and "libgfortran" in finding.error


def test_unchanged_folder_reuses_the_set_result_in_incremental_runs(tmp_path: Path) -> None:
    folder = tmp_path / "packages"
    make_wheel(folder, "nicfirst", "1.0", {"nicfirst/__init__.py": ""})
    incremental = {"NATIVE_CHECK_FRESH": "0"}
    first = run_set_session(build_context(tmp_path / "run", folder, incremental), discover(folder))
    again = run_set_session(build_context(tmp_path / "run", folder, incremental), discover(folder))
    assert "reused_from" not in first.details and again.details["reused_from"] == first.run_id
    always = {"NATIVE_CHECK_FRESH": "1"}
    fresh = run_set_session(build_context(tmp_path / "run", folder, always), discover(folder))
    assert "reused_from" not in fresh.details  # NATIVE_CHECK_FRESH=1 (CI) never reuses
    make_wheel(folder, "nicsecond", "1.0", {"nicsecond/__init__.py": ""})
    changed = run_set_session(
        build_context(tmp_path / "run", folder, incremental), discover(folder)
    )
    assert "reused_from" not in changed.details and changed.details["wheels"] == 2


def test_a_conflict_does_not_hide_the_other_set_defects(tmp_path: Path, build: PythonBuild) -> None:
    """Two versions of one project, an interposition and a co-import crash in one folder: the
    set check reports the conflict, then goes on with the newest version of each project
    (without the wheel that needs the old one) and finds both co-import failures."""
    folder = _globals_folder(build, tmp_path, symbol="nic_value", on_wrong=WRONG_RAISES)
    names = ("nicdglob", "niccuser")
    _globals_folder(
        build, tmp_path, symbol="nic_value", on_wrong="abort();", names=names, folder=folder
    )
    for version in ("1.0", "2.0"):
        make_wheel(folder, "nicdep", version, {"nicdep/__init__.py": f"V = {version!r}\n"})
    make_wheel(folder, "nicold", "1.0", {"nicold/__init__.py": ""}, requires_dist=["nicdep==1.0"])
    findings = _set(tmp_path, folder)
    assert sorted(f.kind for f in findings) == ["co-import", "co-import", "not-co-installable"]
    (conflict,) = (f for f in findings if f.kind == "not-co-installable")
    assert "nicdep" in conflict.error and "Using CPython" not in conflict.error
    assert "interpreter at" not in conflict.error and "Resolved " not in conflict.error
    assert "leaving out: nicdep-1.0-py3-none-any.whl (an older version of nicdep" in conflict.error
    assert "nicold-1.0-py3-none-any.whl (named in uv's reason" in conflict.error
    co = {f.error.split(" ", 1)[0]: f for f in findings if f.kind == "co-import"}
    assert set(co) == {"nicbuser._b", "niccuser._b"}
    assert "is not nicbuser's own" in co["nicbuser._b"].error
    assert "the interpreter died (SIGABRT)" in co["niccuser._b"].error
    assert stable_substring(conflict.error).startswith(
        "uv cannot install the folder as one environment: error:"
    )


def _failing_wheel(tmp: Path, folder: Path, build: PythonBuild, name: str) -> Path:
    """A wheel ``name`` whose extension ``{name}._x`` raises ImportError when imported."""
    raises = f'PyErr_SetString(PyExc_ImportError, "{name} cannot start"); return NULL;'
    ext = compile_shared(build, module_source("_x", body=raises), tmp / f"_x{build.ext_suffix}")
    files: dict[str, bytes | str] = {f"{name}/__init__.py": "", f"{name}/_x{build.ext_suffix}": ext}
    return make_wheel(folder, name, "1.0", files, tag=build.tag)


def test_a_failure_its_probe_recorded_is_not_imported_alone_again(
    tmp_path: Path, build: PythonBuild
) -> None:
    """A module that fails in the set's passes is the per-wheel check's to report when it fails
    alone too. When its wheel's probe of this run recorded the same failure, the set check reads
    that instead of importing the module alone once more; a fragment of another run, or one that
    recorded another failure, is not taken for it (then the module is imported alone)."""
    folder = tmp_path / "packages"
    wheel = _failing_wheel(tmp_path, folder, build, "nicbroke")
    ctx = build_context(tmp_path / "run", folder)

    def alone_from_probes() -> int:
        result = check_set(ctx, discover(folder))
        assert result.findings == (), result.findings  # never a co-import finding
        assert result.details["modules"] == 1
        return int(result.details["alone_from_probes"])

    assert alone_from_probes() == 0  # no fragment of this run yet
    fragment = check_in_folder(ctx, wheel)
    (module,) = fragment.modules
    assert (module.status, module.kind) == ("failed", "exception"), module
    write_fragment(ctx.fragments_dir, fragment)
    assert alone_from_probes() == 1
    write_fragment(ctx.fragments_dir, replace(fragment, run_id="an-earlier-run"))
    assert alone_from_probes() == 0
    other = replace(module, error="ImportError: another reason")
    write_fragment(ctx.fragments_dir, replace(fragment, modules=(other,)))
    assert alone_from_probes() == 0


def test_the_set_check_waits_for_a_probe_that_is_importing(
    tmp_path: Path, build: PythonBuild, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A module fails in the passes while its wheel's probe is importing beside the set check
    (checker.probe.underway): the set check takes that probe's result when it ends instead of
    importing the module alone; the fragment need not be written yet."""
    folder = tmp_path / "packages"
    wheel = _failing_wheel(tmp_path, folder, build, "nicwait")
    ctx = build_context(tmp_path / "run", folder)
    asked = threading.Event()
    real = underway.result_if_importing

    def spied(fragment: Path) -> Fragment | None:
        asked.set()  # the set check has come to the question: now let the probe end
        return real(fragment)

    monkeypatch.setattr(probed, "result_if_importing", spied)
    path = fragment_path(ctx.fragments_dir, wheel.name)
    underway.importing(path)  # as the probe's thread says before its imports
    with ThreadPoolExecutor(max_workers=1) as pool:
        waiting = pool.submit(check_set, ctx, discover(folder))
        assert asked.wait(timeout=120)
        fragment = check_in_folder(ctx, wheel)  # the real probe; its end wakes the set check
        result = waiting.result(timeout=120)
    assert not path.exists()  # nothing written: the result came from the probe itself
    assert fragment.modules[0].status == "failed"
    assert result.findings == ()
    assert result.details["alone_from_probes"] == 1
    assert underway.result_if_importing(path) is None  # ended: nothing left to wait for


def test_set_check_and_probes_compute_each_wheels_static_facts_once(
    tmp_path: Path, build: PythonBuild
) -> None:
    """With --jobs 2 the set check runs beside the probes: each wheel's RECORD hashes, audit
    and exports are computed once in the run (by the set check or by its probe) and read by
    the other; both import passes ran, and found what one after the other finds."""
    folder = _globals_folder(build, tmp_path / "w", symbol="nic_value", on_wrong=WRONG_RAISES)
    make_wheel(folder, "nicplain", "1.0", {"nicplain/__init__.py": "X = 1\n"})
    env = {"NATIVE_CHECK_JOBS": "2", "NATIVE_CHECK_FRESH": "1"}
    run = nox_run(tmp_path / "run", folder, "-s", "check_native", env=env)
    assert run.report is not None, run.output
    assert {f["kind"] for f in run.report["set"]} == {"co-import"}
    fragments = run.report_dir / "fragments"
    details = json.loads((fragments / "_set.json").read_text(encoding="utf-8"))["details"]
    assert {"forward", "reverse", "passes", "alone"} <= set(details["seconds"])
    wheels = sorted(folder.glob("*.whl"))
    counts = details["static_facts"]
    assert counts["cached"] + counts["computed"] == len(wheels) == details["wheels"]
    probes = [
        json.loads((fragments / f"{wheel.name}.json").read_text(encoding="utf-8"))
        for wheel in wheels
    ]
    by_probes = sum(1 for p in probes if not p["extra"]["static_cached"])
    assert details["static_facts"]["computed"] + by_probes == len(wheels)
