"""The policy data files of the static audit load, stay sorted and agree with each other."""

from __future__ import annotations

import json
from typing import Any

import pytest

from checker.audit.policy import (
    DATA_DIR,
    abi3_version,
    linux_policy,
    mac_target,
    parse_version,
    stable_abi,
    strictest_linux,
)

ARCHES = ("x86_64", "aarch64", "i686", "ppc64le", "s390x", "armv7l")
OURS = ("macos-policy.json", "windows-policy.json")


def _load(name: str) -> Any:
    return json.loads((DATA_DIR / name).read_text(encoding="utf-8"))


def test_readme_names_every_data_file_and_its_source() -> None:
    readme = (DATA_DIR / "README.md").read_text(encoding="utf-8")
    for path in sorted(DATA_DIR.glob("*.json")):
        assert f"`{path.name}`" in readme
    assert "auditwheel-6.8.2" in readme and "MIT" in readme
    assert "stable_abi.toml" in readme and "abi3info" in readme


def test_manylinux_policies_cover_the_arches_we_care_about() -> None:
    policies = _load("manylinux-policy.json")
    names = [p["name"] for p in policies]
    assert len(names) == len(set(names))
    priorities = [p["priority"] for p in policies if p["name"] != "linux"]
    assert priorities == sorted(priorities, reverse=True)  # oldest = most restrictive first
    aliases = {a: p["name"] for p in policies for a in p["aliases"]}
    assert aliases == {
        "manylinux1": "manylinux_2_5",
        "manylinux2010": "manylinux_2_12",
        "manylinux2014": "manylinux_2_17",
    }
    for policy in policies:
        if policy["name"] == "linux":
            continue
        glibc = parse_version(policy["name"].split("_", 1)[1].replace("_", "."))
        assert glibc is not None
        assert "libc.so.6" in policy["lib_whitelist"]
        arches = ("x86_64", "i686") if glibc < (2, 17) else ARCHES
        for arch in arches:
            versions = policy["symbol_versions"][arch]
            for prefix in ("GLIBC", "GLIBCXX", "CXXABI", "GCC"):
                assert versions[prefix], (policy["name"], arch, prefix)
            highest = max(v for v in map(parse_version, versions["GLIBC"]) if v is not None)
            # The policy's glibc, give or take one: aarch64 manylinux2014 (CentOS 7) has
            # 2.18, and a glibc that added no symbol version tops out at the one before.
            assert highest[0] == glibc[0] and abs(highest[1] - glibc[1]) <= 1, policy["name"]


def test_musllinux_policies() -> None:
    policies = [p for p in _load("musllinux-policy.json") if p["name"] != "linux"]
    assert [p["name"] for p in policies] == ["musllinux_1_1", "musllinux_1_2"]
    for policy in policies:
        assert "libc.so" in policy["lib_whitelist"]
        assert set(ARCHES) <= set(policy["symbol_versions"])


@pytest.mark.parametrize("name", OURS)
def test_our_allow_lists_are_sorted_and_unique(name: str) -> None:
    data = _load(name)
    assert data["source"]
    for key in ("system", "python"):
        entries = data[key]
        assert entries == sorted(set(entries)), f"{name}: {key} must be sorted and unique"
    if name.startswith("windows"):
        assert all(e == e.lower() for e in data["system"] + data["python"])
        for dll in ("kernel32.dll", "ucrtbase.dll", "vcruntime140.dll", "vcruntime140_1.dll"):
            assert dll in data["system"]
        # CPython's installer and embeddable build ship no C++ runtime: a runner that has the
        # redistributable must not hide a wheel that needs it and does not bundle it.
        for dll in ("msvcp140.dll", "msvcp140_1.dll", "concrt140.dll"):
            assert dll not in data["system"]
    else:
        assert "/usr/lib/libSystem.B.dylib" in data["system"]
        assert "/System/Library/Frameworks/*.framework/*" in data["system"]


def test_stable_abi_table() -> None:
    data = _load("stable-abi.json")
    assert "stable_abi.toml" in data["source"]
    names = list(data["symbols"])
    assert names == sorted(names)
    table = stable_abi()
    assert table["PyModule_Create2"] == (3, 2)
    assert table["PyUnicode_AsUTF8AndSize"] == (3, 10)
    assert table["_Py_Dealloc"] == (3, 2)  # abi_only symbols count: macros call them
    assert "PyUnicode_AsUTF8" not in table and "_PyObject_GetAttrId" not in table
    assert all(v >= (3, 2) for v in table.values())


def test_tags_pick_the_most_restrictive_policy() -> None:
    (policy,) = strictest_linux(["manylinux_2_28_x86_64", "manylinux2014_x86_64"])
    assert policy.name == "manylinux_2_17_x86_64" and policy.symbol_versions["GLIBC"] == (2, 17)
    between = linux_policy("manylinux_2_30_x86_64")
    assert between is not None and between.symbol_versions["GLIBC"] == (2, 30)
    assert "libc.so.6" in between.allowed
    plain = linux_policy("linux_x86_64")
    assert plain is not None and not plain.enforce
    (only,) = strictest_linux(["linux_x86_64", "manylinux_2_17_x86_64"])
    assert only.enforce
    assert linux_policy("macosx_11_0_arm64") is None
    target = mac_target("macosx_10_9_universal2")
    assert target is not None and target.arches == {"x86_64", "arm64"}
    assert target.required_version("arm64") == (11, 0)
    assert target.required_version("x86_64") == (10, 9)
    assert abi3_version(["cp39-abi3-win_amd64", "cp38-abi3-win_amd64"]) == (3, 8)
    assert abi3_version(["cp312-cp312-win_amd64"]) is None
