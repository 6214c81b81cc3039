"""Build real test wheels: C extensions compiled with gcc, zipped with a real RECORD."""

from __future__ import annotations

import base64
import csv
import functools
import hashlib
import io
import json
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

_INFO_SCRIPT = """
import json, sys, sysconfig
print(json.dumps({
    "include": sysconfig.get_paths()["include"],
    "ext_suffix": sysconfig.get_config_var("EXT_SUFFIX"),
    "platform": sysconfig.get_platform(),
    "version": "%d%d" % sys.version_info[:2],
}))
"""


def _no_c_build() -> str | None:
    """Why the test wheels' C extensions cannot be built here, or None when they can."""
    if sys.platform == "win32":
        # A .pyd links against pythonXY.lib with MSVC; the runners' MinGW gcc is not set up.
        return "building the test wheels' C extensions needs gcc for ELF or Mach-O (not Windows)"
    if shutil.which("gcc") is None:
        return "building the test wheels' C extensions needs gcc (not installed)"
    return None


def require_c_build() -> None:
    """Skip the calling test (or fixture) with the reason when no C extension can be built."""
    reason = _no_c_build()
    if reason is not None:
        pytest.skip(reason)


def shared_command() -> list[str]:
    """gcc's command to link a shared object on this OS (skips where there is none)."""
    require_c_build()
    command = ["gcc", "-shared", "-fPIC"]
    if sys.platform == "darwin":  # Python's symbols are resolved when the module is loaded
        command += ["-undefined", "dynamic_lookup"]
    return command


NEEDS_GCC = pytest.mark.skipif(_no_c_build() is not None, reason=str(_no_c_build()))
"""For tests that build C extensions with gcc (Linux or macOS)."""

NEEDS_GCC_ON_LINUX = pytest.mark.skipif(
    shutil.which("gcc") is None or not sys.platform.startswith("linux"),
    reason="needs gcc and Linux (ELF shared libraries, RUNPATH, the dynamic loader)",
)
"""For tests whose wheels link shared libraries of their own with gcc."""


@dataclass(frozen=True)
class PythonBuild:
    python: Path
    include: str
    ext_suffix: str
    platform: str
    version: str

    @property
    def tag(self) -> str:
        plat = self.platform.replace("-", "_").replace(".", "_")
        return f"cp{self.version}-cp{self.version}-{plat}"


@functools.cache
def python_build(python: Path) -> PythonBuild:
    out = subprocess.run(
        [str(python), "-c", _INFO_SCRIPT], capture_output=True, text=True, check=True
    ).stdout
    data = json.loads(out)
    return PythonBuild(
        python, data["include"], data["ext_suffix"], data["platform"], data["version"]
    )


def module_source(
    leaf: str, body: str = "", prelude: str = "", init_name: str | None = None
) -> str:
    """C source of an extension module ``leaf``; ``body`` runs inside PyInit."""
    init = init_name or f"PyInit_{leaf}"
    return f"""
#define PY_SSIZE_T_CLEAN
#include <Python.h>
{prelude}
static struct PyModuleDef moddef = {{PyModuleDef_HEAD_INIT, "{leaf}", NULL, -1, NULL}};
PyMODINIT_FUNC {init}(void) {{
    {body}
    return PyModule_Create(&moddef);
}}
"""


def compile_shared(
    build: PythonBuild,
    source: str,
    out: Path,
    *,
    args: Sequence[str] = (),
    python_headers: bool = True,
) -> bytes:
    """Compile ``source`` into the shared object ``out`` with gcc; return its bytes."""
    shared = shared_command()
    out.parent.mkdir(parents=True, exist_ok=True)
    src = out.with_name(out.name.split(".", 1)[0] + ".c")
    src.write_text(source, encoding="utf-8")
    command = [*shared, "-O0", "-o", str(out), str(src)]
    if python_headers:
        command[1:1] = [f"-I{build.include}"]
    subprocess.run([*command, *args], check=True, capture_output=True, text=True)
    return out.read_bytes()


def export_module_source(leaf: str, prelude: str = "", export_name: str | None = None) -> str:
    """C source of a PEP 793 module ``leaf`` that exports only ``PyModExport_<leaf>``: on 3.15+
    headers a ``PySlot`` array (Py_mod_abi, Py_mod_name); with older headers an empty slot
    array, which builds but does not import."""
    export = export_name or f"PyModExport_{leaf}"
    return f"""
#include <Python.h>
{prelude}
#ifdef PySlot_END
PyABIInfo_VAR(abi_info);
static PySlot slots[] = {{
    PySlot_PTR_STATIC(Py_mod_abi, &abi_info),
    PySlot_PTR_STATIC(Py_mod_name, "{leaf}"),
    PySlot_END
}};
__attribute__((visibility("default"))) PySlot *{export}(void) {{ return slots; }}
#else
static PyModuleDef_Slot slots[] = {{{{0, NULL}}}};
__attribute__((visibility("default"))) PyModuleDef_Slot *{export}(void) {{ return slots; }}
#endif
"""


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest}"


