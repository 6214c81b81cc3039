"""Windows and macOS defects, each with the platform faked at its boundary (paths, env, exit
codes, messages, code pages): they cannot run here, their handling can."""

from __future__ import annotations

import contextlib
import io
import locale
import os
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest

from checker import atomic
from checker.atomic import (
    finish_removals,
    remove_leftovers,
    remove_tree,
    remove_tree_later,
    replace_file,
)
from checker.config.interpreter import fatal_lines, find_windows_version
from checker.config.platforms import macos_version
from checker.errors import SetupError
from checker.probe import bytecode, install, runner
from checker.probe.classify import ImportContext, classify
from checker.probe.runner import Sandbox, probe_path, signal_name
from checker.textio import child_stderr_encoding, console_safe
from checker.wheel.fragment import memo_key

CTX = ImportContext(declared=(), requirement_names=())

# What CPython 3.12 writes when its stdlib is not where it looks (measured on Linux; Windows'
# embeddable build in a venv without a ._pth says the same).
NO_ENCODINGS = """Python path configuration:
  PYTHONHOME = (not set)
  sys.path = [
    '/tmp/empty/lib/python312.zip',
  ]
Fatal Python error: init_fs_encoding: failed to get the Python codec of the filesystem encoding
Python runtime state: core initialized
ModuleNotFoundError: No module named 'encodings'

Current thread 0x00007ff409720b80 (most recent call first):
  <no Python frame>
"""


def _win_error(code: int) -> PermissionError:
    exc = PermissionError(13, "The process cannot access the file")
    exc.winerror = code  # type: ignore[attr-defined]
    return exc


# --- 2: removing venvs on Windows ------------------------------------------------------------


def test_a_locked_file_is_moved_aside_never_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    venv = tmp_path / "venvs" / "abc"
    (venv / "Lib" / "site-packages" / "pkg").mkdir(parents=True)
    locked = venv / "Lib" / "site-packages" / "pkg" / "_native.pyd"
    locked.write_bytes(b"MZ")
    (venv / "pyvenv.cfg").write_text("home = x\n", encoding="utf-8")
    real_rmtree = shutil.rmtree

    def windows_rmtree(path: Any, *args: Any, **kwargs: Any) -> None:
        """Deletes everything but a loaded .pyd (and the folders holding it), as Windows."""
        for root, dirs, files in os.walk(path, topdown=False):
            for name in files:
                if name != "_native.pyd":
                    os.unlink(os.path.join(root, name))  # noqa: PTH108,PTH118
            for name in dirs:
                with contextlib.suppress(OSError):
                    os.rmdir(os.path.join(root, name))  # noqa: PTH106,PTH118
        if not kwargs.get("ignore_errors"):
            raise _win_error(32)

    monkeypatch.setattr(shutil, "rmtree", windows_rmtree)
    assert remove_tree(venv)
    assert not venv.exists()  # the path is free for the next venv
    (aside,) = [p for p in venv.parent.iterdir() if p.name.startswith(".removed-abc")]
    assert (aside / "Lib" / "site-packages" / "pkg" / "_native.pyd").exists()
    monkeypatch.setattr(shutil, "rmtree", real_rmtree)  # the .pyd was unloaded
    remove_leftovers(venv.parent)
    assert list(venv.parent.iterdir()) == []


