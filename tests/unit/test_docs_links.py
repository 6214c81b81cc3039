"""The README and docs/ link to files and headings that exist; the README stays short."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
MAX_README_WORDS = 1500

_FENCE = re.compile(r"^\s*(```|~~~)")
_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_CODE_SPAN = re.compile(r"`+[^`]*`+")
_LINK = re.compile(r"\[[^\]]*\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)")
_EXTERNAL = ("http://", "https://", "mailto:")


def _pages() -> list[Path]:
    return [README, *sorted((ROOT / "docs").rglob("*.md"))]


def _prose_lines(text: str) -> list[tuple[int, str]]:
    """The lines outside fenced code blocks, with their 1-based line numbers."""
    lines: list[tuple[int, str]] = []
    fence: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        match = _FENCE.match(line)
        if match:
            if fence is None:
                fence = match.group(1)
            elif match.group(1) == fence:
                fence = None
            continue
        if fence is None:
            lines.append((number, line))
    return lines


def github_slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lowercase, punctuation removed, spaces to '-'."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link in a heading: its text
    text = text.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    anchors: set[str] = set()
    seen: dict[str, int] = {}
    for _, line in _prose_lines(page.read_text(encoding="utf-8")):
        match = _HEADING.match(line)
        if not match:
            continue
        slug = github_slug(match.group(2))
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        anchors.add(slug if count == 0 else f"{slug}-{count}")
    return anchors


def _links(page: Path) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for number, line in _prose_lines(page.read_text(encoding="utf-8")):
        # Code spans may hold bracket syntax that is no link; a link's text may be a code span.
        prose = _CODE_SPAN.sub("code", line)
        found.extend((number, match.group(1)) for match in _LINK.finditer(prose))
    return found


def _broken(page: Path, target: str) -> str | None:
    """Why a link target does not resolve, or None when it does."""
    path_part, _, anchor = target.partition("#")
    resolved = (page.parent / unquote(path_part)).resolve() if path_part else page
    if not resolved.exists():
        return "no such file"
    if not anchor:
        return None
    if resolved.suffix.lower() != ".md":
        return "an anchor into a file that is not Markdown"
    if anchor not in _anchors(resolved):
        return f"no heading with the slug {anchor!r}"
    return None


def test_github_slug() -> None:
    assert github_slug("Worked example: the original tool's layout") == (
        "worked-example-the-original-tools-layout"
    )
    assert github_slug("report.json") == "reportjson"
    assert github_slug("The folder as one environment: the set check") == (
        "the-folder-as-one-environment-the-set-check"
    )


def test_every_docs_page_is_found() -> None:
    pages = _pages()
    assert README in pages
    assert ROOT / "docs" / "README.md" in pages


def test_every_relative_link_resolves() -> None:
    broken: list[str] = []
    for page in _pages():
        for number, target in _links(page):
            if not target or target.startswith(_EXTERNAL):
                continue
            reason = _broken(page, target)
            if reason is not None:
                where = page.relative_to(ROOT).as_posix()
                broken.append(f"{where}:{number}: ({target}): {reason}")
    assert broken == []


def test_readme_is_a_short_landing_page() -> None:
    words = len(README.read_text(encoding="utf-8").split())
    assert words < MAX_README_WORDS, f"README.md has {words} words"
