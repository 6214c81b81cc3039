"""JUnit XML for CI test views: one testsuite per wheel, one testcase per module or stage.

- ``<testsuites>``: one ``<testsuite name="<wheel file name>">`` per wheel, with its counts;
- a testcase per module (``classname`` = wheel, ``name`` = module): ``ok`` passes, ``failed`` is
  a ``<failure type="<kind>" message="<first line>">full error</failure>``, ``whitelisted`` and
  ``skipped`` are ``<skipped message="...">``;
- a testcase per finding stage: ``install``, ``integrity``, ``lock``, ``fragment`` (the pseudo
  module) and ``static:<module>`` for the static audit; several findings of one stage share it;
- a wheel with neither modules nor findings gets one passing ``import`` testcase, so CI lists it.

Only reads the report model. Characters that XML 1.0 cannot carry (NUL, ESC, ...) are written
as ``\\xNN`` so that the file always parses.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence

from checker.verdict.report import CheckedFinding, CheckedModule, Report, RunReport, WheelVerdict

_MESSAGE_WIDTH = 200
_NOT_XML = re.compile("[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_safe(text: str) -> str:
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _one_line(text: str, width: int = _MESSAGE_WIDTH) -> str:
    first = next((line for line in text.splitlines() if line.strip()), "")
    line = " ".join(first.split())
    return line if len(line) <= width else line[: width - 1] + "…"


def _seconds(value: float) -> str:
    return f"{max(value, 0.0):.3f}"


def _skip_reason(item: CheckedModule) -> str:
    result = item.result
    parts = [part for part in (result.kind, result.note or result.error) if part]
    return _one_line(": ".join(parts)) or "skipped"


def _module_case(suite: ET.Element, wheel: str, item: CheckedModule) -> str:
    """Add the module's testcase; return its outcome: passed | failure | skipped."""
    result = item.result
    case = ET.SubElement(
        suite,
        "testcase",
        {"classname": _xml_safe(wheel), "name": _xml_safe(result.module)},
    )
    case.set("time", _seconds(result.duration))
    if result.file:
        case.set("file", _xml_safe(result.file))
    if item.status == "failed":
        error = result.explained
        failure = ET.SubElement(
            case,
            "failure",
            {"type": result.kind or "failed", "message": _xml_safe(_one_line(error))},
        )
        failure.text = _xml_safe(error)
        return "failure"
    if item.status == "whitelisted":
        pattern = item.whitelist.pattern if item.whitelist else ""
        ET.SubElement(case, "skipped", {"message": _xml_safe(f"whitelisted: {pattern}")})
        return "skipped"
    if item.status == "skipped":
        ET.SubElement(case, "skipped", {"message": _xml_safe(_skip_reason(item))})
        return "skipped"
    return "passed"


def _stage_name(item: CheckedFinding) -> str:
    finding = item.finding
    return f"static:{finding.module}" if finding.stage == "static" else finding.module


def _finding_text(item: CheckedFinding) -> str:
    finding = item.finding
    where = f" ({finding.file})" if finding.file else ""
    return f"[{finding.kind}]{where} {finding.error}"


def _stage_case(suite: ET.Element, wheel: str, name: str, items: Sequence[CheckedFinding]) -> str:
    """One testcase for the findings of one stage; any unwhitelisted one fails it."""
    case = ET.SubElement(
        suite, "testcase", {"classname": _xml_safe(wheel), "name": _xml_safe(name), "time": "0.000"}
    )
    failed = [item for item in items if item.status == "failed"]
    if failed:
        kinds = list(dict.fromkeys(item.finding.kind for item in failed))
        message = _one_line(failed[0].finding.error)
        if len(failed) > 1:
            message += f" (+{len(failed) - 1} more)"
        failure = ET.SubElement(
            case, "failure", {"type": ",".join(kinds), "message": _xml_safe(message)}
        )
        failure.text = _xml_safe("\n\n".join(_finding_text(item) for item in items))
        return "failure"
    warnings = [item for item in items if item.status == "warning"]
    if warnings:
        text = "\n\n".join("warning: " + _finding_text(item) for item in warnings)
        ET.SubElement(case, "system-out").text = _xml_safe(text)
    patterns = [item.whitelist.pattern for item in items if item.whitelist]
    if not patterns:
        return "passed"  # warnings only: they pass (strict mode fails the run on them)
    ET.SubElement(case, "skipped", {"message": _xml_safe("whitelisted: " + "; ".join(patterns))})
    return "skipped"