def test_remove_later_frees_the_path_at_once_and_removes_in_the_background(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    venv = tmp_path / "venvs" / "abc"
    (venv / "lib" / "pkg").mkdir(parents=True)
    (venv / "lib" / "pkg" / "big.so").write_bytes(b"x" * 1000)
    started = threading.Event()
    release = threading.Event()
    real_rmtree = shutil.rmtree

    def slow_rmtree(path: Any, *args: Any, **kwargs: Any) -> None:
        started.set()
        release.wait(10)
        real_rmtree(path, *args, **kwargs)

    monkeypatch.setattr(shutil, "rmtree", slow_rmtree)
    assert remove_tree_later(venv)
    assert not venv.exists()  # free for the next venv before the removal ends
    assert started.wait(10)
    (aside,) = [p for p in venv.parent.iterdir() if p.name.startswith(".removed-abc")]
    remove_leftovers(venv.parent)  # leaves what this process is removing to it
    assert aside.exists()
    release.set()
    finish_removals()
    assert list(venv.parent.iterdir()) == []
    assert remove_tree_later(tmp_path / "never")


def test_remove_later_removes_now_where_the_folder_cannot_be_renamed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    venv = tmp_path / "venvs" / "abc"
    (venv / "Lib").mkdir(parents=True)
    (venv / "Lib" / "_native.pyd").write_bytes(b"MZ")

    def refused(self: Path, target: Any) -> Path:
        raise _win_error(5)

    monkeypatch.setattr(Path, "rename", refused)
    assert remove_tree_later(venv)
    assert list(venv.parent.iterdir()) == []  # removed here and now, nothing moved aside


def test_an_absent_folder_is_removed_already(tmp_path: Path) -> None:
    assert remove_tree(tmp_path / "never")


def test_replace_retries_while_windows_says_in_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, target = tmp_path / "new", tmp_path / "memo.json"
    source.write_text("new", encoding="utf-8")
    target.write_text("old", encoding="utf-8")
    real = Path.replace
    failures = [_win_error(32), _win_error(5)]

    def busy_replace(self: Path, other: Any) -> Path:
        if failures:
            raise failures.pop(0)
        return real(self, other)

    monkeypatch.setattr(Path, "replace", busy_replace)
    monkeypatch.setattr(atomic, "_RETRY_DELAYS", (0.0,) * 5)
    replace_file(source, target)
    assert target.read_text(encoding="utf-8") == "new"
    # Any other refusal is not waited for.
    failures.append(PermissionError(13, "denied"))
    source.write_text("again", encoding="utf-8")
    with pytest.raises(PermissionError):
        replace_file(source, target)


def test_the_hash_memo_key_has_no_creation_time_on_windows(tmp_path: Path) -> None:
    wheel = tmp_path / "a.whl"
    wheel.write_bytes(b"PK")
    stat = wheel.stat()
    assert memo_key(stat, "win32") == [stat.st_size, stat.st_mtime_ns, stat.st_ino]
    assert memo_key(stat, "linux") == [*memo_key(stat, "win32"), stat.st_ctime_ns]


def test_uv_that_windows_will_not_start_is_a_setup_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Seen under Wine: CreateProcess failed with WinError 1359 while uv.exe was started.
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise OSError(22, "Internal error")

    monkeypatch.setattr("checker.probe.install.subprocess.run", refuse)
    with pytest.raises(SetupError) as raised:
        install.create_venv(r"C:\tools\uv.exe", tmp_path / "python.exe", tmp_path / "venv")
    message = str(raised.value)
    assert "cannot run uv 'C:\\\\tools\\\\uv.exe' (venv --quiet)" in message
    assert "Internal error" in message


# --- 3: text that crosses a process boundary -------------------------------------------------


def test_console_output_survives_a_cp1252_pipe() -> None:
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="cp1252", errors="strict")
    with pytest.raises(UnicodeEncodeError):
        stream.write("ImportError: \u2713 \u4e2d\n")
    console_safe(stream)
    print("ImportError: caf\u00e9 \u2713 \u4e2d", file=stream)
    stream.flush()
    assert raw.getvalue() == "ImportError: caf\u00e9 ? ?\n".encode("cp1252")


def test_a_child_python_writes_the_ansi_code_page_on_windows() -> None:
    getencoding = getattr(locale, "getencoding", None)
    expected = getencoding() if getencoding else locale.getpreferredencoding(False)
    assert child_stderr_encoding("win32") == expected
    assert child_stderr_encoding("linux") == "utf-8"


def test_probe_stderr_is_decoded_as_the_child_wrote_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "probe-stderr.log"
    log.write_bytes(
        "\n[native-check] importing pkg._c\nOSError: caf\u00e9 \u00fcber\n".encode("cp1252")
    )
    monkeypatch.setattr(runner, "child_stderr_encoding", lambda: "cp1252")
    assert runner._stderr_tail(log, "pkg._c") == "OSError: caf\u00e9 \u00fcber"


