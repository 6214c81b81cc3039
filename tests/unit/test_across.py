"""The same set on every platform (checker.verdict.across): gaps, skews, declarations."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from checker.config.declared import declared_platform_specific, parse_platform_specific
from checker.errors import InputFileError, exit_code_for
from checker.reports.across import render_across
from checker.reports.json_report import report_to_json
from checker.verdict.across import compare_sets, read_sets
from checker.wheel.fragment import write_fragment
from tests.support.reports import fragment, report_of


def _report(folder: Path, platform: str, wheels: list[str]) -> Path:
    """A report.json of ``platform`` holding ``wheels`` (as check_native writes it)."""
    data = report_to_json(replace(report_of([fragment(w) for w in wheels]), platform=platform))
    folder.mkdir(parents=True)
    (folder / "report.json").write_text(json.dumps(data), encoding="utf-8")
    return folder / "report.json"


LINUX = ["numpy-2.1.0-cp311-cp311-any.whl", "pyarrow-17.0.0-cp311-cp311-any.whl"]
MAC = ["numpy-2.1.0-cp311-cp311-any.whl"]


def test_a_project_on_one_platform_only_is_a_gap_unless_declared(tmp_path: Path) -> None:
    _report(tmp_path / "linux", "linux-x64", LINUX)
    _report(tmp_path / "mac", "macosx-aarch64", MAC)
    sets = read_sets([tmp_path])  # folders below, as downloaded artifacts are
    report = compare_sets(sets, {}, {})
    (gap,) = report.findings
    assert (gap.kind, gap.project, gap.variant) == ("platform-gap", "pyarrow", "python-3.11.7")
    assert "on linux-x64, not on macosx-aarch64" in gap.error
    assert report.exit_code == 1
    assert "[platform-gap] pyarrow" in render_across(report)
    declared = compare_sets(sets, {}, {"pyarrow": ("linux-x64",)})
    assert declared.findings == [] and declared.exit_code == 0
    assert declared.variants[0].declared == ("pyarrow",)
    # Declared for another platform than the one it is on: still a gap, saying so.
    wrong = compare_sets(sets, {}, {"pyarrow": ("macosx-aarch64",)})
    assert "declared platform-specific to macosx-aarch64" in wrong.findings[0].error
    # A configured variant's own declaration applies to that variant only.
    other = compare_sets(sets, {"rapids": {"pyarrow": ("linux-x64",)}}, {})
    assert other.exit_code == 1


def test_versions_that_differ_are_a_warning_failing_only_in_strict_mode(tmp_path: Path) -> None:
    _report(tmp_path / "a", "linux-x64", ["numpy-2.1.0-cp311-cp311-any.whl"])
    _report(tmp_path / "b", "windows-x64", ["numpy-2.0-cp311-cp311-any.whl"])
    _report(tmp_path / "c", "linux-aarch64", ["numpy-2.1-cp311-cp311-any.whl"])  # = 2.1.0
    sets = read_sets([tmp_path / "a" / "report.json", tmp_path / "b", tmp_path / "c"])
    report = compare_sets(sets, {}, {})
    (skew,) = report.findings
    assert skew.kind == "version-skew" and skew.severity == "warning"
    assert skew.versions == {
        "linux-aarch64": ("2.1",),
        "linux-x64": ("2.1",),
        "windows-x64": ("2",),
    }
    assert report.exit_code == 0
    assert compare_sets(sets, {}, {}, strict=True).exit_code == 1


def test_fragment_folders_are_read_per_variant_and_platform(tmp_path: Path) -> None:
    for platform, wheels in (("linux-x64", LINUX), ("macosx-aarch64", MAC)):
        for wheel in wheels:
            write_fragment(tmp_path / platform, replace(fragment(wheel), platform=platform))
    (tmp_path / "linux-x64" / "_set.json").write_text("{}")  # the set check's: not a wheel
    report = compare_sets(read_sets([tmp_path / "linux-x64", tmp_path / "macosx-aarch64"]), {}, {})
    assert [f.project for f in report.findings] == ["pyarrow"]
    assert report.to_json()["variants"][0]["platforms"] == ["linux-x64", "macosx-aarch64"]


@pytest.mark.parametrize("content", [None, "not json", "[]", '{"wheels": []}'])
def test_bad_inputs_name_the_path(tmp_path: Path, content: str | None) -> None:
    path = tmp_path / "report.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(InputFileError) as caught:
        read_sets([path])
    assert str(path) in str(caught.value)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputFileError, match=r"no report\.json and no fragments"):
        read_sets([empty])


def test_platform_specific_declarations_are_validated(tmp_path: Path) -> None:
    assert parse_platform_specific({"CuDF_cu12": ["linux-x64"]}, "w") == {
        "cudf-cu12": ("linux-x64",)
    }
    for bad, named in (
        ({"cudf": ["linux"]}, "'linux'"),
        ({"cudf": []}, "cudf = []"),
        ({"-x-": ["linux-x64"]}, "'-x-'"),
        (["cudf"], "['cudf']"),
    ):
        with pytest.raises(InputFileError) as caught:
            parse_platform_specific(bad, "pyproject.toml [x]")
        assert "pyproject.toml [x]" in str(caught.value) and named in str(caught.value)
        assert exit_code_for(caught.value) == 2
    (tmp_path / "pyproject.toml").write_text(
        '[tool.native-check]\nplatform-specific = { "cudf-cu12" = ["linux-x64"] }\n'
        '[tool.native-check.variants.atls]\npython = "p"\n'
        'platform-specific = { pyarrow = ["linux-x64", "macosx-aarch64"] }\n',
        encoding="utf-8",
    )
    common, own = declared_platform_specific(tmp_path, {})
    assert common == {"cudf-cu12": ("linux-x64",)}
    assert own == {
        "atls": {"cudf-cu12": ("linux-x64",), "pyarrow": ("linux-x64", "macosx-aarch64")}
    }
