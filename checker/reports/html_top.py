"""What the HTML report opens on: every failure by name, the set findings and the libraries
left to the target machine, before any table; and the wheels in the order that matters
(failed, then whitelisted, then passed; by name within each). Reads the report model only.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from checker.verdict.report import Report, WheelVerdict

STATUS_ORDER = {"failed": 0, "whitelisted": 1, "passed": 2}
_SHOWN = 50  # failures listed at the top; the tables below list every one


def failures_first(wheels: Sequence[WheelVerdict]) -> list[WheelVerdict]:
    """The wheels, failed first, then whitelisted, then passed, by name within each."""
    return sorted(wheels, key=lambda w: (STATUS_ORDER.get(w.status, 3), w.wheel))


def _reason(error: str) -> str:
    return next((line for line in error.splitlines() if line.strip()), "")


def _failure_items(reports: Sequence[Report], several: bool) -> list[str]:
    items = []
    for report in reports:
        where = f"{report.variant}: " if several else ""
        for wheel in failures_first(report.wheels):
            for module, kind, error, status in wheel.failures():
                if status != "failed":
                    continue
                items.append(
                    f"<li>{escape(where)}<code>{escape(wheel.wheel)}</code> "
                    f'<code>{escape(module)}</code> <span class="s-failed">[{escape(kind)}]</span> '
                    f"{escape(_reason(error))}</li>"
                )
    return items


def _set_items(reports: Sequence[Report], several: bool) -> list[str]:
    items = []
    for report in reports:
        where = f"{report.variant}: " if several else ""
        for item in report.set_findings or ():
            css = "failed" if item.status == "failed" else "whitelisted"
            items.append(
                f'<li>{escape(where)}<span class="badge s-{css}">{escape(item.status)}</span> '
                f"<code>{escape(item.finding.kind)}</code> "
                f"{escape(', '.join(item.finding.wheels))}: "
                f"{escape(_reason(item.finding.error))}</li>"
            )
    return items


def _machine_items(reports: Sequence[Report]) -> list[str]:
    """Libraries no wheel ships, left to the target machine: drivers, accepted ones."""
    found: dict[tuple[str, str], set[str]] = {}
    for report in reports:
        for wheel in report.wheels:
            for binary in wheel.extra.get("audit", {}).get("binaries", []):
                for link in binary.get("links", []):
                    if link.get("how") in ("driver", "accepted"):
                        projects = found.setdefault((link["how"], link["name"]), set())
                        projects.add(wheel.project or wheel.wheel)
    labels = {"driver": "driver or machine library", "accepted": "accepted (system-libraries)"}
    return [
        f"<li><code>{escape(name)}</code>: {labels[how]}, needed by "
        f"{escape(', '.join(sorted(projects)))}</li>"
        for (how, name), projects in sorted(found.items())
    ]


def top_section(reports: Sequence[Report]) -> str:
    """The opening section of the report of one or several variants."""
    several = len(reports) > 1
    failures = _failure_items(reports, several)
    parts = []
    if failures:
        more = len(failures) - _SHOWN
        shown = "".join(failures[:_SHOWN])
        tail = f'<li class="muted">+{more} more in the tables below</li>' if more > 0 else ""
        parts.append(f'<h2>Failures ({len(failures)})</h2><ul class="failures">{shown}{tail}</ul>')
    else:
        parts.append('<h2>Failures</h2><p class="s-passed">None.</p>')
    set_items = _set_items(reports, several)
    if set_items:
        parts.append(
            f"<h2>The folder as one environment ({len(set_items)})</h2>"
            f'<ul class="failures">{"".join(set_items)}</ul>'
        )
    machine = _machine_items(reports)
    if machine:
        parts.append(
            "<h2>Left to the target machine (no wheel ships these)</h2>"
            f'<ul class="failures">{"".join(machine)}</ul>'
        )
    return f'<section class="top">{"".join(parts)}</section>'
