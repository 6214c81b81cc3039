"""A self-contained HTML report: one file, inline CSS and a little inline JS, no network.

A table with one row per wheel (status, module counts, failures with kind and reason) and an
expandable per-module detail below it; buttons filter the rows by status and a search box by
name (the controls show only when the script runs). Every text from the model goes through
``html.escape``. A Content-Security-Policy allows only the page's own style and script (by
hash) and no loads at all.
"""

from __future__ import annotations

import base64
import hashlib
import json
from html import escape

from checker.reports.html_top import failures_first, top_section
from checker.verdict.report import Report, WheelVerdict

_STATUSES = ("failed", "whitelisted", "passed")

_CSS = """
:root { color-scheme: light dark; --fg: #1f2328; --bg: #fff; --muted: #656d76;
  --line: #d0d7de; --head: #f6f8fa; --failed: #cf222e; --whitelisted: #9a6700;
  --passed: #1a7f37; --skipped: #656d76; --ok: #1a7f37; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --bg: #0d1117;
  --muted: #8d96a0; --line: #30363d; --head: #161b22; --failed: #ff7b72;
  --whitelisted: #d29922; --passed: #3fb950; --skipped: #8d96a0; --ok: #3fb950; } }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg);
  background: var(--bg); margin: 1.5rem; }
h1 { font-size: 1.4rem; margin: 0 0 .25rem; }
h2 { font-size: 1.1rem; margin: 1.5rem 0 .5rem; }
.meta, .muted { color: var(--muted); }
code, pre, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
  font-size: 12.5px; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; margin: 0; }
.controls { display: none; flex-wrap: wrap; gap: .5rem; align-items: center; margin: 1rem 0; }
.js .controls { display: flex; }
.controls button { font: inherit; padding: .25rem .75rem; border: 1px solid var(--line);
  border-radius: 2rem; background: var(--head); color: var(--fg); cursor: pointer; }
.controls button[aria-pressed="true"] { border-color: var(--fg); font-weight: 600; }
.controls input { font: inherit; padding: .25rem .5rem; border: 1px solid var(--line);
  border-radius: .375rem; background: var(--bg); color: var(--fg); min-width: 16rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: .35rem .5rem;
  border-bottom: 1px solid var(--line); }
th { background: var(--head); position: sticky; top: 0; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tbody.wheel > tr.row > td { border-top: 2px solid var(--line); }
tr.detail > td { padding: 0 .5rem .5rem 1.5rem; border-bottom: 0; }
td.name { overflow-wrap: anywhere; }
.badge { display: inline-block; padding: 0 .5rem; border-radius: 2rem; font-size: 12px;
  font-weight: 600; border: 1px solid currentColor; white-space: nowrap; }
.s-failed { color: var(--failed); } .s-whitelisted { color: var(--whitelisted); }
.s-passed, .s-ok { color: var(--passed); } .s-skipped { color: var(--skipped); }
ul.failures { margin: 0; padding-left: 1rem; }
ul.failures li.whitelisted { color: var(--muted); }
details > summary { cursor: pointer; color: var(--muted); }
details table { margin: .25rem 0; }
details th { position: static; }
.empty { padding: 1rem; color: var(--muted); }
"""

_JS = """
(function () {
  document.documentElement.classList.add("js");
  var current = "all";
  var buttons = document.querySelectorAll("button[data-filter]");
  var search = document.getElementById("search");
  var empty = document.getElementById("empty");
  function apply() {
    var text = search.value.trim().toLowerCase();
    var shown = 0;
    document.querySelectorAll("tbody.wheel").forEach(function (body) {
      var show = (current === "all" || body.dataset.status === current) &&
        (!text || body.dataset.name.indexOf(text) !== -1);
      body.hidden = !show;
      if (show) { shown += 1; }
    });
    empty.hidden = shown !== 0;
  }
  buttons.forEach(function (button) {
    button.addEventListener("click", function () {
      current = button.dataset.filter;
      buttons.forEach(function (b) { b.setAttribute("aria-pressed", String(b === button)); });
      apply();
    });
  });
  search.addEventListener("input", apply);
})();
"""