def make_wheel(
    folder: Path,
    name: str,
    version: str,
    files: Mapping[str, bytes | str],
    *,
    tag: str = "py3-none-any",
    requires_dist: Iterable[str] = (),
    root_is_purelib: bool | None = None,
    record_overrides: Mapping[str, str | None] | None = None,
    extra_members: Mapping[str, bytes] | None = None,
    filename: str | None = None,
    requires_python: str | None = None,
) -> Path:
    """Write a wheel with a real RECORD.

    ``record_overrides`` replaces RECORD rows (path -> "hash,size" text, or None to drop
    the row); ``extra_members`` are added to the zip after RECORD is computed (not listed).
    """
    dist = name.replace("-", "_")
    dist_info = f"{dist}-{version}.dist-info"
    purelib = root_is_purelib if root_is_purelib is not None else tag.endswith("none-any")
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    metadata += f"Requires-Python: {requires_python}\n" if requires_python else ""
    metadata += "".join(f"Requires-Dist: {req}\n" for req in requires_dist)
    wheel_meta = (
        "Wheel-Version: 1.0\nGenerator: native-import-checker-tests\n"
        f"Root-Is-Purelib: {'true' if purelib else 'false'}\n"
        + "".join(f"Tag: {t}\n" for t in _expand_tag(tag))
    )
    members: dict[str, bytes] = {
        path: data.encode() if isinstance(data, str) else data for path, data in files.items()
    }
    members[f"{dist_info}/METADATA"] = metadata.encode()
    members[f"{dist_info}/WHEEL"] = wheel_meta.encode()
    rows = {path: f"{_record_hash(data)},{len(data)}" for path, data in members.items()}
    for path, row in (record_overrides or {}).items():
        if row is None:
            rows.pop(path, None)
        else:
            rows[path] = row
    record = io.StringIO()
    writer = csv.writer(record, lineterminator="\n")
    for path, row in rows.items():
        writer.writerow([path, *row.split(",", 1)])
    writer.writerow([f"{dist_info}/RECORD", "", ""])
    members[f"{dist_info}/RECORD"] = record.getvalue().encode()
    members.update(extra_members or {})
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / (filename or f"{dist}-{version}-{tag}.whl")
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data in members.items():
            archive.writestr(path, data)
    return target


def _expand_tag(tag: str) -> list[str]:
    python, abi, platform = tag.split("-")
    return [
        f"{p}-{a}-{pl}"
        for p in python.split(".")
        for a in abi.split(".")
        for pl in platform.split(".")
    ]


def extension_wheel(
    folder: Path,
    build: PythonBuild,
    name: str,
    modules: Mapping[str, str],
    *,
    version: str = "1.0",
    workdir: Path,
    compile_args: Mapping[str, Sequence[str]] | None = None,
    pure: Mapping[str, str] | None = None,
    requires_dist: Iterable[str] = (),
) -> Path:
    """A wheel of compiled modules: ``{"pkg/_ext": C source}`` -> ``pkg/_ext{EXT_SUFFIX}``."""
    files: dict[str, bytes | str] = dict(pure or {})
    for stem, source in modules.items():
        out = workdir / name / (stem.replace("/", "__") + build.ext_suffix)
        args = (compile_args or {}).get(stem, ())
        files[stem + build.ext_suffix] = compile_shared(build, source, out, args=args)
    return make_wheel(folder, name, version, files, tag=build.tag, requires_dist=requires_dist)


def with_broken_wheel(source: Path, root: Path, leaf: str, body: str, prelude: str) -> Path:
    """A copy of the folder ``source`` (as ``root/packages``) plus ``nicbroken``, a wheel of one
    extension ``nicbroken.{leaf}`` whose PyInit runs ``body`` (built with this Python)."""
    packages = root / "packages"
    shutil.copytree(source, packages)
    extension_wheel(
        packages,
        python_build(Path(sys.executable)),
        "nicbroken",
        {f"nicbroken/{leaf}": module_source(leaf, body, prelude)},
        workdir=root / "build",
        pure={"nicbroken/__init__.py": ""},
    )
    return packages
