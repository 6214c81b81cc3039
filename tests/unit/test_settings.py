"""Tests for checker.config.settings: environment over pyproject over defaults, and bad values."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from checker.config.selection import parse_posargs
from checker.config.settings import DEFAULT_REPORT_DIR, DEFAULT_WORK_DIR, load_settings
from checker.cpus import usable_cpus
from checker.errors import InputFileError, UsageError


def _pyproject(folder: Path, table: str) -> Path:
    path = folder / "pyproject.toml"
    path.write_text(f'[project]\nname = "x"\n\n[tool.native-check]\n{table}\n', encoding="utf-8")
    return path


def test_defaults_without_pyproject(tmp_path: Path) -> None:
    settings = load_settings(tmp_path, {})
    assert settings.project_dir == tmp_path
    assert settings.packages is None
    assert settings.whitelist is None
    assert settings.variant is None
    assert settings.report_dir == tmp_path / DEFAULT_REPORT_DIR
    assert settings.work_dir == tmp_path / DEFAULT_WORK_DIR
    assert settings.import_timeout > 0
    assert settings.isolate == "wheel"
    assert settings.strict_whitelist is False
    assert settings.skip_modules == ()
    assert settings.keep_env == ()


def test_pyproject_overrides_defaults(tmp_path: Path) -> None:
    _pyproject(
        tmp_path,
        'packages = "wheels"\nimport-timeout = 7\nisolate = "module"\n'
        'strict-whitelist = true\nskip-modules = ["a.*", "b"]\nvariant = "custom"\n',
    )
    settings = load_settings(tmp_path, {})
    assert settings.packages == tmp_path / "wheels"
    assert settings.import_timeout == 7.0
    assert settings.isolate == "module"
    assert settings.strict_whitelist is True
    assert settings.skip_modules == ("a.*", "b")
    assert settings.variant == "custom"


def test_environment_overrides_pyproject(tmp_path: Path) -> None:
    _pyproject(tmp_path, 'packages = "wheels"\nimport-timeout = 7\nisolate = "module"\n')
    environ = {
        "NATIVE_CHECK_PACKAGES": "other",
        "NATIVE_CHECK_IMPORT_TIMEOUT": "2.5",
        "NATIVE_CHECK_ISOLATE": "WHEEL",
        "NATIVE_CHECK_STRICT_WHITELIST": "yes",
        "NATIVE_CHECK_SKIP_MODULES": " x.y , z ,, ",
        "NATIVE_CHECK_KEEP_ENV": "LD_LIBRARY_PATH,PATH",
    }
    settings = load_settings(tmp_path, environ)
    assert settings.packages == tmp_path / "other"
    assert settings.import_timeout == 2.5
    assert settings.isolate == "wheel"
    assert settings.strict_whitelist is True
    assert settings.skip_modules == ("x.y", "z")
    assert settings.keep_env == ("LD_LIBRARY_PATH", "PATH")


def test_empty_environment_value_falls_back(tmp_path: Path) -> None:
    _pyproject(tmp_path, "import-timeout = 9")
    settings = load_settings(tmp_path, {"NATIVE_CHECK_IMPORT_TIMEOUT": ""})
    assert settings.import_timeout == 9.0


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("NATIVE_CHECK_IMPORT_TIMEOUT", "abc"),
        ("NATIVE_CHECK_IMPORT_TIMEOUT", "-1"),
        ("NATIVE_CHECK_IMPORT_TIMEOUT", "0"),
        ("NATIVE_CHECK_IMPORT_TIMEOUT", "nan"),
        ("NATIVE_CHECK_ISOLATE", "x"),
        ("NATIVE_CHECK_STRICT_WHITELIST", "maybe"),
        ("NATIVE_CHECK_JOBS", "0"),
        ("NATIVE_CHECK_JOBS", "two"),
        ("NATIVE_CHECK_JOBS", "1.5"),
    ],
)
def test_bad_environment_value_is_usage_error(tmp_path: Path, variable: str, value: str) -> None:
    with pytest.raises(UsageError) as info:
        load_settings(tmp_path, {variable: value})
    message = str(info.value)
    assert variable in message
    assert repr(value) in message


def test_bad_pyproject_value_is_usage_error(tmp_path: Path) -> None:
    _pyproject(tmp_path, 'import-timeout = "soon"')
    with pytest.raises(UsageError) as info:
        load_settings(tmp_path, {})
    assert "import-timeout" in str(info.value)
    assert "'soon'" in str(info.value)


def test_pyproject_wrong_type_for_list(tmp_path: Path) -> None:
    _pyproject(tmp_path, "skip-modules = [1, 2]")
    with pytest.raises(UsageError, match="skip-modules"):
        load_settings(tmp_path, {})


def test_unknown_pyproject_key_is_input_file_error(tmp_path: Path) -> None:
    path = _pyproject(tmp_path, 'packages = "p"\nimport_timeout = 3')
    with pytest.raises(InputFileError) as info:
        load_settings(tmp_path, {})
    assert str(path) in str(info.value)
    assert "import_timeout" in str(info.value)


def test_malformed_toml_is_input_file_error(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text("[tool.native-check\npackages = ", encoding="utf-8")
    with pytest.raises(InputFileError) as info:
        load_settings(tmp_path, {})
    assert str(path) in str(info.value)


def test_table_that_is_not_a_table(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text('[tool]\nnative-check = "yes"\n', encoding="utf-8")
    with pytest.raises(InputFileError) as info:
        load_settings(tmp_path, {})
    assert str(path) in str(info.value)


def test_relative_paths_resolve_against_project_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    _pyproject(project, 'whitelist = "lists/w.json"\nreport-dir = "out"')
    absolute = tmp_path / "abs-packages"
    settings = load_settings(
        project, {"NATIVE_CHECK_PACKAGES": str(absolute), "NATIVE_CHECK_WORK_DIR": "w"}
    )
    assert settings.whitelist == project / "lists" / "w.json"
    assert settings.report_dir == project / "out"
    assert settings.work_dir == project / "w"
    assert settings.packages == absolute
    for path in (settings.whitelist, settings.report_dir, settings.work_dir, settings.packages):
        assert path is not None
        assert path.is_absolute()


def test_relative_project_dir_becomes_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "proj").mkdir()
    monkeypatch.chdir(tmp_path)
    settings = load_settings(Path("proj"), {"NATIVE_CHECK_PACKAGES": "pk"})
    assert settings.project_dir == tmp_path / "proj"
    assert settings.packages == tmp_path / "proj" / "pk"


def test_jobs_from_environment_pyproject_and_auto(tmp_path: Path) -> None:
    assert load_settings(tmp_path, {}).jobs == usable_cpus()  # auto by default
    _pyproject(tmp_path, "jobs = 3")
    assert load_settings(tmp_path, {}).jobs == 3
    assert load_settings(tmp_path, {"NATIVE_CHECK_JOBS": "2"}).jobs == 2
    auto = load_settings(tmp_path, {"NATIVE_CHECK_JOBS": "auto"}).jobs
    assert auto == usable_cpus() >= 1


def test_jobs_and_shard_after_the_double_dash() -> None:
    selection = parse_posargs(["numpy", "--jobs", "4", "--shard=2/3", "scipy-*"], None)
    assert selection.patterns == ("numpy", "scipy-*")
    assert selection.jobs == 4
    assert selection.shard is not None and (selection.shard.index, selection.shard.count) == (2, 3)
    assert parse_posargs(["-j", "2"], None).jobs == 2
    assert parse_posargs(["--jobs=auto"], None).jobs == usable_cpus()
    assert parse_posargs(["numpy"], None).jobs is None  # the setting decides


@pytest.mark.parametrize(
    ("posargs", "message"),
    [(["--jobs"], "--jobs needs a value"), (["-j", "0"], "'0'"), (["--jobs=x"], "'x'")],
)
def test_bad_jobs_after_the_double_dash(posargs: list[str], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_posargs(posargs, None)


def test_system_libraries_from_the_environment_per_platform_key(tmp_path: Path) -> None:
    env = {"NATIVE_CHECK_SYSTEM_LIBRARIES": "libtbb.so.*, linux-x64:libfoo.so.1"}
    settings = load_settings(tmp_path, env)
    assert settings.accepted_libraries("linux-x64") == ("libtbb.so.*", "libfoo.so.1")
    assert settings.accepted_libraries("linux-aarch64") == ("libtbb.so.*",)


def test_system_libraries_as_a_pyproject_table(tmp_path: Path) -> None:
    _pyproject(
        tmp_path,
        '[tool.native-check.system-libraries]\n"linux-x64" = ["libtbb.so.12"]\n'
        '"*" = ["libOpenCL.so.1"]\n',
    )
    settings = load_settings(tmp_path, {})
    assert settings.accepted_libraries("linux-x64") == ("libOpenCL.so.1", "libtbb.so.12")
    assert settings.accepted_libraries("windows-x64") == ("libOpenCL.so.1",)


@pytest.mark.parametrize("value", [":libfoo.so", "linux-x64:", "linux-x64: "])
def test_system_libraries_entry_without_key_or_glob_is_usage_error(
    tmp_path: Path, value: str
) -> None:
    with pytest.raises(UsageError, match="NATIVE_CHECK_SYSTEM_LIBRARIES"):
        load_settings(tmp_path, {"NATIVE_CHECK_SYSTEM_LIBRARIES": value})


def test_run_env_is_read_and_expanded_and_the_sandbox_wins(tmp_path: Path) -> None:
    from checker.config.environment import SANDBOX_OWNED
    from checker.probe.runner import Sandbox

    (tmp_path / "pyproject.toml").write_text(
        '[tool.native-check]\nenv = { NEEDED = "x-${WHO}", MPLBACKEND = "svg" }\n',
        encoding="utf-8",
    )
    settings = load_settings(tmp_path, {"WHO": "me"})
    assert settings.env == (("NEEDED", "x-me"), ("MPLBACKEND", "svg"))
    sandbox = Sandbox(tmp_path / "sandbox")
    env = sandbox.environment((), (*settings.env, ("TMPDIR", "/elsewhere")))
    assert env["NEEDED"] == "x-me" and env["MPLBACKEND"] == "svg"
    assert env["TMPDIR"] == str(sandbox.tmp)
    # Every variable the sandbox sets is one a configuration may not set.
    passed = {"PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "MPLBACKEND"}
    assert set(sandbox.environment()) - passed == SANDBOX_OWNED


def test_uv_reason_drops_the_preamble_and_labels() -> None:
    from checker.setcheck.requirements import uv_reason

    output = (
        "Using CPython 3.12.1 interpreter at: /opt/python/bin/python3\n"
        "error: No solution found when resolving dependencies:\n"
        "  \u2570\u2500\u25b6 Because pyarrow was not found in the provided package locations "
        "and you require pyarrow, we can conclude that your requirements are unsatisfiable.\n"
    )
    assert uv_reason(output) == (
        "No solution found when resolving dependencies: Because pyarrow was not found in the "
        "provided package locations and you require pyarrow, we can conclude that your "
        "requirements are unsatisfiable."
    )


@pytest.mark.parametrize(
    ("lines", "named"),
    [
        (["numpy", "-r other.txt"], "'-r other.txt'"),
        (["numpy>=>2"], "'numpy>=>2'"),
        ([3], "3"),
    ],
)
def test_bad_requirements_name_where_and_what(lines: list[object], named: str) -> None:
    from checker.config.requirements import parse_requirements

    assert parse_requirements(["# c", "", "numpy>=2  # pinned"], "f") == ("numpy>=2",)
    with pytest.raises(InputFileError) as caught:
        parse_requirements(lines, "reqs.txt")
    assert "reqs.txt" in str(caught.value) and named in str(caught.value)


def test_the_projects_requirements_judge_the_default_folder_only(tmp_path: Path) -> None:
    from dataclasses import replace

    from checker.config.context import RunContext
    from checker.config.interpreter import InterpreterInfo
    from checker.setcheck.requirements import declared_requirements

    (tmp_path / "pyproject.toml").write_text(
        '[tool.native-check]\nrequirements = ["numpy", "cffi"]\n', encoding="utf-8"
    )
    (tmp_path / "more.txt").write_text("pyarrow\n", encoding="utf-8")
    info = InterpreterInfo(
        "/p", "/p", "3.11.7", (3, 11, 7), "cpython", "", None, (".so",), "linux-x86_64",
        "linux", "x86_64", 64, ("glibc", "2.36"), "", False, {},
    )  # fmt: skip

    def ctx(
        environ: dict[str, str], folder: Path = tmp_path / "packages", **changes: Any
    ) -> RunContext:
        settings = replace(load_settings(tmp_path, environ), **changes)
        return RunContext(settings, Path("/p"), info, folder, "linux-x64", "v", "r")

    assert declared_requirements(ctx({})).requirements == ("numpy", "cffi")
    # The users' layout: packages/ beside the interpreter's bin/ is their folder, not ours.
    beside = ctx({}, folder=tmp_path / "pydist" / "windows-x64" / "packages")
    assert declared_requirements(beside).requirements == ()
    given = ctx({"NATIVE_CHECK_PACKAGES": str(tmp_path)})
    assert declared_requirements(given).requirements == ()
    listed = ctx({"NATIVE_CHECK_PACKAGES": "w", "NATIVE_CHECK_REQUIREMENTS_FILE": "more.txt"})
    assert declared_requirements(listed).requirements == ("pyarrow",)
    variant = ctx({}, packages=tmp_path, declared=("lxml",), declared_source="f [v]")
    found = declared_requirements(variant)
    assert (found.requirements, found.sources) == (("lxml",), ("f [v] requirements",))
