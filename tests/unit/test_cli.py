"""The thin CLI: static audit of a folder, exit codes, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from checker.cli import main
from tests.support.wheelbuild import make_wheel


def test_audit_of_a_clean_folder_exits_0(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NATIVE_CHECK_REPORT_DIR", str(tmp_path / "report"))
    folder = tmp_path / "wheels"
    make_wheel(folder, "nicpure", "1.0", {"nicpure/__init__.py": ""})
    assert main(["audit", str(folder)]) == 0
    assert "passed 1" in capsys.readouterr().out
    report = json.loads((tmp_path / "report" / "report.json").read_text())
    assert [w["status"] for w in report["wheels"]] == ["passed"]


def test_audit_of_a_tampered_wheel_exits_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NATIVE_CHECK_REPORT_DIR", str(tmp_path / "report"))
    folder = tmp_path / "wheels"
    record = {"nicbad/__init__.py": "sha256=AAAA,1"}
    make_wheel(folder, "nicbad", "1.0", {"nicbad/__init__.py": ""}, record_overrides=record)
    assert main(["audit", str(folder)]) == 1
    assert "RECORD" in capsys.readouterr().out


def test_missing_folder_is_a_usage_error_without_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["audit", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err
    assert "nowhere" in err and "does not exist" in err and "Traceback" not in err