def _wheel_cases(suite: ET.Element, verdict: WheelVerdict) -> list[str]:
    """The wheel's testcases (a module each, a stage each; one passing ``import`` case for a
    wheel with neither) in ``suite``; their outcomes."""
    outcomes = [_module_case(suite, verdict.wheel, item) for item in verdict.modules]
    stages: dict[str, list[CheckedFinding]] = {}
    for item in verdict.findings:
        stages.setdefault(_stage_name(item), []).append(item)
    outcomes += [_stage_case(suite, verdict.wheel, name, items) for name, items in stages.items()]
    if not outcomes:
        ET.SubElement(
            suite,
            "testcase",
            {"classname": _xml_safe(verdict.wheel), "name": "import", "time": "0.000"},
        )
        outcomes.append("passed")
    return outcomes


def _wheel_suite(parent: ET.Element, verdict: WheelVerdict) -> dict[str, int]:
    suite = ET.SubElement(parent, "testsuite", {"name": _xml_safe(verdict.wheel)})
    counts = _count(suite, _wheel_cases(suite, verdict))
    suite.set("time", _seconds(verdict.duration))
    return counts


def _set_cases(suite: ET.Element, report: Report) -> list[str]:
    """A testcase per set finding (one passing ``set`` case when the folder is fine together);
    a warning passes with its text as system-out."""
    if report.set_findings is None:
        return []
    if not report.set_findings:
        ET.SubElement(suite, "testcase", {"classname": "set", "name": "one environment"})
        return ["passed"]
    outcomes = []
    for item in report.set_findings:
        f = item.finding
        name = f"{f.kind}: {', '.join(f.wheels) or 'the folder'}"
        case = ET.SubElement(suite, "testcase", {"classname": "set", "name": _xml_safe(name)})
        if item.status == "failed":
            failure = ET.SubElement(
                case, "failure", {"type": f.kind, "message": _xml_safe(_one_line(f.error))}
            )
            failure.text = _xml_safe(f.error)
            outcomes.append("failure")
        elif item.status == "whitelisted":
            pattern = item.whitelist.pattern if item.whitelist else ""
            ET.SubElement(case, "skipped", {"message": _xml_safe(f"whitelisted: {pattern}")})
            outcomes.append("skipped")
        else:
            ET.SubElement(case, "system-out").text = _xml_safe(f"warning: {f.error}")
            outcomes.append("passed")
    return outcomes


def _count(suite: ET.Element, outcomes: list[str]) -> dict[str, int]:
    counts = {
        "tests": len(outcomes),
        "failures": outcomes.count("failure"),
        "errors": 0,
        "skipped": outcomes.count("skipped"),
    }
    for key, value in counts.items():
        suite.set(key, str(value))
    return counts


def render_junit(report: Report) -> str:
    """The report as a JUnit XML document (UTF-8 text, with an XML declaration)."""
    root = ET.Element("testsuites", {"name": "native-import-checker"})
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for verdict in report.wheels:
        for key, value in _wheel_suite(root, verdict).items():
            totals[key] += value
    if report.set_findings is not None:
        suite = ET.SubElement(root, "testsuite", {"name": "set (the folder as one environment)"})
        for key, value in _count(suite, _set_cases(suite, report)).items():
            totals[key] += value
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("time", _seconds(sum(w.duration for w in report.wheels)))
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'


def render_run_junit(run: RunReport) -> str:
    """A run over variants: one testsuite per variant, a testcase per wheel's module and stage
    (classname: the wheel), so CI test tabs group the results by variant."""
    root = ET.Element("testsuites", {"name": "native-import-checker"})
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for report in run.variants:
        suite = ET.SubElement(root, "testsuite", {"name": _xml_safe(report.variant)})
        outcomes = [o for verdict in report.wheels for o in _wheel_cases(suite, verdict)]
        outcomes += _set_cases(suite, report)
        for key, value in _count(suite, outcomes).items():
            totals[key] += value
        suite.set("time", _seconds(sum(w.duration for w in report.wheels)))
    for key, value in totals.items():
        root.set(key, str(value))
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'
