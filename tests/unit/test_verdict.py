"""Tests for checker.verdict.report: fragments + whitelist -> statuses, stale entries, exit code."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from checker.errors import EXIT_FINDINGS, EXIT_OK
from checker.findings import Finding, ModuleResult
from checker.verdict.report import Report, build_report, missing_fragment
from checker.verdict.whitelist import Whitelist, parse_whitelist
from checker.wheel.fragment import Fragment

A = "alpha-1.0-cp311-cp311-linux_x86_64.whl"
B = "beta-2.0-cp311-cp311-linux_x86_64.whl"
C = "gamma-3.0-cp311-cp311-linux_x86_64.whl"


def fragment(
    wheel: str,
    modules: Sequence[ModuleResult] = (),
    findings: Sequence[Finding] = (),
    install: str = "ok",
) -> Fragment:
    project, version = wheel.split("-")[:2]
    return Fragment(
        wheel=wheel, project=project, version=version, sha256="0" * 64, size=10, run_id="r1",
        fingerprint="f" * 24, python="3.11.7", interpreter="/usr/bin/python3.11",
        platform="linux-x64", variant="python-3.11.7", duration=1.25, install=install,
        findings=tuple(findings), modules=tuple(modules),
    )  # fmt: skip


def ok(module: str) -> ModuleResult:
    return ModuleResult(module, module.replace(".", "/") + ".so", "ok", duration=0.1)


def bad(module: str, error: str, kind: str = "undefined-symbol") -> ModuleResult:
    return ModuleResult(module, module.replace(".", "/") + ".so", "failed", kind, error)


def skipped(module: str) -> ModuleResult:
    return ModuleResult(module, None, "skipped", "not-a-module", None, "no PyInit")


def whitelist(data: object) -> Whitelist:
    return parse_whitelist(json.dumps(data), Path("wl.json"))


def report(
    fragments: Sequence[Fragment], wl: Whitelist | None = None, *, strict: bool = False
) -> Report:
    return build_report(
        fragments,
        wl or Whitelist(None, ()),
        platform="linux-x64",
        variant="python-3.11.7",
        python="3.11.7",
        interpreter="/usr/bin/python3.11",
        strict_whitelist=strict,
    )


def statuses(rep: Report) -> dict[str, str]:
    return {w.wheel: w.status for w in rep.wheels}


def test_all_passed() -> None:
    rep = report([fragment(B, [ok("beta._x"), skipped("beta.libs")]), fragment(A, [ok("a._y")])])
    assert statuses(rep) == {A: "passed", B: "passed"}
    assert [w.wheel for w in rep.wheels] == [A, B]  # sorted
    assert rep.exit_code == EXIT_OK
    assert rep.counts() == {"passed": 2, "failed": 0, "whitelisted": 0}
    assert rep.snippet == {}
    assert rep.whitelist_path is None


def test_failed_whitelisted_and_passed() -> None:
    wl = whitelist({"beta-*.whl": {"beta._x": "undefined symbol: foo"}})
    rep = report(
        [
            fragment(A, [bad("alpha._y", "/p/alpha/_y.so: undefined symbol: bar")]),
            fragment(B, [bad("beta._x", "/q/_x.so: undefined symbol: foo"), ok("beta._z")]),
            fragment(C, [ok("gamma._c")]),
        ],
        wl,
    )
    assert statuses(rep) == {A: "failed", B: "whitelisted", C: "passed"}
    assert rep.counts() == {"passed": 1, "failed": 1, "whitelisted": 1}
    assert rep.exit_code == EXIT_FINDINGS
    beta = rep.wheels[1]
    checked = {m.result.module: m for m in beta.modules}
    assert checked["beta._x"].status == "whitelisted"
    assert checked["beta._x"].whitelist == wl.entries[0]
    assert checked["beta._z"].status == "ok"
    assert checked["beta._z"].whitelist is None
    assert rep.whitelist_path == "wl.json"


def test_only_whitelisted_failures_exit_zero() -> None:
    wl = whitelist({A: {"alpha._y": "bar"}})
    rep = report([fragment(A, [bad("alpha._y", "undefined symbol: bar")])], wl)
    assert statuses(rep) == {A: "whitelisted"}
    assert rep.exit_code == EXIT_OK
    assert rep.snippet == {}
    assert rep.unused_whitelist == ()


def test_one_whitelisted_one_failed_module_is_failed() -> None:
    wl = whitelist({"alpha-*.whl": {"alpha._one": "foo"}})
    rep = report(
        [fragment(A, [bad("alpha._one", "symbol foo"), bad("alpha._two", "symbol foo")])], wl
    )
    assert statuses(rep) == {A: "failed"}
    failures = rep.wheels[0].failures()
    assert ("alpha._one", "undefined-symbol", "symbol foo", "whitelisted") in failures
    assert ("alpha._two", "undefined-symbol", "symbol foo", "failed") in failures
    # The snippet offers only the failure that is not whitelisted yet.
    assert rep.snippet == {"alpha-*.whl": {"alpha._two": "symbol foo"}}
    assert rep.exit_code == EXIT_FINDINGS


def test_findings_whitelistable_by_pseudo_module() -> None:
    install = Finding(
        "install", "install", "missing-dependency", "requirement 'zlib-ng' has no wheel"
    )
    integrity = Finding("integrity", "integrity", "integrity", "'a/b.py' does not match", "a/b.py")
    wl = whitelist({"alpha-*": {"install": "zlib-ng", "integrity": "does not match"}})
    rep = report([fragment(A, findings=[install, integrity], install="failed")], wl)
    assert statuses(rep) == {A: "whitelisted"}
    assert [f.status for f in rep.wheels[0].findings] == ["whitelisted", "whitelisted"]
    assert rep.exit_code == EXIT_OK
    # The same findings without a whitelist fail, and the snippet keys them by pseudo-module.
    rep = report([fragment(A, findings=[install, integrity], install="failed")])
    assert statuses(rep) == {A: "failed"}
    assert set(rep.snippet["alpha-*.whl"]) == {"install", "integrity"}


def test_finding_module_must_match() -> None:
    install = Finding("install", "install", "install-error", "uv failed")
    wl = whitelist({"alpha-*": {"integrity": "uv failed"}})
    rep = report([fragment(A, findings=[install])], wl)
    assert statuses(rep) == {A: "failed"}
    assert len(rep.unused_whitelist) == 1


def test_no_fragment_is_never_whitelisted() -> None:
    wl = whitelist({"*": {"fragment": "left no result"}})
    missing = missing_fragment(A, "the probe session left no result")
    rep = report([missing, fragment(B, [ok("beta._x")])], wl)
    assert statuses(rep) == {A: "failed", B: "passed"}
    finding = rep.wheels[0].findings[0]
    assert finding.finding.kind == "no-fragment"
    assert finding.status == "failed"
    assert finding.whitelist is None
    assert rep.exit_code == EXIT_FINDINGS
    # Not offered in the snippet either: whitelisting it would have no effect.
    assert rep.snippet == {}
    assert rep.unused_whitelist == tuple(wl.entries)


def test_stale_entries_and_strict_whitelist() -> None:
    wl = whitelist(
        {
            "alpha-*.whl": {"alpha._gone": "was broken"},
            "zeta-*.whl": {"zeta._z": "not part of this run"},
        }
    )
    fragments = [fragment(A, [ok("alpha._gone")])]
    lenient = report(fragments, wl)
    assert [(e.wheel_key, e.module) for e in lenient.unused_whitelist] == [
        ("alpha-*.whl", "alpha._gone")
    ]
    assert lenient.exit_code == EXIT_OK
    strict = report(fragments, wl, strict=True)
    assert strict.unused_whitelist == lenient.unused_whitelist
    assert strict.exit_code == EXIT_FINDINGS
    # Strict with nothing stale passes.
    assert report(fragments, Whitelist(None, ()), strict=True).exit_code == EXIT_OK


def test_snippet_only_for_failures() -> None:
    wl = whitelist({"alpha-*.whl": {"alpha._w": "known"}})
    rep = report(
        [
            fragment(
                A,
                [
                    bad("alpha._w", "known problem"),
                    bad("alpha._n", "/x/y.so: cannot open shared object file"),
                    ok("alpha._ok"),
                    skipped("alpha._s"),
                ],
            ),
            fragment(C, [bad("gamma._c", "Fatal Python error: Segmentation fault", "crash")]),
        ],
        wl,
    )
    assert rep.snippet == {
        "alpha-*.whl": {"alpha._n": "cannot open shared object file"},
        "gamma-*.whl": {"gamma._c": "Fatal Python error: Segmentation fault"},
    }
    # Pasting the snippet makes the run pass.
    both = whitelist(
        {**rep.snippet, "alpha-*.whl": {**rep.snippet["alpha-*.whl"], "alpha._w": "known"}}
    )
    again = report(
        [
            fragment(
                A,
                [
                    bad("alpha._w", "known problem"),
                    bad("alpha._n", "/x/y.so: cannot open shared object file"),
                ],
            ),
            fragment(C, [bad("gamma._c", "Fatal Python error: Segmentation fault", "crash")]),
        ],
        both,
    )
    assert again.exit_code == EXIT_OK
    assert again.unused_whitelist == ()


def test_wheel_fields_carried_over() -> None:
    frag = fragment(A, [ok("alpha._x")], install="ok")
    rep = report([frag])
    verdict = rep.wheels[0]
    assert (verdict.project, verdict.version, verdict.install, verdict.duration) == (
        "alpha",
        "1.0",
        "ok",
        1.25,
    )


def test_a_warning_finding_passes_until_strict_mode() -> None:
    """A symbol version above the tag's promise but within the users' glibc floor."""
    error = "pkg/libx.so needs GLIBCXX_3.4.21 (x) from libstdc++.so.6: above what ..."
    warning = Finding("static", "pkg/libx.so", "symbol-version", error, "pkg/libx.so", "warning")
    assert Finding.from_json(warning.to_json()) == warning
    assert "severity" not in Finding("static", "m", "symbol-version", "e").to_json()
    rep = report([fragment(A, [ok("alpha._x")], [warning])])
    assert statuses(rep) == {A: "passed"} and rep.exit_code == EXIT_OK
    (wheel,) = rep.wheels
    assert [f.status for f in wheel.findings] == ["warning"] and wheel.failures() == []
    assert rep.snippet == {}
    assert (
        report([fragment(A, [ok("alpha._x")], [warning])], strict=True).exit_code == EXIT_FINDINGS
    )
    wl = whitelist({"alpha-*.whl": {"pkg/libx.so": "GLIBCXX_3.4.21"}})
    assert [f.status for f in report([fragment(A, (), [warning])], wl).wheels[0].findings] == [
        "whitelisted"
    ]
