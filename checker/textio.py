"""Text that crosses a process boundary, decoded and encoded in one place.

- The console: a CI runner's pipe may be cp1252 (Windows) or ASCII; printing an import error
  or uv's output with a character outside it must never raise (bpo-30410). Our own streams
  replace what they cannot encode.
- Our files are written as UTF-8 (checker.atomic), whatever the locale.
- uv writes UTF-8 on every platform.
- A child Python writes its stderr in its locale encoding: on Windows the ANSI code page when
  stderr is a file or pipe, elsewhere the locale's (UTF-8 after PEP 538/540 coercion).
"""

from __future__ import annotations

import locale
import sys
from typing import TextIO

UV_ENCODING = "utf-8"


def console_safe(*streams: TextIO) -> None:
    """Make ``streams`` (default: stdout and stderr) replace what they cannot encode."""
    for stream in streams or (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is None or getattr(stream, "errors", "") in ("replace", "backslashreplace"):
            continue
        try:
            reconfigure(errors="replace")
        except (ValueError, OSError):  # a stream that cannot change any more
            continue


def child_stderr_encoding(platform: str = sys.platform) -> str:
    """The encoding a child Python on this machine writes its redirected stderr in."""
    if platform == "win32":
        getencoding = getattr(locale, "getencoding", None)  # 3.11+: the ANSI code page
        return str(getencoding() if getencoding else locale.getpreferredencoding(False))
    return "utf-8"
