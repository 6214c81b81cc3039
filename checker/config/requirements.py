"""Declared requirements: what users install from a variant's folder, read and validated.

A variant's ``requirements = ["pyarrow", "numpy>=2"]`` or ``requirements-file = "..."``;
for a single run ``NATIVE_CHECK_REQUIREMENTS_FILE``; and the project's own
``[tool.native-check] requirements`` (the default set ``nox -s lock`` pins), which applies to
the default packages folder only. Each line is a PEP 508 requirement (parsed by packaging);
blank lines and ``#`` comments are ignored; pip options (``-r``, ``--index-url``) are not
supported in a requirements file and are an error naming the file and the line.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement

from checker.errors import InputFileError


def parse_requirements(lines: Iterable[object], where: str) -> tuple[str, ...]:
    """The requirements of ``lines`` (strings), each checked with packaging."""
    found = []
    for number, line in enumerate(lines, 1):
        if not isinstance(line, str):
            raise InputFileError(f"{where}: requirement {line!r} must be a string")
        text = line.split(" #", 1)[0].strip() if not line.lstrip().startswith("#") else ""
        if not text:
            continue
        if text.startswith("-"):
            raise InputFileError(
                f"{where}: line {number}: {text!r}: pip options are not supported here "
                "(one requirement per line)"
            )
        try:
            Requirement(text)
        except InvalidRequirement as exc:
            raise InputFileError(f"{where}: {text!r} is not a requirement: {exc}") from None
        found.append(text)
    return tuple(found)


def read_requirements_file(path: Path) -> tuple[str, ...]:
    """The requirements of a requirements file (one per line)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputFileError(f"{path}: the requirements file does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputFileError(f"{path}: cannot read the requirements file: {exc}") from None
    return parse_requirements(text.splitlines(), str(path))
