"""Tests for the CI-facing renderers: JUnit XML, GitHub commands and summary, HTML, progress."""

from __future__ import annotations

import html
import io
import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest
from junitparser import Failure, JUnitXml, Skipped, TestCase, TestSuite

from checker.findings import Finding, ModuleResult
from checker.reports.github import (
    escape_data,
    escape_property,
    github_annotations,
    github_groups,
    step_summary,
)
from checker.reports.html import render_html
from checker.reports.junit import render_junit
from checker.reports.progress import Progress, color_enabled, colorize
from checker.verdict.report import Report
from checker.verdict.whitelist import Entry, Whitelist
from checker.wheel.fragment import Fragment
from tests.support.reports import fragment, report_of

BAD = "bad-1.0-cp311-cp311-linux_x86_64.whl"
KNOWN = "known-2.0-cp311-cp311-linux_x86_64.whl"
GOOD = "good-3.0-py3-none-any.whl"
PURE = "pure-4.0-py3-none-any.whl"
EVIL = "evil<script>alert(1)</script>-5.0-py3-none-any.whl"

BAD_ERROR = (
    "libfoo.so.1: cannot open shared object file: No such file or directory\n"
    '  File "bad/__init__.py", line 3, in <module> (100% sure)'
)
LOCK_ERROR = f"{BAD} is not pinned | see packages.lock"
STALE = Entry("good-*.whl", "good._g", "stale entry")


def _fragment(
    wheel: str, modules: tuple[ModuleResult, ...] = (), findings: tuple[Finding, ...] = ()
) -> Fragment:
    return fragment(wheel, modules, findings, duration=1.25)


def make_report(*extra: Fragment) -> Report:
    """A failing, a whitelisted, a passing and a module-less wheel, and one stale entry."""
    bad = _fragment(
        BAD,
        (
            ModuleResult("bad._ok", "bad/_ok.so", "ok", duration=0.1),
            ModuleResult("bad._m", "bad/_m.so", "failed", "missing-library", BAD_ERROR, None, 0.2),
            ModuleResult("bad._lib", "bad/_lib.so", "skipped", "not-a-module", None, "ctypes lib"),
        ),
        (
            Finding("static", "bad._m", "missing-library", "needs libfoo.so.1", "bad/_m.so"),
            Finding("integrity", "lock", "lock-extra", LOCK_ERROR, BAD),
        ),
    )
    known = _fragment(
        KNOWN, (ModuleResult("known._k", "known/_k.so", "failed", "crash", "crash: SIGSEGV"),)
    )
    good = _fragment(GOOD, (ModuleResult("good._g", "good/_g.so", "ok"),))
    whitelist = Whitelist(
        Path("whitelists/python-3.11.7/linux-x64.json"),
        (Entry("known-*.whl", "known._k", "SIGSEGV"), STALE),
    )
    return report_of([bad, known, good, _fragment(PURE), *extra], whitelist)


def evil_fragment() -> Fragment:
    error = "exception: <script>alert('x')</script> & \"quotes\"\nsecond line"
    return _fragment(EVIL, (ModuleResult("evil.<b>", None, "failed", "exception", error),))


@pytest.fixture(scope="module")
def report() -> Report:
    return make_report()


# --- JUnit -------------------------------------------------------------------------------------


def _suites(xml: str, tmp_path: Path) -> dict[str, TestSuite]:
    path = tmp_path / "junit.xml"
    path.write_text(xml, encoding="utf-8")
    parsed = JUnitXml.fromfile(str(path))
    return {str(suite.name): suite for suite in parsed}


def _cases(suite: TestSuite) -> dict[str, TestCase]:
    return {str(case.name): case for case in suite}


def test_junit_is_read_back_by_junitparser(report: Report, tmp_path: Path) -> None:
    suites = _suites(render_junit(report), tmp_path)
    assert list(suites) == [BAD, GOOD, KNOWN, PURE]

    bad = suites[BAD]
    assert (bad.tests, bad.failures, bad.skipped, bad.errors) == (5, 3, 1, 0)
    assert bad.time == pytest.approx(1.25)
    cases = _cases(bad)
    assert list(cases) == ["bad._ok", "bad._m", "bad._lib", "static:bad._m", "lock"]
    assert all(case.classname == BAD for case in cases.values())
    assert cases["bad._ok"].is_passed

    failure = cases["bad._m"].result[0]
    assert isinstance(failure, Failure)
    assert failure.type == "missing-library"
    assert failure.message is not None
    assert "libfoo.so.1: cannot open shared object file" in failure.message
    assert "\n" not in failure.message
    assert failure.text == BAD_ERROR

    skipped = cases["bad._lib"].result[0]
    assert isinstance(skipped, Skipped)
    assert skipped.message is not None
    assert "not-a-module" in skipped.message
    assert "ctypes lib" in skipped.message

    static = cases["static:bad._m"].result[0]
    assert isinstance(static, Failure)
    assert static.type == "missing-library"
    lock = cases["lock"].result[0]
    assert isinstance(lock, Failure)
    assert lock.type == "lock-extra"
    assert lock.message == LOCK_ERROR

    known = _cases(suites[KNOWN])["known._k"]
    assert known.is_skipped
    whitelisted = known.result[0]
    assert isinstance(whitelisted, Skipped)
    assert whitelisted.message == "whitelisted: SIGSEGV"
    assert (suites[KNOWN].failures, suites[KNOWN].skipped) == (0, 1)

    assert _cases(suites[GOOD])["good._g"].is_passed
    pure = _cases(suites[PURE])
    assert list(pure) == ["import"]
    assert pure["import"].is_passed

    root = ET.fromstring(render_junit(report).encode("utf-8"))
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("skipped")) == ("8", "3", "2")


