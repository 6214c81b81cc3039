"""The crash report's stderr tail keeps its cause: CPython 3.14+'s faulthandler adds about 25
lines of C stack after the fatal error line and the Python frames."""

from __future__ import annotations

from pathlib import Path

from checker.probe.classify import ImportContext, classify
from checker.probe.runner import _stderr_tail

# As CPython 3.14.10 prints it (captured from Debian sid's build), after the probe's marker.
_C_STACK = "\n".join(
    f'  Binary file "python3.14", at _frame{i}+0x4a [0x49b2{i:02x}]' for i in range(25)
)
STDERR_314 = f"""
[native-check] importing nicsegv._a
Fatal Python error: Segmentation fault

Current thread 0x00007f50d03ce200 [python3.14] (most recent call first):
  File "<frozen importlib._bootstrap>", line 491 in _call_with_frames_removed
  File "/venv/lib/python3.14/site-packages/nicsegv/__init__.py", line 3 in <module>
  File "/opt/checker/checker/probe/_probe.py", line 140 in probe_module

Current thread's C stack trace (most recent call first):
{_C_STACK}
"""


def test_the_fatal_line_and_the_python_frames_survive_the_c_stack(tmp_path: Path) -> None:
    log = tmp_path / "stderr.txt"
    log.write_text("[native-check] importing nicsegv\nearlier noise\n" + STDERR_314)
    tail = _stderr_tail(log, "nicsegv._a")
    assert "earlier noise" not in tail
    assert tail.splitlines()[0] == "Fatal Python error: Segmentation fault"
    assert '/site-packages/nicsegv/__init__.py", line 3 in <module>' in tail
    assert tail.splitlines()[-1].endswith("[0x49b218]")  # the last lines are kept too
    assert len(tail.splitlines()) < 30
    raw = {"module": "nicsegv._a", "ok": False, "crash": "signal SIGSEGV", "stderr": tail}
    result = classify(raw, None, ImportContext(declared=(), requirement_names=()))
    assert result.kind == "crash"
    assert "Fatal Python error: Segmentation fault" in str(result.error)
    assert "nicsegv/__init__.py" in str(result.error)
