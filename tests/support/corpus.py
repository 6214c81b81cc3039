"""Issue 3's fixture corpus: one real gcc-built wheel per import behaviour."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.support.wheelbuild import (
    PythonBuild,
    compile_shared,
    extension_wheel,
    make_wheel,
    module_source,
    shared_command,
)

SEGV = "*(volatile int *)0 = 1;"
HANG_PRELUDE = "#include <unistd.h>"
HANG = "while (1) sleep(1);"
ABORT_PRELUDE = "#include <stdlib.h>"
EXIT_PRELUDE = "#include <unistd.h>"


def import_body(module: str) -> str:
    """C statements for PyInit: import ``module`` and fail the init if that fails."""
    return (
        f'PyObject *dep = PyImport_ImportModule("{module}"); if (!dep) return NULL; Py_DECREF(dep);'
    )


def build_nicdep(workdir: Path) -> Path:
    """A tiny shared library that is never shipped in any wheel: libnicdep.so."""
    shared = shared_command()
    workdir.mkdir(parents=True, exist_ok=True)
    src = workdir / "nicdep.c"
    src.write_text("int nicdep_value(void) { return 42; }\n", encoding="utf-8")
    lib = workdir / "libnicdep.so"
    subprocess.run(
        [*shared, "-o", str(lib), str(src)],
        check=True,
        capture_output=True,
        text=True,
    )
    return lib


# The sandbox report of the nic-home wheel: where HOME, cwd and temp were, what cwd held.
HOME_INIT = """
import json, os, tempfile
home = os.environ["HOME"]
with open(os.path.join(home, "nic-home-marker"), "w") as handle:
    handle.write("written by nichome")
listing = os.listdir(".")
report = os.environ.get("NIC_SANDBOX_REPORT")
if report:
    with open(report, "w") as handle:
        json.dump({
            "home": home,
            "cwd": os.getcwd(),
            "cwd_listing": listing,
            "tmp": tempfile.gettempdir(),
            "environ": sorted(os.environ),
        }, handle)
if listing:
    raise RuntimeError("the working directory is not empty: %r" % (listing,))
