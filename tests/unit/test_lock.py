"""Tests for checker.wheel.lock (packages.lock) and checker.runs.pin.pin_folder: no network."""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from checker.config.plan import load_plan
from checker.errors import InputFileError, SetupError
from checker.findings import KINDS
from checker.runs import pin
from checker.runs.pin import LOCK_PLATFORMS, LockPlatform, pin_folder
from checker.wheel.fragment import sha256_file
from checker.wheel.lock import (
    HEADER,
    LOCK_VERSION,
    Lock,
    LockedSet,
    LockedWheel,
    check_against_lock,
    dumps_lock,
    lock_variants,
    locked_wheel,
    missing_from_folder,
    parse_lock,
    read_lock,
    write_lock,
)
from tests.support.locks import minor_variant, this_platform
from tests.support.wheelbuild import make_wheel

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

SHA_A = "a" * 64
SHA_B = "b" * 64


def _wheel(file: str, sha256: str = SHA_A, size: int = 100) -> LockedWheel:
    name, version = file.split("-")[:2]
    return LockedWheel(file, name.replace("_", "-").lower(), version, sha256, size)


W_NUMPY = _wheel("numpy-2.4.6-cp311-cp311-manylinux_2_28_x86_64.whl", SHA_A, 16954160)
W_CFFI = _wheel("cffi-2.1.1-cp311-cp311-manylinux_2_17_x86_64.whl", SHA_B, 218716)
W_YAML = _wheel("PyYAML-6.0.3-cp311-cp311-manylinux_2_17_x86_64.whl", "c" * 64, 806638)
W_WIN = _wheel("numpy-2.4.6-cp311-cp311-win_amd64.whl", "d" * 64, 12000000)

LINUX = LockedSet("python-3.11", "linux-x64", (W_NUMPY, W_CFFI, W_YAML))
WINDOWS = LockedSet("python-3.11", "windows-x64", (W_WIN,))
EXACT = LockedSet("python-3.11.7", "linux-x64", (W_CFFI,))


def _sorted(lock: Lock) -> Lock:
    """What a lock reads back as after a write: everything in its stable order."""
    sets = sorted(
        (LockedSet(s.variant, s.platform, tuple(sorted(s.wheels))) for s in lock.sets),
        key=lambda s: (s.variant, s.platform),
    )
    return Lock(tuple(sorted(lock.requirements)), tuple(sets))


# --- dumps / parse / write ---------------------------------------------------------------


def test_round_trip_gives_the_same_lock() -> None:
    lock = Lock(("numpy", "cffi", "pyyaml"), (WINDOWS, LINUX, EXACT))
    text = dumps_lock(lock)
    assert text.startswith(HEADER)
    parsed = parse_lock(text, Path("packages.lock"))
    assert parsed == _sorted(lock)
    assert parse_lock(dumps_lock(parsed), Path("packages.lock")) == parsed


def test_dumped_lock_is_the_documented_toml() -> None:
    data = tomllib.loads(dumps_lock(Lock(("numpy",), (LINUX,))))
    assert data["lock-version"] == LOCK_VERSION
    assert data["requirements"] == ["numpy"]
    (item,) = data["sets"]
    assert (item["variant"], item["platform"]) == ("python-3.11", "linux-x64")
    first = item["wheels"][0]
    assert first == {
        "file": W_YAML.file,
        "project": "pyyaml",
        "version": "6.0.3",
        "sha256": "c" * 64,
        "size": 806638,
    }
    assert "http" not in dumps_lock(Lock(("numpy",), (LINUX,)))  # no download addresses


def test_write_lock_is_byte_stable_whatever_the_input_order(tmp_path: Path) -> None:
    one = Lock(("numpy", "cffi"), (LINUX, WINDOWS, EXACT))
    reversed_sets = tuple(
        LockedSet(s.variant, s.platform, tuple(reversed(s.wheels)))
        for s in reversed((LINUX, WINDOWS, EXACT))
    )
    two = Lock(("cffi", "numpy"), reversed_sets)
    first = write_lock(tmp_path / "a.lock", one).read_bytes()
    again = write_lock(tmp_path / "a.lock", one).read_bytes()
    other = write_lock(tmp_path / "b.lock", two).read_bytes()
    assert first == again == other
    assert b"\r\n" not in first
    data = tomllib.loads(first.decode())
    keys = [(s["variant"], s["platform"]) for s in data["sets"]]
    expected = [
        ("python-3.11", "linux-x64"),
        ("python-3.11", "windows-x64"),
        ("python-3.11.7", "linux-x64"),
    ]
    assert keys == sorted(keys) == expected
    files = [w["file"] for w in data["sets"][0]["wheels"]]
    assert files == sorted(files)
    assert data["requirements"] == ["cffi", "numpy"]
    # nothing but the lock is left in the folder (no temporary files of the atomic write)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.lock", "b.lock"]