def _csp_hash(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def _badge(status: str) -> str:
    return f'<span class="badge s-{escape(status)}">{escape(status)}</span>'


def _failures(verdict: WheelVerdict) -> str:
    failures = [
        (f"static:{f.finding.module}" if f.finding.stage == "static" else f.finding.module,
         f.finding.kind, f.finding.error, f.status)
        for f in verdict.findings
    ]  # fmt: skip
    failures += [
        (m.result.module, m.result.kind or "", m.result.explained, m.status)
        for m in verdict.modules
        if m.status in ("failed", "whitelisted")
    ]
    items = []
    for module, kind, error, status in failures:
        reason = next((line for line in error.splitlines() if line.strip()), "")
        css = ' class="whitelisted"' if status in ("whitelisted", "warning") else ""
        label = f" ({status})" if status in ("whitelisted", "warning") else ""
        items.append(
            f"<li{css}><code>{escape(module)}</code> "
            f'<span class="s-{escape(status)}">[{escape(kind)}]</span>{escape(label)} '
            f"{escape(reason)}</li>"
        )
    return f'<ul class="failures">{"".join(items)}</ul>' if items else ""


def _details(verdict: WheelVerdict) -> str:
    rows = []
    for item in verdict.modules:
        r = item.result
        text = r.explained
        if r.note:
            text = f"{text}\n{r.note}" if text else r.note
        if item.whitelist:
            text += f"\nwhitelisted by {item.whitelist.wheel_key} / {item.whitelist.pattern!r}"
        rows.append(
            f"<tr><td><code>{escape(r.module)}</code></td>"
            f'<td class="mono">{escape(r.file or "")}</td><td>{_badge(item.status)}</td>'
            f"<td>{escape(r.kind or '')}</td><td><pre>{escape(text.strip())}</pre></td>"
            f'<td class="num">{r.duration:.2f}s</td></tr>'
        )
    for found in verdict.findings:
        f = found.finding
        text = f.error
        if found.whitelist:
            text += f"\nwhitelisted by {found.whitelist.wheel_key} / {found.whitelist.pattern!r}"
        rows.append(
            f"<tr><td><code>{escape(f.stage)}:{escape(f.module)}</code></td>"
            f'<td class="mono">{escape(f.file or "")}</td><td>{_badge(found.status)}</td>'
            f"<td>{escape(f.kind)}</td><td><pre>{escape(text)}</pre></td>"
            '<td class="num"></td></tr>'
        )
    if not rows:
        return '<span class="muted">no extension modules, no findings</span>'
    count = len(verdict.modules)
    label = f"{count} module(s), {len(verdict.findings)} finding(s); install: {verdict.install}"
    return (
        f"<details><summary>{escape(label)}</summary><table><thead><tr><th>module</th>"
        "<th>file</th><th>status</th><th>kind</th><th>error / note</th>"
        '<th class="num">time</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></details>"
    )


def _wheel(verdict: WheelVerdict) -> str:
    statuses = [m.status for m in verdict.modules]
    numbers = "".join(
        f'<td class="num">{statuses.count(status)}</td>'
        for status in ("ok", "failed", "whitelisted", "skipped")
    )
    return (
        f'<tbody class="wheel" data-status="{escape(verdict.status)}" '
        f'data-name="{escape(verdict.wheel.lower())}">'
        f'<tr class="row"><td class="name"><code>{escape(verdict.wheel)}</code></td>'
        f"<td>{_badge(verdict.status)}</td>{numbers}"
        f'<td class="num">{verdict.duration:.1f}s</td><td>{_failures(verdict)}</td></tr>'
        f'<tr class="detail"><td colspan="8">{_details(verdict)}</td></tr></tbody>'
    )


def _controls(report: Report) -> str:
    return controls(len(report.wheels), report.counts())


def controls(total: int, counts: dict[str, int]) -> str:
    """The filter buttons (by status) and the search box."""
    buttons = [f'<button type="button" data-filter="all" aria-pressed="true">all '
               f"({total})</button>"]  # fmt: skip
    buttons += [
        f'<button type="button" data-filter="{status}" aria-pressed="false">'
        f"{status} ({counts[status]})</button>"
        for status in _STATUSES
    ]
    search = (
        '<input id="search" type="search" placeholder="filter by wheel name" '
        'aria-label="filter by wheel name">'
    )
    return f'<div class="controls" role="toolbar">{"".join(buttons)}{search}</div>'


def _set_section(report: Report) -> str:
    if report.set_findings is None:
        return ""
    if not report.set_findings:
        return "<h2>The folder as one environment</h2><p>No set finding.</p>"
    items = "".join(
        f'<li><span class="badge s-{"failed" if item.status == "failed" else "whitelisted"}">'
        f"{escape(item.status)}</span> <code>{escape(item.finding.kind)}</code> "
        f"{escape(item.finding.error)}</li>"
        for item in report.set_findings
    )
    return f'<h2>The folder as one environment</h2><ul class="failures">{items}</ul>'


def _extras(report: Report) -> str:
    parts = [_set_section(report)]
    if report.unused_whitelist:
        where = report.whitelist_path or "the whitelist"
        strict = " (strict whitelist: they fail the run)" if report.strict_whitelist else ""
        items = "".join(
            f"<li><code>{escape(e.wheel_key)}</code> / <code>{escape(e.module)}</code>: "
            f"{escape(repr(e.pattern))} matched no failure</li>"
            for e in report.unused_whitelist
        )
        parts.append(
            f"<h2>Stale whitelist entries in {escape(where)}{escape(strict)}</h2><ul>{items}</ul>"
        )
    if report.snippet:
        text = json.dumps(report.snippet, indent=2)
        parts.append(
            "<h2>Whitelist snippet</h2><p>To accept these failures as known, add to the "
            f"whitelist:</p><pre>{escape(text)}</pre>"
        )
    return "".join(parts)


def render_html(report: Report) -> str:
    """The whole report as one HTML document that needs nothing but a browser."""
    counts = report.counts()
    verdict = "FAILED" if report.exit_code else "OK"
    title = f"native-import-checker: {verdict} ({report.platform}, {report.variant})"
    summary = (
        f"{len(report.wheels)} wheel(s): {counts['passed']} passed, "
        f"{counts['whitelisted']} whitelisted, {counts['failed']} failed"
    )
    meta = f"{report.platform}, {report.variant}, Python {report.python} ({report.interpreter})"
    body = wheel_rows(report)
    content = (
        f'<p class="meta">{escape(meta)}<br>{escape(summary)}</p>\n'
        f"{top_section([report])}\n{_controls(report)}\n"
        f"<table><thead>{WHEEL_HEAD}</thead>{body}</table>"
        '<p id="empty" class="empty" hidden>No wheel matches the filter.</p>\n'
        f"{_extras(report)}\n"
    )
    return page(title, verdict, bool(report.exit_code), content)


WHEEL_HEAD = (
    '<tr><th>wheel</th><th>status</th><th class="num">ok</th>'
    '<th class="num">failed</th><th class="num">whitelisted</th>'
    '<th class="num">skipped</th><th class="num">time</th><th>failures</th></tr>'
)


def wheel_rows(report: Report) -> str:
    """The ``<tbody>`` of each wheel of the report (row and expandable detail), failures
    first."""
    return "".join(_wheel(w) for w in failures_first(report.wheels))


def extras(report: Report) -> str:
    """Stale whitelist entries and the snippet of the report."""
    return _extras(report)


def page(title: str, verdict: str, failed: bool, content: str) -> str:
    """The document around ``content``: CSP, style, heading and the filter script."""
    csp = (
        f"default-src 'none'; style-src {_csp_hash(_CSS)}; script-src {_csp_hash(_JS)}; "
        "base-uri 'none'; form-action 'none'"
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{escape(csp)}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>\n"
        f'<h1>native-import-checker: <span class="s-{"failed" if failed else "passed"}">'
        f"{verdict}</span></h1>"
        f"{content}"
        f"<script>{_JS}</script>\n</body></html>\n"
    )
