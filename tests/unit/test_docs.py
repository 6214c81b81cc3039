"""README and docs/ document every kind, pseudo-module and setting the code knows."""

from __future__ import annotations

from pathlib import Path

import pytest

from checker.config.settings import _SPECS
from checker.findings import KINDS, PSEUDO_MODULES, SKIP_KINDS

ROOT = Path(__file__).resolve().parents[2]
# The reference: the landing page and the pages of docs/.
README = "\n".join(
    path.read_text(encoding="utf-8")
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_failure_kind_is_in_the_kinds_table(kind: str) -> None:
    assert f"| `{kind}` |" in README


@pytest.mark.parametrize("kind", sorted(SKIP_KINDS))
def test_every_skip_reason_is_documented(kind: str) -> None:
    assert f"`{kind}`" in README


@pytest.mark.parametrize("name", sorted(PSEUDO_MODULES))
def test_every_pseudo_module_is_documented(name: str) -> None:
    if name == "fragment":  # never whitelistable: documented as no-fragment
        assert "`no-fragment`" in README
    else:
        assert f"`{name}`" in README


@pytest.mark.parametrize("variable", sorted(spec[0] for spec in _SPECS.values()))
def test_every_setting_is_in_the_settings_table(variable: str) -> None:
    assert f"| `{variable}`" in README