# --- 6: crashes as Windows reports them -------------------------------------------------------


def test_fast_fail_is_named_for_all_its_causes() -> None:
    text = signal_name(0xC0000409)
    assert "fast-fail" in text and "abort()" in text and "0xC0000409" in text
    assert signal_name(3221226505) == text  # as subprocess reports it on Windows


def test_an_unknown_windows_exception_status_is_shown_in_hex() -> None:
    # Wine's unimplemented-function stub (EXCEPTION_WINE_STUB), as subprocess reports it
    assert signal_name(2147483904) == "exit status 0x80000100"
    assert signal_name(0xC0000142) == "exit status 0xC0000142"  # DLL initialization failed
    assert signal_name(3) == "exit status 3"  # an ordinary exit status stays decimal


def test_a_windows_fatal_exception_line_is_kept() -> None:
    tail = (
        "Windows fatal exception: access violation\n\nCurrent thread 0x00001a2c (most recent "
        'call first):\n  File "C:\\v\\Lib\\site-packages\\pkg\\__init__.py", line 3 in <module>\n'
    )
    result = classify({"module": "pkg._c", "crash": "access violation", "stderr": tail}, None, CTX)
    assert result.kind == "crash"
    assert "Windows fatal exception: access violation" in (result.error or "")
    assert "pkg\\__init__.py" in (result.error or "")


def test_fatal_lines_are_the_cause_not_the_dumps() -> None:
    assert fatal_lines(NO_ENCODINGS) == [
        "Fatal Python error: init_fs_encoding: failed to get the Python codec of the "
        "filesystem encoding",
        "ModuleNotFoundError: No module named 'encodings'",
    ]
    assert fatal_lines("Traceback (most recent call last):\nValueError: x\n") == []


# --- 7: loader errors ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "kind", "words"),
    [
        ("DLL load failed while importing _c: %1 is not a valid Win32 application.",
         "architecture", "%1 is not a valid Win32 application"),
        ("DLL load failed while importing _c: A dynamic link library (DLL) initialization "
         "routine failed.", "loader", "initialization routine failed"),
        ("dlopen(/v/pkg/_c.so, 0x0002): tried: '/v/pkg/_c.so' (mach-o file, but is an "
         "incompatible architecture (have 'x86_64', need 'arm64'))", "architecture",
         "have 'x86_64', need 'arm64'"),
        ("dlopen(/v/pkg/_c.so, 0x0002): Library not loaded: @rpath/libx.dylib\n  Reason: tried: "
         "'/v/pkg/libx.dylib' (mach-o file, but is an incompatible architecture (have 'arm64', "
         "need 'x86_64'))", "architecture", "@rpath/libx.dylib"),
        ("dlopen(/v/pkg/_c.so, 0x0002): tried: '/v/pkg/_c.so' (code signature in <1A2B> "
         "'/v/pkg/_c.so' not valid for use in process: mapped file has no Team ID and is not "
         "a platform binary)", "loader", "code signature"),
    ],
    ids=["win-machine", "win-dllmain", "mac-arch", "mac-arch-dependency", "mac-signature"],
)  # fmt: skip
def test_loader_errors_are_classified(message: str, kind: str, words: str) -> None:
    raw = {"module": "pkg._c", "ok": False, "exc_type": "ImportError", "message": message}
    result = classify(raw, None, CTX)
    assert result.kind == kind
    assert words in (result.error or "")


# --- 8: the probe's environment on Windows ----------------------------------------------------


