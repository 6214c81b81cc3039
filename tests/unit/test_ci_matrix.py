"""The CI matrix (checker.config.ci_matrix) and the workflow that uses it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from checker.config.ci_matrix import RETIRED, RUNNERS, github_matrix, main
from checker.config.platforms import PLATFORM_KEYS
from checker.errors import InputFileError, UsageError, exit_code_for

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = (ROOT / ".github" / "workflows" / "check-native.yml").read_text(encoding="utf-8")
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_platform_has_a_runner_label_that_still_exists() -> None:
    assert set(RUNNERS) == set(PLATFORM_KEYS)
    assert RETIRED == {"macos-13": "2025-12-04", "macos-14": "2026-11-02"}
    for label, date in RETIRED.items():
        assert label not in RUNNERS.values()
        assert f"runs-on: {label}" not in WORKFLOW
        assert f"`{label}`" in README and date in README  # the table says what went, and when
    assert RUNNERS == {
        "linux-x64": "ubuntu-24.04", "linux-aarch64": "ubuntu-24.04-arm",
        "macosx-aarch64": "macos-15", "macosx-x64": "macos-15-intel",
        "windows-x64": "windows-2025",
    }  # fmt: skip
    for key, label in RUNNERS.items():
        assert f"| `{key}` | `{label}` |" in README


USERS = """
[tool.native-check.runners]
linux-x64 = "ubuntu-large-amd64"
linux-aarch64 = "ubuntu-large-arm64"
macosx-aarch64 = "macos-15"
macosx-x64 = "macos-15-large"
windows-x64 = "windows-latest"

[tool.native-check.variants.base]
python = "pydist/{platform}/bin/python3"

[tool.native-check.variants.atls]
python = "pydist-atls/{platform}/bin/python3"
platforms = ["linux-x64", "macosx-aarch64"]
"""


def test_configured_runners_and_variant_platforms_make_the_matrix(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(USERS, encoding="utf-8")
    jobs = json.loads(main([], tmp_path, {}))["include"]
    atls = sorted((j["platform"], j["runner"]) for j in jobs if j["variant"] == "atls")
    assert atls == [("linux-x64", "ubuntu-large-amd64"), ("macosx-aarch64", "macos-15")]
    base = {j["platform"]: j["runner"] for j in jobs if j["variant"] == "base"}
    assert base == {
        "linux-x64": "ubuntu-large-amd64", "linux-aarch64": "ubuntu-large-arm64",
        "macosx-aarch64": "macos-15", "macosx-x64": "macos-15-large",
        "windows-x64": "windows-latest",
    }  # fmt: skip
    assert len(jobs) == 7
    # Only atls: no job (probe or aggregate) on the platforms it leaves out.
    only = USERS.replace(
        '[tool.native-check.variants.base]\npython = "pydist/{platform}/bin/python3"\n', ""
    )
    assert "base" not in only
    (tmp_path / "pyproject.toml").write_text(only, encoding="utf-8")
    jobs = json.loads(main(["--shards", "2"], tmp_path, {}))["include"]
    assert [(j["platform"], j["runner"], j["shard"]) for j in jobs] == [
        ("linux-x64", "ubuntu-large-amd64", 1), ("linux-x64", "ubuntu-large-amd64", 2),
        ("macosx-aarch64", "macos-15", 1), ("macosx-aarch64", "macos-15", 2),
    ]  # fmt: skip
    aggregate = json.loads(main(["--aggregate"], tmp_path, {}))["include"]
    assert [(j["platform"], j["runner"]) for j in aggregate] == [
        ("linux-x64", "ubuntu-large-amd64"), ("macosx-aarch64", "macos-15"),
    ]  # fmt: skip


def test_a_self_hosted_runner_is_a_list_of_labels(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.native-check.runners]\nlinux-x64 = ["self-hosted", "linux", "x64"]\n',
        encoding="utf-8",
    )
    jobs = json.loads(main(["--platform", "linux-x64", "--platform", "windows-x64"], tmp_path, {}))
    runners = [j["runner"] for j in jobs["include"]]
    assert runners == [["self-hosted", "linux", "x64"], "windows-2025"]


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ('[tool.native-check.runners]\nsolaris-x64 = "x"\n', "'solaris-x64'"),
        ("[tool.native-check.runners]\nlinux-x64 = 3\n", "linux-x64 = 3"),
        ("[tool.native-check.runners]\nlinux-x64 = []\n", "linux-x64 = []"),
        ('[tool.native-check.runners]\nlinux-x64 = ["a", ""]\n', "['a', '']"),
        ('[tool.native-check.variants.v]\npython = "p"\nplatforms = ["linux"]\n', "'linux'"),
        ('[tool.native-check.variants.v]\npython = "p"\nplatforms = []\n', "platforms"),
    ],
)
def test_bad_runners_and_platforms_name_the_file_and_value(
    tmp_path: Path, body: str, named: str
) -> None:
    (tmp_path / "pyproject.toml").write_text(body, encoding="utf-8")
    with pytest.raises(InputFileError) as caught:
        main([], tmp_path, {})
    assert "pyproject.toml" in str(caught.value) and named in str(caught.value)
    assert exit_code_for(caught.value) == 2


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
    matrix = github_matrix({}, ["windows-x64"], 3)
    assert [(j["variant"], j["shard"], j["shards"]) for j in matrix["include"]] == [
        ("", 1, 3), ("", 2, 3), ("", 3, 3),
    ]  # fmt: skip
    assert github_matrix({}, ["windows-x64"], 1, aggregate=True)["include"][0]["variants"] is False


@pytest.mark.parametrize("argv", [["--platform", "solaris"], ["--shards", "0"], ["--bogus"]])
def test_bad_matrix_arguments_are_usage_errors(tmp_path: Path, argv: list[str]) -> None:
    with pytest.raises(UsageError):
        main(argv, tmp_path, {})


def test_workflow_takes_its_matrix_from_the_plan_job() -> None:
    assert "uvx nox -s matrix -- --shards" in WORKFLOW
    assert "fromJSON(needs.plan.outputs.probes)" in WORKFLOW
    assert "fromJSON(needs.plan.outputs.platforms)" in WORKFLOW
    assert '--variant "$VARIANT"' in WORKFLOW
    # The last job compares every platform's report (the same set on every platform).
    assert "pattern: native-check-report-*" in WORKFLOW
    assert "uvx nox -s across -- reports/" in WORKFLOW
