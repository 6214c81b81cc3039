"""The CI matrix (checker.config.ci_matrix) and the workflow that uses it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from checker.config.ci_matrix import RUNNERS, github_matrix, main
from checker.config.platforms import PLATFORM_KEYS
from checker.errors import UsageError

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = (ROOT / ".github" / "workflows" / "check-native.yml").read_text(encoding="utf-8")
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_platform_has_a_runner_label_that_still_exists() -> None:
    assert set(RUNNERS) == set(PLATFORM_KEYS)
    assert RUNNERS["macosx-x64"] == "macos-15-intel"  # macos-13 was retired on 2025-12-04
    assert "macos-13" not in WORKFLOW and "macos-13" not in RUNNERS.values()
    for key, label in RUNNERS.items():
        assert f"| `{key}` | `{label}` |" in README


def test_matrix_is_platforms_x_variants_x_shards(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.native-check.variants.a]\npython = "x"\n[tool.native-check.variants.b]\n'
        'python = "y"\n',
        encoding="utf-8",
    )
    # Interpreters of other platforms need not exist where the matrix is planned.
    probes = json.loads(main(["--shards", "2", "--platform", "linux-x64"], tmp_path, {}))
    jobs = [(j["variant"], j["shard"], j["runner"]) for j in probes["include"]]
    assert jobs == [
        ("a", 1, "ubuntu-24.04"), ("a", 2, "ubuntu-24.04"),
        ("b", 1, "ubuntu-24.04"), ("b", 2, "ubuntu-24.04"),
    ]  # fmt: skip
    aggregate = json.loads(main(["--aggregate"], tmp_path, {}))["include"]
    assert [j["platform"] for j in aggregate] == list(RUNNERS)
    assert all(j["variants"] is True for j in aggregate)


def test_without_variants_the_matrix_is_the_single_runs_shards() -> None:
    matrix = github_matrix([], ["windows-x64"], 3)
    assert [(j["variant"], j["shard"], j["shards"]) for j in matrix["include"]] == [
        ("", 1, 3), ("", 2, 3), ("", 3, 3),
    ]  # fmt: skip
    assert github_matrix([], ["windows-x64"], 1, aggregate=True)["include"][0]["variants"] is False


@pytest.mark.parametrize("argv", [["--platform", "solaris"], ["--shards", "0"], ["--bogus"]])
def test_bad_matrix_arguments_are_usage_errors(tmp_path: Path, argv: list[str]) -> None:
    with pytest.raises(UsageError):
        main(argv, tmp_path, {})


def test_workflow_takes_its_matrix_from_the_plan_job() -> None:
    assert "uvx nox -s matrix -- --shards" in WORKFLOW
    assert "fromJSON(needs.plan.outputs.probes)" in WORKFLOW
    assert "fromJSON(needs.plan.outputs.platforms)" in WORKFLOW
    assert '--variant "$VARIANT"' in WORKFLOW
