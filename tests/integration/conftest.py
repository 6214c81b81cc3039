"""Fixtures of the probe-corpus tests: the corpus wheels (built once) and a real pipeline."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pytest

from checker.config.context import RunContext, make_context
from checker.config.settings import load_settings
from checker.probe.job import check_wheel
from checker.wheel.discover import discover
from checker.wheel.fragment import Fragment
from tests.support.corpus import build_corpus
from tests.support.wheelbuild import python_build


@dataclass(frozen=True)
class Corpus:
    packages: Path
    wheels: dict[str, Path]


def build_context(
    tmp: Path,
    packages: Path,
    environ: Mapping[str, str] | None = None,
    interpreter: str | None = None,
) -> RunContext:
    """A RunContext whose reports and venvs live under ``tmp`` (never the project folder)."""
    tmp.mkdir(parents=True, exist_ok=True)
    settings = load_settings(
        tmp,
        {
            "NATIVE_CHECK_PACKAGES": str(packages),
            "NATIVE_CHECK_REPORT_DIR": str(tmp / "report"),
            "NATIVE_CHECK_WORK_DIR": str(tmp / "work"),
            **(environ or {}),
        },
    )
    return make_context(settings, interpreter or sys.executable, "test-run")


def check_in_folder(ctx: RunContext, wheel: Path) -> Fragment:
    """Run the real per-wheel pipeline on ``wheel`` of the context's packages folder."""
    refs = discover(ctx.packages)
    (ref,) = [r for r in refs if r.path == wheel]
    return check_wheel(ctx, ref, refs)


class CheckCorpus(Protocol):
    def __call__(self, name: str, environ: Mapping[str, str] | None = None) -> Fragment: ...


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    root = tmp_path_factory.mktemp("corpus")
    packages = root / "packages"
    wheels = build_corpus(packages, python_build(Path(sys.executable)), root / "build")
    return Corpus(packages, wheels)


@pytest.fixture(scope="session")
def check_corpus(corpus: Corpus, tmp_path_factory: pytest.TempPathFactory) -> CheckCorpus:
    """Check a corpus wheel (by short name) with extra settings; each result is computed once."""
    cache: dict[tuple[str, tuple[tuple[str, str], ...]], Fragment] = {}

    def check(name: str, environ: Mapping[str, str] | None = None) -> Fragment:
        key = (name, tuple(sorted((environ or {}).items())))
        if key not in cache:
            ctx = build_context(tmp_path_factory.mktemp(name), corpus.packages, environ)
            cache[key] = check_in_folder(ctx, corpus.wheels[name])
        return cache[key]

    return check