def test_read_lock_of_a_missing_file_is_none(tmp_path: Path) -> None:
    assert read_lock(tmp_path / "packages.lock") is None


def test_read_lock_reads_what_write_lock_wrote(tmp_path: Path) -> None:
    lock = Lock(("numpy",), (LINUX,))
    path = write_lock(tmp_path / "sub" / "packages.lock", lock)
    assert read_lock(path) == _sorted(lock)


def _entry(**fields: object) -> str:
    values = {
        "file": '"foo-1.0-py3-none-any.whl"',
        "project": '"foo"',
        "version": '"1.0"',
        "sha256": f'"{SHA_A}"',
        "size": "10",
    }
    values.update({k: str(v) for k, v in fields.items()})
    rows = "".join(f"{k} = {v}\n" for k, v in values.items() if v != "DROP")
    return (
        'lock-version = 1\nrequirements = []\n\n[[sets]]\nvariant = "python-3.11"\n'
        f'platform = "linux-x64"\n\n[[sets.wheels]]\n{rows}'
    )


def test_the_entry_template_itself_parses() -> None:
    lock = parse_lock(_entry(), Path("ok.lock"))
    assert lock.sets[0].wheels == (
        LockedWheel("foo-1.0-py3-none-any.whl", "foo", "1.0", SHA_A, 10),
    )


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("lock-version = 1\nrequirements = [\n", "not valid TOML"),
        ("lock-version = 2\n", "lock-version 2 is not supported"),
        ('requirements = ["numpy"]\n', "lock-version None is not supported"),
        ('lock-version = "1"\n', "lock-version '1' is not supported"),
        ('lock-version = 1\n[[sets]]\nvariant = "python-3.11"\n', "needs 'variant' and 'platform'"),
        ("lock-version = 1\nsets = 5\n", "sets must be an array"),
        (
            'lock-version = 1\n[[sets]]\nvariant = "v"\nplatform = "p"\nwheels = 3\n',
            "sets[0].wheels must be an array",
        ),
        ('lock-version = 1\nrequirements = "numpy"\n', "requirements must be a list of strings"),
        (_entry(sha256="DROP"), "sets[0].wheels[0] lacks 'sha256'"),
        (_entry(file="DROP"), "lacks 'file'"),
        (_entry(size="DROP"), "lacks 'size'"),
        (_entry(sha256='"abc123"'), "is not a sha256 digest"),
        (_entry(sha256='"' + "z" * 64 + '"'), "is not a sha256 digest"),
        (_entry(size='"big"'), "sets[0].wheels[0]"),
        (_entry(size="-1"), "size -1 is negative"),
        (_entry(file='"foo-1.0.tar.gz"'), "foo-1.0.tar.gz"),
        (_entry(file='"foo.whl"'), "foo.whl"),
    ],
)
def test_malformed_lock_names_the_file_and_the_problem(
    tmp_path: Path, text: str, problem: str
) -> None:
    path = tmp_path / "broken.lock"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputFileError) as info:
        read_lock(path)
    message = str(info.value)
    assert message.startswith(f"{path}: "), message
    assert problem in message, message


def test_invalid_wheel_file_name_says_so(tmp_path: Path) -> None:
    with pytest.raises(InputFileError) as info:
        parse_lock(_entry(file='"foo.whl"'), tmp_path / "x.lock")
    assert "wheels[0]: file 'foo.whl': Invalid wheel filename" in str(info.value)


def test_uppercase_digest_reads_as_the_lowercase_one() -> None:
    lock = parse_lock(_entry(sha256=f'"{"AB" * 32}"'), Path("x.lock"))
    assert lock.sets[0].wheels[0].sha256 == "ab" * 32