def test_the_probe_environment_on_windows(tmp_path: Path) -> None:
    sandbox = Sandbox(tmp_path / "sandbox")
    sandbox.create()
    environ = {
        "PATH": "C:\\Windows\\system32;C:\\mingw64\\bin;C:\\msys64\\usr\\bin;"
        "C:\\tools\\cygwin\\bin;C:\\rtools44\\x86_64-w64-mingw32.static.posix\\bin;"
        "C:\\Program Files\\Git\\cmd;C:\\hostedtoolcache\\Python\\3.12.9\\x64",
        "USERNAME": "runneradmin",
        "PYTHONPATH": "C:\\elsewhere",
    }
    env = sandbox.environment(environ=environ, platform="win32")
    assert env["USERNAME"] == "runneradmin"  # getpass.getuser() needs it on Windows
    assert "PYTHONPATH" not in env
    assert env["PATH"].split(";") == [
        "C:\\Windows\\system32",
        "C:\\Program Files\\Git\\cmd",
        "C:\\hostedtoolcache\\Python\\3.12.9\\x64",
    ]
    assert Path(env["APPDATA"]).is_dir() and Path(env["LOCALAPPDATA"]).is_dir()
    # Kept whole when asked for, and never touched off Windows.
    assert (
        sandbox.environment(("PATH",), environ=environ, platform="win32")["PATH"]
        == (environ["PATH"])
    )
    assert sandbox.environment(environ=environ, platform="linux")["PATH"] == environ["PATH"]
    assert probe_path("C:\\MinGW\\bin;D:\\ok") == "D:\\ok"


# --- 9: bytecode sharing off Linux ------------------------------------------------------------


def test_windows_sources_are_stat_ed_for_their_file_index(tmp_path: Path) -> None:
    source = tmp_path / "mod.py"
    source.write_text("x = 1\n", encoding="utf-8")

    class WindowsEntry:  # DirEntry.stat() on Windows: st_ino 0
        path = str(source)

        def stat(self, follow_symlinks: bool = True) -> os.stat_result:
            real = source.stat()
            return os.stat_result((real.st_mode, 0, 0, *tuple(real)[3:10]))

    entry: Any = WindowsEntry()
    assert bytecode._stat(entry, "win32").st_ino == source.stat().st_ino != 0
    assert bytecode._stat(entry, "linux").st_ino == 0


def test_macos_clones_share_by_their_bytes(tmp_path: Path) -> None:
    one, clone, other = tmp_path / "a.py", tmp_path / "b.py", tmp_path / "c.py"
    one.write_text("x = 1\n", encoding="utf-8")
    shutil.copy2(one, clone)  # a clone: another inode, the same bytes and mtime
    other.write_text("x = 2\n", encoding="utf-8")
    os.utime(other, ns=(one.stat().st_atime_ns, one.stat().st_mtime_ns))
    key = bytecode._key
    assert key(one, one.stat(), "darwin") == key(clone, clone.stat(), "darwin")
    assert key(one, one.stat(), "darwin") != key(other, other.stat(), "darwin")
    assert key(one, one.stat(), "linux") != key(clone, clone.stat(), "linux")


# --- 10: macOS tags from an interpreter built against an old SDK ------------------------------


def test_macos_10_16_is_left_to_packaging() -> None:
    assert macos_version("10.16") is None  # packaging then asks the system (its own fix)
    assert macos_version("14.2.1") == (14, 2)
    assert macos_version("11") == (11, 0)
    assert macos_version("10.15.7") == (10, 15)
    assert macos_version("") is None


# --- 11: -P 3.12 on Windows -------------------------------------------------------------------


def test_a_version_on_windows_is_found_with_the_launcher(monkeypatch: pytest.MonkeyPatch) -> None:
    which = {"py": "C:\\Windows\\py.exe", "python": "C:\\Python311\\python.exe"}
    monkeypatch.setattr(shutil, "which", which.get)
    answers = {
        "C:\\Windows\\py.exe": "C:\\Program Files\\Python312\\python.exe\n3.12\n",
        "C:\\Python311\\python.exe": "C:\\Python311\\python.exe\n3.11\n",
    }

    def fake_run(command: list[str], **_kwargs: Any) -> subprocess.CompletedProcess[str]:
        if command[0] == "C:\\Windows\\py.exe" and command[1] != "-3.12":
            return subprocess.CompletedProcess(command, 103, "", "No suitable Python runtime")
        return subprocess.CompletedProcess(command, 0, answers[command[0]], "")

    monkeypatch.setattr(subprocess, "run", fake_run)
    assert find_windows_version("3.12") == "C:\\Program Files\\Python312\\python.exe"
    assert find_windows_version("3.11") == "C:\\Python311\\python.exe"  # python.exe on PATH
    assert find_windows_version("3.13") is None
