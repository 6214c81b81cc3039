"""The HTML report of a run over variants: what matters first (checker.reports.html_top:
every failure, the set findings, the libraries left to the target machine), a wheel x variant
matrix, failures first, then each variant's wheels as in a single run's report
(checker.reports.html)."""

from __future__ import annotations

from html import escape

from checker.reports.html import WHEEL_HEAD, controls, extras, page, wheel_rows
from checker.reports.html_top import STATUS_ORDER, top_section
from checker.verdict.report import RunReport, WheelVerdict


def _anchor(variant: str) -> str:
    return "v-" + "".join(c if c.isalnum() else "-" for c in variant)


def _matrix(run: RunReport) -> str:
    names = [r.variant for r in run.variants]
    cells: dict[str, dict[str, WheelVerdict]] = {}
    for report in run.variants:
        for checked in report.wheels:
            cells.setdefault(checked.wheel, {})[report.variant] = checked

    def worst(wheel: str) -> tuple[int, str]:
        return min(STATUS_ORDER.get(v.status, 3) for v in cells[wheel].values()), wheel

    head = "".join(f'<th><a href="#{_anchor(n)}">{escape(n)}</a></th>' for n in names)
    rows = []
    for wheel in sorted(cells, key=worst):
        tds = []
        for name in names:
            cell = cells[wheel].get(name)
            if cell is None:
                tds.append('<td class="muted">-</td>')
                continue
            shared = cell.extra.get("shared_from")
            note = (
                f' <span class="muted">shared with {escape(str(shared))}</span>' if shared else ""
            )
            tds.append(
                f'<td><span class="badge s-{escape(cell.status)}">'
                f"{escape(cell.status)}</span>{note}</td>"
            )
        rows.append(f'<tr><td class="name"><code>{escape(wheel)}</code></td>{"".join(tds)}</tr>')
    return (
        f"<h2>Wheels x variants</h2><table><thead><tr><th>wheel</th>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def render_run_html(run: RunReport) -> str:
    """The run's report as one self-contained HTML document."""
    counts = run.counts()
    verdict = "FAILED" if run.exit_code else "OK"
    summary = (
        f"{len(run.variants)} variant(s), {run.wheel_count} wheel check(s): "
        f"{counts['passed']} passed, {counts['whitelisted']} whitelisted, {counts['failed']} failed"
    )
    sections = []
    for report in run.variants:
        state = "FAILED" if report.exit_code else "OK"
        meta = f"Python {report.python} ({report.interpreter}), whitelist {report.whitelist_path}"
        sections.append(
            f'<h2 id="{_anchor(report.variant)}">Variant {escape(report.variant)}: {state}</h2>'
            f'<p class="meta">{escape(meta)}</p>'
            f"<table><thead>{WHEEL_HEAD}</thead>{wheel_rows(report)}</table>{extras(report)}"
        )
    content = (
        f'<p class="meta">{escape(run.platform)}<br>{escape(summary)}</p>\n'
        f"{top_section(run.variants)}\n{_matrix(run)}\n"
        f"{controls(run.wheel_count, counts)}\n{''.join(sections)}"
        '<p id="empty" class="empty" hidden>No wheel matches the filter.</p>\n'
    )
    return page(
        f"native-import-checker: {verdict} ({run.platform})", verdict, bool(run.exit_code), content
    )