def test_unreadable_lock_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "packages.lock"
    path.write_bytes(b"lock-version = 1\n# \xff\xfe\n")
    with pytest.raises(InputFileError, match=f"^{path}: cannot read lock"):
        read_lock(path)


# --- find / variants / replace_set -------------------------------------------------------


def test_lock_variants() -> None:
    assert lock_variants("python-3.11.7", "3.11.7") == ["python-3.11.7", "python-3.11"]
    assert lock_variants("python-3.11", "3.11.7") == ["python-3.11"]
    assert lock_variants("portable-1", "3.12.1") == ["portable-1", "python-3.12"]


def test_find_falls_back_from_the_exact_variant_to_the_minor_one() -> None:
    lock = Lock((), (LINUX, WINDOWS))
    assert lock.find(lock_variants("python-3.11.7", "3.11.7"), "linux-x64") == LINUX
    assert lock.find(lock_variants("python-3.11.7", "3.11.7"), "windows-x64") == WINDOWS
    assert lock.find(lock_variants("python-3.11.7", "3.11.7"), "macosx-x64") is None
    assert lock.find(lock_variants("python-3.12.1", "3.12.1"), "linux-x64") is None


def test_find_prefers_the_exact_variant_whatever_the_set_order() -> None:
    variants = lock_variants("python-3.11.7", "3.11.7")
    assert Lock((), (LINUX, EXACT)).find(variants, "linux-x64") == EXACT
    assert Lock((), (EXACT, LINUX)).find(variants, "linux-x64") == EXACT
    assert Lock((), (LINUX, EXACT)).find(["python-3.11.8", "python-3.11"], "linux-x64") == LINUX


def test_replace_set_keeps_the_other_sets() -> None:
    lock = Lock(("numpy",), (WINDOWS, LINUX, EXACT))
    new_linux = LockedSet("python-3.11", "linux-x64", (W_CFFI,))
    replaced = lock.replace_set(new_linux)
    assert replaced.requirements == ("numpy",)
    assert replaced.sets == (new_linux, WINDOWS, EXACT)
    assert lock.sets == (WINDOWS, LINUX, EXACT)  # the original is unchanged
    added = replaced.replace_set(LockedSet("python-3.12", "linux-x64", ()))
    assert [(s.variant, s.platform) for s in added.sets] == [
        ("python-3.11", "linux-x64"),
        ("python-3.11", "windows-x64"),
        ("python-3.11.7", "linux-x64"),
        ("python-3.12", "linux-x64"),
    ]
    assert added.find(["python-3.11"], "windows-x64") == WINDOWS


def test_lock_platforms_cover_the_platform_keys() -> None:
    from checker.config.platforms import PLATFORM_KEYS

    assert sorted(LOCK_PLATFORMS) == sorted(PLATFORM_KEYS)
    assert all(key == p.key and p.pip_platforms for key, p in LOCK_PLATFORMS.items())


# --- the folder against the lock ---------------------------------------------------------


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    packages = tmp_path / "packages"
    make_wheel(packages, "alpha", "1.0", {"alpha/__init__.py": "A = 1\n"})
    make_wheel(packages, "Beta_Pkg", "2.0.1", {"beta_pkg/__init__.py": "B = 2\n"})
    (packages / "README.txt").write_text("not a wheel\n")
    return packages


def test_pin_folder_pins_every_wheel_by_hash_and_size(folder: Path) -> None:
    pinned = pin_folder(folder, "python-3.11", "linux-x64")
    assert (pinned.variant, pinned.platform) == ("python-3.11", "linux-x64")
    assert [w.file for w in pinned.wheels] == [
        "Beta_Pkg-2.0.1-py3-none-any.whl",
        "alpha-1.0-py3-none-any.whl",
    ]
    for wheel in pinned.wheels:
        data = (folder / wheel.file).read_bytes()
        assert wheel.sha256 == hashlib.sha256(data).hexdigest()
        assert wheel.size == len(data)
    assert [(w.project, w.version) for w in pinned.wheels] == [
        ("beta-pkg", "2.0.1"),
        ("alpha", "1.0"),
    ]


def test_pin_folder_refuses_a_file_that_is_no_wheel_name(folder: Path) -> None:
    (folder / "junk.whl").write_bytes(b"junk")
    with pytest.raises(SetupError, match=r"junk\.whl"):
        pin_folder(folder, "python-3.11", "linux-x64")