"""


def build_corpus(packages: Path, build: PythonBuild, workdir: Path) -> dict[str, Path]:
    """Write every corpus wheel into ``packages``; return them by short name."""
    wheels: dict[str, Path] = {}

    def ext(
        name: str,
        modules: dict[str, str],
        *,
        pure: dict[str, str] | None = None,
        compile_args: dict[str, list[str]] | None = None,
        requires_dist: tuple[str, ...] = (),
    ) -> None:
        wheels[name] = extension_wheel(
            packages,
            build,
            name,
            modules,
            workdir=workdir,
            pure=pure,
            compile_args=compile_args,
            requires_dist=requires_dist,
        )

    def pkg(package: str) -> dict[str, str]:
        """An empty ``__init__.py``: the parent package imports trivially."""
        return {f"{package}/__init__.py": ""}

    ext(
        "nic-segv",
        {"nicsegv/_a": module_source("_a", SEGV), "nicsegv/_b": module_source("_b")},
        pure=pkg("nicsegv"),
    )
    ext(
        "nic-abort",
        {
            "nicabort/_a": module_source("_a", "abort();", ABORT_PRELUDE),
            "nicabort/_b": module_source("_b"),
        },
        pure=pkg("nicabort"),
    )
    ext(
        "nic-exit",
        {
            "nicexit/_a": module_source("_a", "_exit(3);", EXIT_PRELUDE),
            "nicexit/_b": module_source("_b"),
        },
        pure=pkg("nicexit"),
    )
    ext(
        "nic-hang",
        {"nichang/_a": module_source("_a", HANG, HANG_PRELUDE), "nichang/_b": module_source("_b")},
        pure=pkg("nichang"),
    )

    depdir = workdir / "nicdep"
    build_nicdep(depdir)
    ext(
        "nic-missinglib",
        {
            "nicmissinglib/_ext": module_source(
                "_ext", "if (nicdep_value() != 42) return NULL;", "int nicdep_value(void);"
            )
        },
        pure=pkg("nicmissinglib"),
        compile_args={"nicmissinglib/_ext": [f"-L{depdir}", "-lnicdep"]},
    )
    ext(
        "nic-undefsym",
        {
            "nicundefsym/_ext": module_source(
                "_ext",
                "if (nic_no_such_function() != 1) return NULL;",
                "int nic_no_such_function(void);",
            )
        },
        pure=pkg("nicundefsym"),
    )
    ext(
        "nic-initname",
        {"nicinitname/_a": module_source("_a", init_name="PyInit_b")},
        pure=pkg("nicinitname"),
    )

    helper = compile_shared(
        build,
        "int add(int a, int b) { return a + b; }\n",
        workdir / "nicctypes" / "libhelper.so",
        python_headers=False,
    )
    wheels["nic-ctypes"] = make_wheel(
        packages,
        "nic-ctypes",
        "1.0",
        {"nicctypes/__init__.py": "", "nicctypes/libhelper.so": helper},
        tag=build.tag,
    )

    data_ext = compile_shared(
        build, module_source("_ext"), workdir / "nicdata" / f"_ext{build.ext_suffix}"
    )
    wheels["nic-data"] = make_wheel(
        packages,
        "nic-data",
        "1.0",
        {
            "nicdata/__init__.py": "",
            f"nic_data-1.0.data/platlib/nicdata/_ext{build.ext_suffix}": data_ext,
        },
        tag=build.tag,
    )

    ext("nic-mypyc", {"3a7f__mypyc": module_source("3a7f__mypyc")})

    ext(
        "nic-parent",
        {"nicparent/_ext": module_source("_ext")},
        pure={"nicparent/__init__.py": "raise ValueError('nicparent refuses to load')\n"},
    )
    ext(
        "nic-undeclared",
        {"nicundeclared/_ext": module_source("_ext")},
        pure={"nicundeclared/__init__.py": "import nic_not_there_xyz\n"},
    )
    wheels["nic-somedep"] = make_wheel(
        packages, "nic-somedep", "1.0", {"nicsomedep/__init__.py": ""}
    )
    ext(
        "nic-declared",
        {"nicdeclared/_ext": module_source("_ext")},
        pure={"nicdeclared/__init__.py": "import nicsomedep.not_there\n"},
        requires_dist=("nic-somedep>=1",),
    )
    ext(
        "nic-needsdep",
        {"nicneedsdep/_ext": module_source("_ext")},
        pure=pkg("nicneedsdep"),
        requires_dist=("nic-absent-dep>=1",),
    )

    win_ext = compile_shared(
        build, module_source("_ext"), workdir / "nicwin" / f"_ext{build.ext_suffix}"
    )
    wheels["nic-win"] = make_wheel(
        packages,
        "nic-win",
        "1.0",
        {"nicwin/__init__.py": "", f"nicwin/_ext{build.ext_suffix}": win_ext},
        tag=f"cp{build.version}-cp{build.version}-win_amd64",
    )

    garbage = packages / "nic_garbage-1.0-py3-none-any.whl"
    garbage.write_bytes(b"this is not a zip archive\n" * 40)
    wheels["nic-garbage"] = garbage

    # Order-dependent cycle: importing b first fails, importing a first works.
    ext(
        "nic-circ",
        {"niccirc/_ext": module_source("_ext", import_body("niccirc.b"))},
        pure={
            "niccirc/__init__.py": "",
            "niccirc/a.py": "X = 1\nfrom niccirc.b import Y\n",
            "niccirc/b.py": "from niccirc.a import X\nY = 2\n",
        },
    )
    # A cycle that fails whichever side is imported first.
    ext(
        "nic-cycle",
        {"niccycle/_ext": module_source("_ext", import_body("niccycle.p"))},
        pure={
            "niccycle/__init__.py": "",
            "niccycle/p.py": "from niccycle.q import QV\nPV = 1\n",
            "niccycle/q.py": "from niccycle.p import PV\nQV = 2\n",
        },
    )
    ext(
        "nic-home",
        {"nichome/_ext": module_source("_ext")},
        pure={"nichome/__init__.py": HOME_INIT},
    )
    return wheels
