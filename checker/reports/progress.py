"""Live progress on the console: one line per finished wheel, colored only on a terminal.

``[ 3/62] numpy-2.4.6-cp311-cp311-manylinux_2_17_x86_64.whl  passed  1.2s``

Color rule: the stream is a TTY, ``NO_COLOR`` is unset or empty (https://no-color.org: a
non-empty value disables color) and ``TERM`` is not ``dumb``. Otherwise plain text, which is
what CI logs and files get.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from typing import TextIO

RESET = "\x1b[0m"
COLORS: dict[str, str] = {
    "passed": "\x1b[32m",  # green
    "ok": "\x1b[32m",
    "failed": "\x1b[1;31m",  # bold red
    "whitelisted": "\x1b[33m",  # yellow
    "skipped": "\x1b[2m",  # dim
}


def color_enabled(stream: TextIO, environ: Mapping[str, str] | None = None) -> bool:
    """Color iff ``stream`` is a TTY, ``NO_COLOR`` is unset (or empty), ``TERM`` is not dumb."""
    env = os.environ if environ is None else environ
    if env.get("NO_COLOR") or env.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except (OSError, ValueError):  # closed or detached stream
        return False


def colorize(text: str, status: str, enabled: bool) -> str:
    """``text`` in the color of ``status`` when ``enabled``; unknown statuses stay plain."""
    code = COLORS.get(status)
    return f"{code}{text}{RESET}" if enabled and code else text


class Progress:
    """Prints one line per wheel as the run goes (flushed at once, so logs stream)."""

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        color: bool | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.stream = sys.stderr if stream is None else stream
        self.color = color_enabled(self.stream, environ) if color is None else color
        self.total = 0

    def _write(self, line: str) -> None:
        self.stream.write(line + "\n")
        self.stream.flush()

    def start(self, total: int) -> None:
        self.total = total
        self._write(f"checking {total} wheel{'' if total == 1 else 's'}")

    def format_line(self, index: int, total: int, wheel: str, status: str, seconds: float) -> str:
        width = len(str(total))
        counter = f"[{index:>{width}}/{total}]"
        return f"{counter} {wheel}  {colorize(status, status, self.color)}  {seconds:.1f}s"

    def wheel_done(self, index: int, total: int, wheel: str, status: str, seconds: float) -> None:
        self._write(self.format_line(index, total, wheel, status, seconds))


def set_line(folder: str, kinds: Sequence[str], seconds: float, *, reused: bool = False) -> str:
    """The live line of a set check: the folder, its findings by kind, the time it took."""
    counts: dict[str, int] = {}
    for kind in kinds:
        counts[kind] = counts.get(kind, 0) + 1
    found = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items())) or "no finding"
    note = "  (unchanged: earlier result)" if reused else ""
    return f"[set] {folder} as one environment: {found}{note}  {seconds:.1f}s"
