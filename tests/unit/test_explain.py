"""One verdict per module: which static findings join which failed import (probe.explain)."""

from __future__ import annotations

import json
from pathlib import Path

from checker.audit import AuditResult, BinaryAudit, LinkedLibrary
from checker.findings import Finding, ModuleResult
from checker.probe.explain import explain
from checker.verdict.report import judge_wheel
from checker.verdict.whitelist import parse_whitelist
from checker.wheel.fragment import Fragment

WHEEL = "pkg-1.0-cp312-cp312-manylinux_2_17_x86_64.whl"


def _binary(module: str, file: str, *links: LinkedLibrary) -> BinaryAudit:
    return BinaryAudit(file, module, "elf", ("x86_64",), tuple(links), {}, None)


def _external(module: str, file: str, library: str) -> Finding:
    error = f"{module} needs {library}: not bundled and not on the manylinux_2_17_x86_64 allow-list"
    return Finding("static", module, "external-library", error, file)


LIBDEP = "pkg.libs/libdep.so"
# pkg._a and pkg._b both load the bundled pkg.libs/libdep.so; pkg._c loads nothing bundled.
AUDIT = AuditResult(
    findings=(),
    binaries=(
        _binary("pkg._a", "pkg/_a.so", LinkedLibrary("libdep.so", "pkg.libs/libdep.so", "bundled")),
        _binary("pkg._b", "pkg/_b.so", LinkedLibrary("libdep.so", "pkg.libs/libdep.so", "bundled")),
        _binary("pkg._c", "pkg/_c.so", LinkedLibrary("libtbb.so.12", None, "external")),
        _binary(
            "pkg.libs/libdep.so", "pkg.libs/libdep.so", LinkedLibrary("libx.so", None, "external")
        ),
    ),
    platform="manylinux_2_17_x86_64",
)
TBB_ERROR = "ImportError: libtbb.so.12: cannot open shared object file: No such file or directory"
ON_C = _external("pkg._c", "pkg/_c.so", "libtbb.so.12")
ON_DEP = _external(LIBDEP, LIBDEP, "libx.so")


def _module(name: str, status: str, error: str | None = None) -> ModuleResult:
    kind = "missing-library" if status == "failed" else None
    return ModuleResult(name, name.replace(".", "/") + ".so", status, kind, error)


def test_finding_on_the_failed_module_itself_joins_its_failure() -> None:
    modules = [_module("pkg._c", "failed", TBB_ERROR), _module("pkg._a", "ok")]
    explained, alone = explain(modules, [ON_C], AUDIT)
    assert alone == []
    (c,) = [m for m in explained if m.module == "pkg._c"]
    assert c.explanation == (ON_C,)
    assert "explained by the static audit: [external-library]" in c.explained


def test_finding_on_a_library_joins_every_failed_module_that_loads_it() -> None:
    modules = [_module("pkg._a", "failed", "ImportError: libx.so"), _module("pkg._b", "failed")]
    explained, alone = explain(modules, [ON_DEP], AUDIT)
    assert alone == []
    assert [m.explanation for m in explained] == [(ON_DEP,), (ON_DEP,)]


def test_finding_stays_alone_when_a_module_that_loads_it_imports_fine() -> None:
    """What the import cannot see: the library loaded here, it may not load elsewhere."""
    modules = [_module("pkg._a", "failed", "ImportError: other"), _module("pkg._b", "ok")]
    explained, alone = explain(modules, [ON_DEP], AUDIT)
    assert alone == [ON_DEP]
    assert all(m.explanation == () for m in explained)


def test_finding_on_an_ok_module_stays_a_failure_of_its_own() -> None:
    explained, alone = explain([_module("pkg._c", "ok")], [ON_C], AUDIT)
    assert alone == [ON_C] and explained[0].explanation == ()


def _judge(whitelist: dict[str, dict[str, str]]) -> str:
    (module,), _ = explain([_module("pkg._c", "failed", TBB_ERROR)], [ON_C], AUDIT)
    fragment = Fragment(
        wheel=WHEEL, project="pkg", version="1.0", sha256="", size=0, run_id="r",
        fingerprint="", python="3.12", interpreter="", platform="linux-x64", variant="v",
        duration=0.0, install="ok", modules=(module,),
    )  # fmt: skip
    verdict = judge_wheel(fragment, parse_whitelist(json.dumps(whitelist), Path("w.json")))
    assert verdict.findings == ()
    return verdict.status


def test_an_entry_for_the_import_error_covers_the_explained_failure() -> None:
    entry = {"pkg-*.whl": {"pkg._c": "libtbb.so.12: cannot open shared object file"}}
    assert _judge(entry) == "whitelisted"


def test_an_entry_for_the_explaining_finding_covers_it_too() -> None:
    assert _judge({"pkg-*.whl": {"pkg._c": "not on the manylinux_2_17"}}) == "whitelisted"


def test_an_entry_for_another_error_does_not() -> None:
    assert _judge({"pkg-*.whl": {"pkg._c": "undefined symbol"}}) == "failed"
