"""One exception hierarchy; each class maps to a process exit code in one place.

Findings about wheels are *data* (they end up in fragments and the report); these
exceptions are for problems that stop a run: bad settings, unreadable input files,
a missing interpreter.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2


class CheckerError(Exception):
    """Base class: a run cannot go on. The message names the file/value and the problem."""

    exit_code = EXIT_USAGE


class UsageError(CheckerError):
    """Bad command-line arguments or settings."""


class SetupError(CheckerError):
    """The environment is not usable: no packages folder, no interpreter, no uv."""


class InputFileError(CheckerError):
    """A file the user gave us (whitelist, lock, pyproject) cannot be read or is malformed."""


def exit_code_for(error: BaseException) -> int:
    """The exit code for an exception that stopped a run."""
    if isinstance(error, CheckerError):
        return error.exit_code
    return EXIT_USAGE