def test_pinned_folder_passes_the_lock(folder: Path) -> None:
    pinned = pin_folder(folder, "python-3.11", "linux-x64")
    for path in folder.glob("*.whl"):
        assert check_against_lock(pinned, path, *sha256_file(path)) is None
    assert missing_from_folder(pinned, [p.name for p in folder.iterdir()]) == []


def test_changed_wheel_is_lock_changed(folder: Path) -> None:
    pinned = pin_folder(folder, "python-3.11", "linux-x64")
    path = make_wheel(folder, "alpha", "1.0", {"alpha/__init__.py": "A = 666\n"})  # same name
    sha256, size = sha256_file(path)
    finding = check_against_lock(pinned, path, sha256, size)
    assert finding is not None
    assert (finding.stage, finding.module, finding.kind) == ("integrity", "lock", "lock-changed")
    assert finding.kind in KINDS
    assert finding.file == path.name
    assert path.name in finding.error and "python-3.11, linux-x64" in finding.error
    assert sha256[:16] in finding.error and f"{size} bytes" in finding.error


def test_same_hash_other_size_is_lock_changed(folder: Path) -> None:
    path = folder / "alpha-1.0-py3-none-any.whl"
    sha256, size = sha256_file(path)
    pinned = LockedSet("v", "p", (LockedWheel(path.name, "alpha", "1.0", sha256, size + 1),))
    finding = check_against_lock(pinned, path, sha256, size)
    assert finding is not None and finding.kind == "lock-changed"


def test_unpinned_wheel_is_lock_extra(folder: Path) -> None:
    pinned = pin_folder(folder, "python-3.11", "linux-x64")
    extra = make_wheel(folder, "gamma", "0.1", {"gamma.py": ""})
    finding = check_against_lock(pinned, extra, *sha256_file(extra))
    assert finding is not None
    assert (finding.module, finding.kind, finding.file) == ("lock", "lock-extra", extra.name)
    assert extra.name in finding.error and "not pinned" in finding.error


def test_missing_from_folder_lists_absent_pins_only(folder: Path) -> None:
    pinned = pin_folder(folder, "python-3.11", "linux-x64")
    alpha = folder / "alpha-1.0-py3-none-any.whl"
    alpha.unlink()
    missing = missing_from_folder(pinned, [p.name for p in folder.iterdir()])
    assert [w.file for w in missing] == [alpha.name]
    assert missing_from_folder(pinned, []) == list(pinned.wheels)
    assert missing_from_folder(LockedSet("v", "p", ()), []) == []


def test_locked_wheel_normalizes_the_project(folder: Path) -> None:
    wheel = locked_wheel(folder / "Beta_Pkg-2.0.1-py3-none-any.whl")
    assert (wheel.project, wheel.version) == ("beta-pkg", "2.0.1")


# --- fresh-clone plan: the pinned set when the default folder has no wheels --------------


@pytest.fixture
def no_folder_beside_python() -> None:
    if (Path(sys.executable).resolve().parent.parent / "packages").exists():
        pytest.skip("this interpreter has a packages folder beside it (the default)")


@pytest.fixture
def clone(tmp_path: Path, no_folder_beside_python: None) -> tuple[Path, LockedWheel]:
    """A project folder whose packages.lock pins one wheel for this interpreter."""
    wheel = LockedWheel("six-1.16.0-py2.py3-none-any.whl", "six", "1.16.0", SHA_A, 11053)
    pinned = LockedSet(minor_variant(), this_platform(), (wheel,))
    write_lock(tmp_path / "packages.lock", Lock(("six",), (pinned,)))
    return tmp_path, wheel


def test_fresh_clone_plans_the_pinned_wheels(clone: tuple[Path, LockedWheel]) -> None:
    project, wheel = clone
    plan = load_plan(project, {}, ["nox"])
    assert plan.error is None
    assert plan.fetch_first
    assert [(r.path, r.session_id) for r in plan.wheels] == [
        (project / "packages" / wheel.file, "six-1.16.0")
    ]


