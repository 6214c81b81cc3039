"""The CI matrix: platforms x variants x shards, with the GitHub runner label of each platform.

``nox -s matrix -- [--shards N] [--platform KEY ...]`` prints ``{"include": [...]}`` for
``strategy.matrix`` (``fromJSON``); each entry names ``platform``, ``runner`` (a label, or a
list of labels for self-hosted runners: ``[tool.native-check.runners]``), ``variant`` (empty
without variants: the single run) and ``shard``/``shards``. A variant gets jobs on the
platforms its ``platforms = [...]`` names only. ``--aggregate`` gives one entry per platform
that has probe jobs instead, whose job judges every variant's fragments against
``whitelists/{platform}.json``.
"""

from __future__ import annotations

import argparse
import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Union

from checker.config.platforms import PLATFORM_KEYS
from checker.config.settings import read_pyproject_table
from checker.config.variants import configured_platforms
from checker.errors import InputFileError, UsageError

log = logging.getLogger(__name__)

RUNNERS: dict[str, str] = {
    "linux-x64": "ubuntu-24.04",
    "linux-aarch64": "ubuntu-24.04-arm",
    # The last Intel macOS image (until August 2027).
    "macosx-x64": "macos-15-intel",
    "macosx-aarch64": "macos-15",
    "windows-x64": "windows-2025",
}
"""GitHub-hosted runner labels per platform key, the defaults of
``[tool.native-check.runners]`` (docs/ci.md: "Runner labels")."""

RETIRED: dict[str, str] = {"macos-13": "2025-12-04", "macos-14": "2026-11-02"}
"""GitHub-hosted images GitHub retired, and when: jobs on them can no longer start."""

Runner = Union[str, list[str]]
"""One label, or the labels a self-hosted runner must all have (``runs-on`` takes both)."""


def _label(value: Any, where: str, key: str) -> Runner:
    if isinstance(value, str) and value.strip():
        return value.strip()
    if (
        isinstance(value, list)
        and value
        and all(isinstance(item, str) and item.strip() for item in value)
    ):
        return [item.strip() for item in value]
    raise InputFileError(
        f"{where}: {key} = {value!r} must be a runner label or a non-empty list of labels"
    )


def runner_labels(project_dir: Path) -> dict[str, Runner]:
    """The runner of each platform key: ``[tool.native-check.runners]`` over :data:`RUNNERS`.

    A key that is no platform key, or a value that is no label, is an InputFileError naming
    the file and the value.
    """
    where = f"{project_dir / 'pyproject.toml'} [tool.native-check.runners]"
    table = read_pyproject_table(project_dir).get("runners", {})
    if not isinstance(table, dict):
        raise InputFileError(f"{where}: must be a table of platform key = label, not {table!r}")
    unknown = [key for key in table if key not in PLATFORM_KEYS]
    if unknown:
        raise InputFileError(
            f"{where}: {', '.join(map(repr, unknown))} is not a platform key "
            f"(known: {', '.join(PLATFORM_KEYS)})"
        )
    labels: dict[str, Runner] = dict(RUNNERS)
    labels.update({key: _label(value, where, key) for key, value in table.items()})
    return labels


def github_matrix(
    variants: Mapping[str, Sequence[str]],
    platforms: Sequence[str],
    shards: int,
    *,
    aggregate: bool = False,
    runners: Mapping[str, Runner] = RUNNERS,
) -> dict[str, list[dict[str, Any]]]:
    """Every (platform, variant, shard) probe job of the variants (name -> their platforms;
    empty: the single run on every platform); ``aggregate``: one job per platform that has a
    job, its ``variants`` true when variants are configured (it judges them all)."""

    def names(platform: str) -> list[str]:
        if not variants:
            return [""]
        return [name for name, keys in variants.items() if platform in keys]

    if aggregate:
        jobs = [
            {"platform": p, "runner": runners[p], "variants": bool(variants)}
            for p in platforms
            if names(p)
        ]
        return {"include": jobs}
    include = [
        {
            "platform": platform,
            "runner": runners[platform],
            "variant": variant,
            "shard": shard,
            "shards": shards,
        }
        for platform in platforms
        for variant in names(platform)
        for shard in range(1, shards + 1)
    ]
    return {"include": include}


def main(argv: Sequence[str], project_dir: Path, environ: Mapping[str, str]) -> str:
    """The matrix JSON for ``argv`` (``--shards N``, ``--platform KEY`` repeatable)."""
    parser = argparse.ArgumentParser(prog="nox -s matrix --", add_help=False)
    parser.add_argument("--shards", type=int, default=1)
    parser.add_argument("--platform", action="append", default=[])
    parser.add_argument("--aggregate", action="store_true")
    try:
        args = parser.parse_args(list(argv))
    except SystemExit:
        raise UsageError(
            f"usage: nox -s matrix -- [--shards N] [--platform KEY] (got {argv!r})"
        ) from None
    unknown = [p for p in args.platform if p not in RUNNERS]
    if unknown or args.shards < 1:
        raise UsageError(
            f"--platform must be one of {', '.join(RUNNERS)} and --shards at least 1 "
            f"(got {unknown or args.shards!r})"
        )
    platforms = args.platform or list(RUNNERS)
    variants = configured_platforms(project_dir, environ)
    runners = runner_labels(project_dir.absolute())
    matrix = github_matrix(
        variants, platforms, args.shards, aggregate=args.aggregate, runners=runners
    )
    return json.dumps(matrix, separators=(",", ":"))
