"""Declared requirements resolved offline from the folder, for the target.

Users install a variant's requirements with ``pip --no-index --find-links <its folder>``: a
requirement the folder cannot satisfy (a project it lacks, a version it does not have, a
dependency missing for this platform) is an ``unsatisfiable-requirement`` set finding naming
the requirement and uv's reason. uv resolves them (``uv pip compile --offline --no-index
--find-links``) for the target: the target interpreter itself when the run's platform is
this machine's, else the target's Python version and platform (``nox -s audit`` with
``NATIVE_CHECK_PLATFORM``). When the requirements fail together, each is resolved alone to
name every one that fails; requirements that only conflict together make one finding.

Which requirements (checker.config.requirements): a variant's own ``requirements`` and
``requirements-file``; for a single run ``NATIVE_CHECK_REQUIREMENTS_FILE``, and the project's
``[tool.native-check] requirements`` for the default packages folder only (as packages.lock:
a folder given with ``NATIVE_CHECK_PACKAGES`` is never judged against it).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from checker.config.context import RunContext
from checker.config.platforms import UV_PLATFORMS, platform_key
from checker.config.requirements import parse_requirements, read_requirements_file
from checker.findings import SetFinding
from checker.probe.install import find_uv, run_uv

log = logging.getLogger(__name__)

KIND = "unsatisfiable-requirement"
_BOX = "\u00d7\u2570\u2500\u25b6\u2502\u251c "  # the drawing of uv's error tree


@dataclass(frozen=True)
class Declared:
    requirements: tuple[str, ...]
    sources: tuple[str, ...]  # where they are declared, for messages


def declared_requirements(ctx: RunContext) -> Declared:
    """The requirements the context's folder must satisfy (empty: none declared)."""
    settings = ctx.settings
    found: list[str] = list(settings.declared)
    sources = [f"{settings.declared_source} requirements"] if settings.declared else []
    if settings.requirements_file is not None:
        found += read_requirements_file(settings.requirements_file)
        sources.append(str(settings.requirements_file))
    # The project's own ./packages only: not a folder beside the interpreter (the users'
    # pydist layout, checker.config.paths), not NATIVE_CHECK_PACKAGES, not a variant's.
    own_folder = settings.packages is None and ctx.packages == settings.project_dir / "packages"
    if own_folder and not ctx.scope and settings.requirements:
        where = f"{settings.project_dir / 'pyproject.toml'} [tool.native-check] requirements"
        found += parse_requirements(settings.requirements, where)
        sources.append(where)
    return Declared(tuple(dict.fromkeys(found)), tuple(sources))


def uv_reason(output: str) -> str:
    """uv's message in one line, without its preamble ("Using CPython 3.12.1 interpreter
    at: ...", "Resolved ..."), its ``error:`` / ``cause:`` labels and the drawing characters
    of its error tree."""
    lines = []
    for line in output.splitlines():
        text = line.strip().lstrip(_BOX).strip()
        if not text or text.startswith(("Using CPython", "Using Python", "Resolved ")):
            continue
        for label in ("error:", "cause:", "Caused by:"):
            text = text[len(label) :].strip() if text.startswith(label) else text
        lines.append(text.rstrip(":"))
    return ": ".join(lines)


def _target(ctx: RunContext) -> list[str]:
    here = platform_key(ctx.info.sys_platform, ctx.info.machine)
    if ctx.platform == here or ctx.platform not in UV_PLATFORMS:
        return ["--python", str(ctx.interpreter)]
    minor = ".".join(ctx.info.version.split(".")[:2])
    return ["--python-version", minor, "--python-platform", UV_PLATFORMS[ctx.platform]]


def _resolve(ctx: RunContext, requirements: Sequence[str]) -> str | None:
    """None when uv resolves ``requirements`` from the folder, else uv's reason."""
    command = [
        find_uv(), "pip", "compile", "--no-config", "--no-python-downloads", "--offline",
        "--no-index", "--find-links", str(ctx.packages), "--only-binary", ":all:", "--quiet",
        "--no-header", "--no-annotate", *_target(ctx), "-",
    ]  # fmt: skip
    proc = run_uv(command, stdin="\n".join(requirements) + "\n")
    if proc.returncode == 0:
        return None
    return uv_reason(proc.stderr + proc.stdout) or f"uv exit status {proc.returncode}"


def unsatisfiable_requirements(ctx: RunContext) -> list[SetFinding]:
    """An ``unsatisfiable-requirement`` finding per declared requirement the folder cannot
    satisfy for the target (one for those that only conflict together)."""
    declared = declared_requirements(ctx)
    if not declared.requirements:
        return []
    reason = _resolve(ctx, declared.requirements)
    if reason is None:
        return []
    where = " and ".join(declared.sources)
    alone: list[tuple[str, str | None]]
    if len(declared.requirements) == 1:
        alone = [(declared.requirements[0], reason)]
    else:
        alone = [(r, _resolve(ctx, [r])) for r in declared.requirements]
    failing = [(r, why) for r, why in alone if why is not None]
    if not failing:
        listed = ", ".join(declared.requirements)
        error = f"the declared requirements ({where}) conflict together: {listed}: {reason}"
        return [SetFinding(KIND, (), error)]
    return [
        SetFinding(
            KIND,
            (),
            f"declared requirement {r!r} ({where}) is not satisfiable from the folder: {why}",
        )
        for r, why in failing
    ]