def test_junit_survives_control_characters_and_markup(tmp_path: Path) -> None:
    nasty = _fragment(
        "nasty-1.0-py3-none-any.whl",
        (ModuleResult("nasty._c", None, "failed", "crash", 'Fatal \x00\x1b[31m "<x>" &'),),
    )
    suites = _suites(render_junit(make_report(nasty, evil_fragment())), tmp_path)
    failure = _cases(suites["nasty-1.0-py3-none-any.whl"])["nasty._c"].result[0]
    assert isinstance(failure, Failure)
    assert failure.text == 'Fatal \\x00\\x1b[31m "<x>" &'
    evil = _cases(suites[EVIL])["evil.<b>"].result[0]
    assert isinstance(evil, Failure)
    assert evil.message == "exception: <script>alert('x')</script> & \"quotes\""


# --- GitHub ------------------------------------------------------------------------------------

_DECODE = {"%25": "%", "%0D": "\r", "%0A": "\n", "%3A": ":", "%2C": ","}


def _decode(text: str) -> str:
    return re.sub("%25|%0D|%0A|%3A|%2C", lambda m: _DECODE[m.group()], text)


def test_annotations_shape_and_escaping(report: Report) -> None:
    lines = github_annotations(report)
    errors = [line for line in lines if line.startswith("::error ")]
    warnings = [line for line in lines if line.startswith("::warning ")]
    assert len(errors) == 3  # static, lock, module; the whitelisted crash is not annotated
    assert len(warnings) == 1
    shape = re.compile(r"^::(error|warning) title=([^:,\r\n]*)::([^\r\n]*)$")
    for line in lines:
        assert shape.match(line), line
    assert any(f"{BAD} static%3Abad._m%3A missing-library::needs" in line for line in errors)
    module_line = next(line for line in errors if f"{BAD} bad._m%3A missing-library" in line)
    match = shape.match(module_line)
    assert match is not None
    assert _decode(match.group(2)) == f"{BAD} bad._m: missing-library"
    assert "%0A" in match.group(3)
    assert "%25" in match.group(3)
    assert _decode(match.group(3)) == BAD_ERROR
    assert not any("known" in line for line in errors)
    assert "good-*.whl / good._g" in warnings[0]
    assert "stale entry" in warnings[0]


def test_escape_rules() -> None:
    text = "100% done\r\nnext: a,b"
    assert escape_data(text) == "100%25 done%0D%0Anext: a,b"
    assert escape_property(text) == "100%25 done%0D%0Anext%3A a%2Cb"
    assert _decode(escape_property(text)) == text
    assert escape_data("%0A") == "%250A"
    assert _decode(escape_data("%0A")) == "%0A"


def test_groups(report: Report) -> None:
    text = github_groups(report)
    lines = text.splitlines()
    assert lines.count("::endgroup::") == 4
    assert f"::group::{BAD}: failed" in lines
    assert f"::group::{KNOWN}: whitelisted" in lines
    assert any(
        line.startswith("  module bad._m: failed [missing-library] libfoo") for line in lines
    )
    assert any("known._k: whitelisted" in line for line in lines)
    # Only our own commands start a line: text from a wheel never does.
    commands = [line for line in lines if line.lstrip().startswith("::")]
    assert all(line.startswith(("::group::", "::endgroup::")) for line in commands)


def test_groups_never_let_error_text_start_a_command() -> None:
    sneaky = _fragment(
        "sneaky-1.0-py3-none-any.whl",
        (ModuleResult("s._m", None, "failed", "exception", "x\n::add-mask::secret\n::endgroup::"),),
    )
    lines = github_groups(make_report(sneaky)).splitlines()
    assert lines.count("::endgroup::") == 5
    assert not any(line.lstrip().startswith("::add-mask") for line in lines)


