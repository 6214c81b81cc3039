"""The probes of this process that are importing now: the set check waits for such a probe's
result instead of importing the module once more on its own (checker.setcheck.probed).

When a module fails in the set venv's import passes, the set check asks whether it fails
alone too. Its wheel's probe answers that, and when the probe is importing at that moment
its answer is seconds away: on the torch folder the set check imported ``functorch._C``
alone (1.2 s of a core) while torch's probe, beside it, was about to record the same
failure. Only a probe that has begun its imports is waited for: one still installing could
keep the set check, and the pipeline slot it holds, longer than the import alone.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

from checker.wheel.fragment import Fragment


@dataclass
class _Probe:
    ended: threading.Event = field(default_factory=threading.Event)
    result: Fragment | None = None


_IMPORTING: dict[Path, _Probe] = {}  # by the fragment the probe writes
_GUARD = threading.Lock()


def importing(fragment: Path) -> None:
    """The probe that writes ``fragment`` has begun its imports."""
    with _GUARD:
        _IMPORTING.setdefault(fragment, _Probe())


def ended(fragment: Path, result: Fragment | None) -> None:
    """The probe that writes ``fragment`` ended with ``result`` (None: it failed)."""
    with _GUARD:
        probe = _IMPORTING.pop(fragment, None)
    if probe is not None:
        probe.result = result
        probe.ended.set()


def result_if_importing(fragment: Path) -> Fragment | None:
    """The result of the probe that writes ``fragment``, once it ends, when it is importing
    now; None at once when it is not."""
    with _GUARD:
        probe = _IMPORTING.get(fragment)
    if probe is None:
        return None
    probe.ended.wait()
    return probe.result
