"""Issue 3's acceptance: the whole fixture corpus through `nox -s check_native`."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.integration.conftest import Corpus
from tests.support.noxrun import nox_run

pytestmark = pytest.mark.integration

# module -> (status, kind) expected from one nox run over the corpus folder.
EXPECTED_MODULES = {
    "nicsegv._a": ("failed", "crash"),
    "nicsegv._b": ("ok", None),
    "nicabort._a": ("failed", "crash"),
    "nicabort._b": ("ok", None),
    "nicexit._a": ("failed", "crash"),
    "nicexit._b": ("ok", None),
    "nichang._a": ("failed", "timeout"),
    "nichang._b": ("ok", None),
    "nicmissinglib._ext": ("failed", "missing-library"),
    "nicundefsym._ext": ("failed", "undefined-symbol"),
    "nicinitname._a": ("failed", "init-mismatch"),
    "nicctypes.libhelper": ("skipped", "not-a-module"),
    "nicdata._ext": ("ok", None),
    "3a7f__mypyc": ("ok", None),
    "nicparent._ext": ("failed", "exception"),
    "nicundeclared._ext": ("failed", "missing-python-module"),
    "nicdeclared._ext": ("failed", "missing-python-module"),
    "niccirc._ext": ("ok", None),
    "niccycle._ext": ("failed", "circular-import"),
    "nichome._ext": ("ok", None),
    "nicneedsdep._ext": ("skipped", "not-installed"),
    "nicwin._ext": ("skipped", "not-installed"),
}
# wheel project -> kinds of its install/integrity findings.
EXPECTED_FINDINGS = {
    "nic-needsdep": {"missing-dependency"},
    "nic-win": {"incompatible-wheel"},
}


# With --jobs 3 the crashing, hanging and failing wheels are checked side by side, ahead of
# their sessions: the verdict must be the same, and each session still reports its own wheel.
@pytest.mark.parametrize("jobs", ["1", "3"])
def test_corpus_through_nox_gives_every_status_and_kind(
    corpus: Corpus, tmp_path: Path, jobs: str
) -> None:
    env = {"NATIVE_CHECK_IMPORT_TIMEOUT": "3", "NATIVE_CHECK_JOBS": jobs}
    run = nox_run(tmp_path, corpus.packages, "-s", "check_native", env=env)
    code, output, report = run.code, run.output, run.report
    assert code == 1, output
    # One progress line per wheel, as its session ends: in session (= file name) order.
    lines = re.findall(r"^\[\s*(\d+)/\d+\] (\S+)  ", run.stdout, re.MULTILINE)
    wheels = sorted(p.name for p in corpus.packages.glob("*.whl"))
    assert [(int(n), w) for n, w in lines] == list(enumerate(wheels, 1)), run.stdout
    assert report is not None
    # The checks overlapped in time with three jobs, never with one.
    spans = sorted(
        (w["details"]["started"], w["details"]["started"] + w["duration"]) for w in report["wheels"]
    )
    overlaps = sum(1 for a, b in zip(spans, spans[1:]) if b[0] < a[1])
    assert (overlaps > 0) == (jobs == "3"), spans
    assert report is not None
    modules = {
        m["module"]: (m["status"], m["kind"]) for w in report["wheels"] for m in w["modules"]
    }
    assert {name: modules.get(name) for name in EXPECTED_MODULES} == EXPECTED_MODULES
    findings = {
        w["project"]: {f["kind"] for f in w["findings"]} for w in report["wheels"] if w["findings"]
    }
    for project, kinds in EXPECTED_FINDINGS.items():
        assert findings[project] == kinds
    garbage = next(w for w in report["wheels"] if w["wheel"].startswith("nic_garbage"))
    assert {f["kind"] for f in garbage["findings"]} == {"corrupt-wheel"}
    # A clean pure wheel in the same folder passes.
    assert next(w for w in report["wheels"] if w["project"] == "nic-somedep")["status"] == "passed"
