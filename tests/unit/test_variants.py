"""Variants as configuration (checker.config.variants): tables, defaults and clear errors."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from checker.config.selection import parse_posargs, selected_variant_names
from checker.config.variants import load_variants
from checker.errors import InputFileError, SetupError, exit_code_for

PYTHON = Path(sys.executable).resolve()


def _pyproject(folder: Path, body: str) -> Path:
    path = folder / "pyproject.toml"
    path.write_text(f'[project]\nname = "x"\n\n{body}', encoding="utf-8")
    return path


def _portable(root: Path, name: str) -> Path:
    """A portable-Python layout: {name}/bin/python (a link to this one) and {name}/packages."""
    bin_dir = root / name / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "python").symlink_to(PYTHON)
    (root / name / "packages").mkdir()
    return bin_dir / "python"


def test_no_variants_is_a_single_run(tmp_path: Path) -> None:
    _pyproject(tmp_path, "[tool.native-check]\njobs = 1\n")
    assert load_variants(tmp_path, {}) == ()
    assert load_variants(tmp_path / "nothing-here", {}) == ()


def test_pyproject_tables_with_the_default_packages_folder(tmp_path: Path) -> None:
    _portable(tmp_path, "python-3.12.10")
    _portable(tmp_path, "python-3.12.10-h5ad")
    (tmp_path / "wl.json").write_text("{}")
    _pyproject(
        tmp_path,
        '[tool.native-check.variants."python-3.12.10"]\npython = "python-3.12.10/bin/python"\n'
        '[tool.native-check.variants."python-3.12.10-h5ad"]\n'
        'python = "python-3.12.10-h5ad/bin/python"\nwhitelist = "wl.json"\n',
    )
    base, h5ad = load_variants(tmp_path, {})
    assert (base.name, h5ad.name) == ("python-3.12.10", "python-3.12.10-h5ad")
    assert base.packages == tmp_path / "python-3.12.10" / "packages"
    assert base.whitelist is None and h5ad.whitelist == tmp_path / "wl.json"
    assert "[tool.native-check.variants.python-3.12.10-h5ad]" in h5ad.source


def test_variants_file_wins_and_resolves_paths_beside_it(tmp_path: Path) -> None:
    _pyproject(tmp_path, '[tool.native-check.variants.ignored]\npython = "nope"\n')
    conf = tmp_path / "ci" / "variants.toml"
    conf.parent.mkdir()
    _portable(tmp_path / "ci", "rapids")
    (tmp_path / "wheels").mkdir()
    conf.write_text('[variants.rapids]\npython = "rapids/bin/python"\npackages = "../wheels"\n')
    (variant,) = load_variants(tmp_path, {"NATIVE_CHECK_VARIANTS": "ci/variants.toml"})
    assert variant.name == "rapids" and variant.packages == tmp_path / "wheels"
    assert variant.python == tmp_path / "ci" / "rapids" / "bin" / "python"


@pytest.mark.parametrize(
    ("table", "error", "message"),
    [
        ('python = "a/bin/python"\nfolder = "x"', InputFileError, "unknown key(s) 'folder'"),
        ('packages = "a/packages"', InputFileError, "python = "),
        ('python = "missing/bin/python"', SetupError, "does not exist or cannot run"),
        ('python = "a/bin/python"\npackages = "nope"', SetupError, "packages folder"),
        ('python = "a/bin/python"\nwhitelist = "nope.json"', SetupError, "whitelist"),
        ("python = 3", InputFileError, "python must be a non-empty string"),
    ],
)
def test_bad_variant_names_the_file_and_table(
    tmp_path: Path, table: str, error: type[Exception], message: str
) -> None:
    _portable(tmp_path, "a")
    path = _pyproject(tmp_path, f"[tool.native-check.variants.a]\n{table}\n")
    with pytest.raises(error) as caught:
        load_variants(tmp_path, {})
    text = str(caught.value)
    assert message in text
    assert f"{path} [tool.native-check.variants.a]" in text
    assert exit_code_for(caught.value) == 2


def test_two_variants_with_one_name(tmp_path: Path) -> None:
    _portable(tmp_path, "a")
    path = _pyproject(
        tmp_path,
        '[tool.native-check.variants.Base]\npython = "a/bin/python"\n'
        '[tool.native-check.variants.base]\npython = "a/bin/python"\n',
    )
    with pytest.raises(InputFileError, match="have one name") as caught:
        load_variants(tmp_path, {})
    assert str(path) in str(caught.value)
    path.write_text(path.read_text().replace(".Base]", ".base]"))
    with pytest.raises(InputFileError, match="not valid TOML"):
        load_variants(tmp_path, {})


def test_missing_variants_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="variants file"):
        load_variants(tmp_path, {"NATIVE_CHECK_VARIANTS": "nope.toml"})


def test_variant_selection_by_name_or_glob_without_case() -> None:
    names = ["python-3.12.10", "python-3.12.10-h5ad", "rapids"]
    assert selected_variant_names(names, parse_posargs([], None)) == names
    chosen = selected_variant_names(names, parse_posargs(["--variant", "*-H5AD", "numpy"], None))
    assert chosen == ["python-3.12.10-h5ad"]
    both = parse_posargs(["--variant=rapids", "--variant", "python-3.12.10"], None)
    assert selected_variant_names(names, both) == ["python-3.12.10", "rapids"]
    assert parse_posargs(["--variant", "rapids", "numpy"], None).patterns == ("numpy",)


def test_platform_placeholder_in_paths(tmp_path: Path) -> None:
    _portable(tmp_path / "pydist", "linux-aarch64")
    _pyproject(
        tmp_path, '[tool.native-check.variants.v]\npython = "pydist/{platform}/bin/python"\n'
    )
    (variant,) = load_variants(tmp_path, {"NATIVE_CHECK_PLATFORM": "linux-aarch64"})
    assert variant.packages == tmp_path / "pydist" / "linux-aarch64" / "packages"
    with pytest.raises(SetupError, match="windows-x64"):
        load_variants(tmp_path, {"NATIVE_CHECK_PLATFORM": "windows-x64"})


def test_a_variant_not_for_this_platform_is_not_part_of_the_run(tmp_path: Path) -> None:
    _portable(tmp_path, "base")
    _pyproject(
        tmp_path,
        '[tool.native-check.variants.base]\npython = "base/bin/python"\n'
        # Its interpreter exists on its own platforms' machines only: never looked for here.
        '[tool.native-check.variants.atls]\npython = "nowhere/bin/python"\n'
        'platforms = ["linux-x64", "macosx-aarch64"]\n',
    )
    (base,) = load_variants(tmp_path, {"NATIVE_CHECK_PLATFORM": "windows-x64"})
    assert base.name == "base" and len(base.platforms) == 5
    with pytest.raises(SetupError, match="nowhere"):
        load_variants(tmp_path, {"NATIVE_CHECK_PLATFORM": "linux-x64"})
    _pyproject(
        tmp_path,
        '[tool.native-check.variants.atls]\npython = "base/bin/python"\n'
        'platforms = ["linux-x64"]\n',
    )
    with pytest.raises(SetupError, match="no variant is for platform 'windows-x64'"):
        load_variants(tmp_path, {"NATIVE_CHECK_PLATFORM": "windows-x64"})


def test_variant_env_expands_the_outer_environment(tmp_path: Path) -> None:
    _portable(tmp_path, "cuda")
    _pyproject(
        tmp_path,
        '[tool.native-check.variants.cuda]\npython = "cuda/bin/python"\n'
        'env = { RPY2_CFFI_MODE = "ABI", PATH = "/usr/local/nvidia/bin:$PATH", '
        'LD_LIBRARY_PATH = "/nv/lib64:${LD_LIBRARY_PATH}", PRICE = "$$5" }\n',
    )
    (variant,) = load_variants(tmp_path, {"PATH": "/usr/bin", "NATIVE_CHECK_PLATFORM": "linux-x64"})
    assert dict(variant.env) == {
        "RPY2_CFFI_MODE": "ABI",
        "PATH": "/usr/local/nvidia/bin:/usr/bin",
        "LD_LIBRARY_PATH": "/nv/lib64:",  # unset outside: empty, as in a shell
        "PRICE": "$5",
    }


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ('env = { HOME = "/root" }', "'HOME'"),
        ('env = { X = "a$" }', "'a$'"),
        ("env = { X = 1 }", "X must be a string, not 1"),
        ('env = "X=1"', "'X=1'"),
        ('env = { "1X" = "a" }', "'1X'"),
    ],
)
def test_bad_env_names_the_file_and_value(tmp_path: Path, env: str, named: str) -> None:
    _portable(tmp_path, "v")
    _pyproject(tmp_path, f'[tool.native-check.variants.v]\npython = "v/bin/python"\n{env}\n')
    with pytest.raises(InputFileError) as caught:
        load_variants(tmp_path, {})
    assert "pyproject.toml [tool.native-check.variants.v]" in str(caught.value)
    assert named in str(caught.value)
    assert exit_code_for(caught.value) == 2


def test_variant_requirements_are_validated(tmp_path: Path) -> None:
    _portable(tmp_path, "v")
    (tmp_path / "reqs.txt").write_text("pyarrow\n")
    _pyproject(
        tmp_path,
        '[tool.native-check.variants.v]\npython = "v/bin/python"\n'
        'requirements = ["numpy>=2"]\nrequirements-file = "reqs.txt"\n',
    )
    (variant,) = load_variants(tmp_path, {})
    assert variant.requirements == ("numpy>=2",)
    assert variant.requirements_file == tmp_path / "reqs.txt"
    for bad, named, error in (
        ('requirements = ["numpy>=>2"]', "'numpy>=>2'", InputFileError),
        ('requirements = "numpy"', "'numpy'", InputFileError),
        ('requirements-file = "nope.txt"', "nope.txt", SetupError),
    ):
        _pyproject(tmp_path, f'[tool.native-check.variants.v]\npython = "v/bin/python"\n{bad}\n')
        with pytest.raises(error) as caught:
            load_variants(tmp_path, {})
        assert "[tool.native-check.variants.v]" in str(caught.value)
        assert named in str(caught.value)


def test_a_variant_sets_its_own_glibc_floor(tmp_path: Path) -> None:
    _portable(tmp_path, "base")
    _portable(tmp_path, "cluster")
    _pyproject(
        tmp_path,
        '[tool.native-check.variants.base]\npython = "base/bin/python"\n'
        '[tool.native-check.variants.cluster]\npython = "cluster/bin/python"\n'
        'min-glibc = "2.28"\n',
    )
    base, cluster = load_variants(tmp_path, {})
    assert (base.min_glibc, cluster.min_glibc) == (None, "2.28")


def test_a_bad_glibc_floor_names_the_table_and_value(tmp_path: Path) -> None:
    _portable(tmp_path, "cluster")
    _pyproject(
        tmp_path,
        '[tool.native-check.variants.cluster]\npython = "cluster/bin/python"\n'
        'min-glibc = "rocky8"\n',
    )
    with pytest.raises(InputFileError) as caught:
        load_variants(tmp_path, {})
    assert "[tool.native-check.variants.cluster]" in str(caught.value)
    assert "'rocky8'" in str(caught.value)