def test_empty_packages_folder_still_plans_the_pinned_wheels(
    clone: tuple[Path, LockedWheel],
) -> None:
    # e.g. left behind by a fetch that failed: the next run must fetch again, not give up
    project, wheel = clone
    (project / "packages").mkdir()
    plan = load_plan(project, {}, ["nox"])
    assert plan.error is None
    assert plan.fetch_first
    assert [r.filename for r in plan.wheels] == [wheel.file]


def test_folder_with_wheels_is_checked_as_it_is(clone: tuple[Path, LockedWheel]) -> None:
    project, _wheel = clone
    other = make_wheel(project / "packages", "alpha", "1.0", {"alpha.py": ""})
    plan = load_plan(project, {}, ["nox"])
    assert plan.error is None
    assert not plan.fetch_first
    assert [r.path for r in plan.wheels] == [other]


def test_explicit_missing_folder_is_an_error_not_a_fetch(
    clone: tuple[Path, LockedWheel],
) -> None:
    project, _wheel = clone
    missing = project / "elsewhere"
    plan = load_plan(project, {"NATIVE_CHECK_PACKAGES": str(missing)}, ["nox"])
    assert not plan.fetch_first and plan.wheels == ()
    assert isinstance(plan.error, SetupError)
    assert str(missing) in str(plan.error)


def test_lock_for_another_platform_does_not_plan_a_fetch(
    tmp_path: Path, no_folder_beside_python: None
) -> None:
    other = "windows-x64" if this_platform() != "windows-x64" else "linux-x64"
    write_lock(tmp_path / "packages.lock", Lock((), (LockedSet(minor_variant(), other, ()),)))
    plan = load_plan(tmp_path, {}, ["nox"])
    assert not plan.fetch_first
    assert isinstance(plan.error, SetupError)
    # A fresh clone whose Python (or platform) the lock has no set for: says so and how.
    short = f"{sys.version_info[0]}.{sys.version_info[1]}"
    message = str(plan.error)
    assert f"packages.lock has no set for python-{short} on {this_platform()}" in message
    assert f"`nox -s lock -P python{short}`" in message
    assert "does not exist" not in message


# --- the manylinux ceiling of a lock: the lowest that has every wheel ---------------------


def test_the_lowest_manylinux_ceiling_with_every_wheel_is_chosen(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """uv (the boundary, faked) finds orjson's only cp315 wheel from manylinux_2_39 up."""
    asked: list[str] = []

    def fake_resolve(requirements: Sequence[str], python: str, platform: LockPlatform) -> list[str]:
        asked.append(platform.uv_platform)
        if int(platform.uv_platform.rsplit("_", 1)[1]) < 39:
            raise SetupError(f"no wheel set for {platform.uv_platform}")
        return ["orjson==3.11.9"]

    monkeypatch.setattr(pin, "resolve", fake_resolve)
    chosen, pins = pin.resolve_lowest_ceiling(["orjson"], "3.15", LOCK_PLATFORMS["linux-x64"])
    assert pins == ["orjson==3.11.9"]
    assert chosen.uv_platform == "x86_64-manylinux_2_39"
    assert "manylinux_2_39_x86_64" in chosen.pip_platforms
    assert "manylinux_2_28_x86_64" in chosen.pip_platforms
    assert "manylinux_2_40_x86_64" not in chosen.pip_platforms
    assert asked[0] == "x86_64-manylinux_2_28" and asked[-1] == "x86_64-manylinux_2_39"
    # Other platforms are resolved once, as they are.
    asked.clear()

    def record(requirements: Sequence[str], python: str, platform: LockPlatform) -> list[str]:
        asked.append(platform.key)
        return []

    monkeypatch.setattr(pin, "resolve", record)
    pin.resolve_lowest_ceiling(["orjson"], "3.15", LOCK_PLATFORMS["windows-x64"])
    assert asked == ["windows-x64"]


def test_no_ceiling_with_every_wheel_is_explained(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(requirements: Sequence[str], python: str, platform: LockPlatform) -> list[str]:
        raise SetupError(f"no wheel set for {platform.uv_platform}")

    monkeypatch.setattr(pin, "resolve", fail)
    with pytest.raises(SetupError) as info:
        pin.resolve_lowest_ceiling(["orjson"], "3.15", LOCK_PLATFORMS["linux-aarch64"])
    assert "aarch64-manylinux_2_28" in str(info.value)
    assert "up to manylinux_2_40" in str(info.value)
