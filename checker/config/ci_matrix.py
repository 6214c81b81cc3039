"""The CI matrix: platforms x variants x shards, with the GitHub runner label of each platform.

``nox -s matrix -- [--shards N] [--platform KEY ...]`` prints ``{"include": [...]}`` for
``strategy.matrix`` (``fromJSON``); each entry names ``platform``, ``runner``, ``variant``
(empty without variants: the single run) and ``shard``/``shards``. ``--aggregate`` gives one
entry per platform instead, whose job judges every variant's fragments against
``whitelists/{platform}.json``.
"""

from __future__ import annotations

import argparse
import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from checker.config.variants import configured_names
from checker.errors import UsageError

log = logging.getLogger(__name__)

RUNNERS: dict[str, str] = {
    "linux-x64": "ubuntu-24.04",
    "linux-aarch64": "ubuntu-24.04-arm",
    # The last Intel macOS image (macos-13 was retired on 2025-12-04).
    "macosx-x64": "macos-15-intel",
    "macosx-aarch64": "macos-14",
    "windows-x64": "windows-2022",
}
"""GitHub-hosted runner labels per platform key (README: "Runner labels")."""


def github_matrix(
    variants: Sequence[str], platforms: Sequence[str], shards: int, *, aggregate: bool = False
) -> dict[str, list[dict[str, Any]]]:
    """Every (platform, variant, shard) probe job; ``aggregate``: one job per platform, its
    ``variants`` true when variants are configured (it judges them all)."""
    if aggregate:
        jobs = [
            {"platform": p, "runner": RUNNERS[p], "variants": bool(variants)} for p in platforms
        ]
        return {"include": jobs}
    include = [
        {
            "platform": platform,
            "runner": RUNNERS[platform],
            "variant": variant,
            "shard": shard,
            "shards": shards,
        }
        for platform in platforms
        for variant in (variants or [""])
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
    names = configured_names(project_dir, environ)
    matrix = github_matrix(names, platforms, args.shards, aggregate=args.aggregate)
    return json.dumps(matrix, separators=(",", ":"))