def test_step_summary(report: Report) -> None:
    text = step_summary(report)
    assert text.startswith("## native-import-checker: FAILED")
    assert "| 4 | 2 | 1 | 1 |" in text
    rows = [line for line in text.splitlines() if line.startswith(f"| `{BAD}`")]
    assert len(rows) == 3
    for row in rows:  # the escaped pipe of LOCK_ERROR does not add a column
        assert len(re.findall(r"(?<!\\)\|", row)) == 5
    assert any("lock-extra" in row and "not pinned \\| see" in row for row in rows)
    assert not any(line.startswith(f"| `{KNOWN}`") for line in text.splitlines())
    assert "Stale whitelist entries" in text
    assert "good-*.whl / good._g" in text
    block = re.search(r"^```json\n(.*?)\n```$", text, re.S | re.M)
    assert block is not None
    assert report.snippet
    assert json.loads(block.group(1)) == report.snippet


def test_step_summary_of_a_clean_run() -> None:
    clean = report_of([_fragment(GOOD, (ModuleResult("good._g", "good/_g.so", "ok"),))])
    text = step_summary(clean)
    assert text.startswith("## native-import-checker: OK")
    assert "Failures" not in text
    assert "```" not in text
    assert github_annotations(clean) == []


# --- HTML --------------------------------------------------------------------------------------


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.starts: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.starts.append(tag)
        self.links += [value or "" for name, value in attrs if name in ("src", "href")]


def test_html_escapes_and_filters(tmp_path: Path) -> None:
    report = make_report(evil_fragment())
    text = render_html(report)
    (tmp_path / "report.html").write_text(text, encoding="utf-8")
    for wheel in report.wheels:
        assert html.escape(wheel.wheel) in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in text
    assert "evil.&lt;b&gt;" in text
    parser = _Tags()
    parser.feed(text)
    assert parser.starts.count("script") == 1  # only ours
    assert parser.starts.count("tbody") >= len(report.wheels)
    assert parser.links == []
    assert 'data-filter="failed"' in text
    assert 'data-filter="whitelisted"' in text
    assert 'data-filter="passed"' in text
    assert 'id="search"' in text
    assert "http://" not in text
    assert "https://" not in text
    assert "Content-Security-Policy" in text
    assert "default-src &#x27;none&#x27;" in text
    for status in ("failed", "whitelisted", "passed"):
        assert f'data-status="{status}"' in text


# --- progress ----------------------------------------------------------------------------------


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def _progress_output(stream: io.StringIO, environ: dict[str, str]) -> str:
    progress = Progress(stream, environ=environ)
    progress.start(62)
    progress.wheel_done(3, 62, "numpy-2.4.6-cp311-cp311-linux_x86_64.whl", "passed", 1.234)
    progress.wheel_done(12, 62, BAD, "failed", 0.5)
    return stream.getvalue()


def test_progress_plain_when_not_a_tty() -> None:
    text = _progress_output(io.StringIO(), {})
    assert "\x1b" not in text
    assert text.splitlines() == [
        "checking 62 wheels",
        "[ 3/62] numpy-2.4.6-cp311-cp311-linux_x86_64.whl  passed  1.2s",
        f"[12/62] {BAD}  failed  0.5s",
    ]


@pytest.mark.parametrize("environ", [{"NO_COLOR": "1"}, {"TERM": "dumb"}])
def test_progress_plain_when_color_is_off(environ: dict[str, str]) -> None:
    assert "\x1b" not in _progress_output(_Tty(), environ)


def test_progress_colors_on_a_tty() -> None:
    text = _progress_output(_Tty(), {"TERM": "xterm-256color"})
    assert "\x1b[32mpassed\x1b[0m" in text
    assert "\x1b[1;31mfailed\x1b[0m" in text
    assert re.sub(r"\x1b\[[0-9;]*m", "", text) == _progress_output(io.StringIO(), {})


def test_color_rule_and_colorize() -> None:
    assert color_enabled(_Tty(), {})
    assert color_enabled(_Tty(), {"NO_COLOR": ""})  # no-color.org: empty means unset
    assert not color_enabled(_Tty(), {"NO_COLOR": "yes"})
    assert not color_enabled(io.StringIO(), {})
    closed = io.StringIO()
    closed.close()
    assert not color_enabled(closed, {})
    assert colorize("x", "failed", False) == "x"
    assert colorize("x", "failed", True) == "\x1b[1;31mx\x1b[0m"
    assert colorize("x", "no-such-status", True) == "x"
    assert "\x1b" not in Progress(_Tty(), color=False, environ={}).format_line(1, 1, "w", "ok", 0)
