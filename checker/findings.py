"""The vocabulary of results: findings, module results and the closed list of kinds."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

# The closed list of failure kinds. README.md documents each; tests keep the two in sync.
KINDS: dict[str, str] = {
    # import stage
    "missing-library": "a shared library the extension links against is not found",
    "undefined-symbol": "the extension uses a symbol no loaded library defines",
    "symbol-version": "a versioned symbol (GLIBC_2.x, ...) is newer than the system/tag allows",
    "missing-python-module": "the import needs a Python module that is not installed",
    "init-mismatch": "the file name and its PyInit_<name>/PyModExport_<name> export disagree",
    "crash": "the import killed the interpreter (signal or fatal error)",
    "timeout": "the import did not finish within the import timeout",
    "circular-import": "a circular import that does not resolve in any order",
    "exception": "the package's own code raised during import",
    "loader": "the loader refused the binary (a DLL initialisation failed, a code signature was "
    "rejected)",
    "interpreter": "the wheel's venv interpreter cannot start (its fatal error line): nothing "
    "of the wheel can import; never whitelisted",
    "gil-enabled": "on a free-threaded interpreter, the import turned the GIL back on for the "
    "whole process: a warning",
    # static audit (also missing-library and symbol-version, found without importing)
    "external-library": "a library neither bundled nor on the platform policy's allow-list",
    "macos-version": "a Mach-O minimum macOS version newer than the wheel's macosx tag",
    "architecture": "a binary's architecture does not match the wheel's platform tag (static), "
    "or the loader says it is another machine's (import)",
    "abi3-violation": "an abi3 extension uses Python symbols outside the limited API it claims",
    "exec-stack": "an ELF library asks for an executable stack: glibc 2.41+ refuses to load it",
    "isa-level": "an x86-64 binary needs a CPU level (v2, v3, v4) above the configured floor",
    # install stage
    "missing-dependency": "a requirement has no wheel in the packages folder",
    "incompatible-wheel": "the wheel's tags do not fit this interpreter/platform",
    "install-error": "uv failed to create the venv or install the wheel for another reason",
    # wheel integrity
    "corrupt-wheel": "not a valid zip or not a valid wheel",
    "integrity": "a file does not match RECORD, or an unsafe archive path",
    # packages.lock
    "lock-missing": "a wheel pinned in packages.lock is not in the packages folder",
    "lock-extra": "a wheel of the packages folder is not pinned in packages.lock",
    "lock-changed": "a wheel's bytes differ from its pin in packages.lock (never installed)",
    # the folder as one environment (the set check; pseudo-module "set")
    "file-collision": "two wheels install the same file path with different contents",
    "not-co-installable": "the folder cannot be installed as one environment (uv's reason)",
    "co-import": "a module that imports alone fails or crashes after other modules of the folder",
    "duplicate-runtime": "wheels bundle different builds of one runtime (OpenMP, OpenBLAS, ...): "
    "a warning",
    "unsatisfiable-requirement": "a declared requirement the folder cannot satisfy offline "
    "(uv's reason)",
    # the same set on every platform (nox -s across)
    "platform-gap": "a project in a variant's folder on some platforms and not on others",
    "version-skew": "a project in different versions on different platforms: a warning",
    # run bookkeeping
    "no-fragment": "the wheel's probe session left no fresh result",
}

# Kinds that warn: they fail the run only in strict mode (NATIVE_CHECK_STRICT_WHITELIST).
WARNING_KINDS = frozenset({"duplicate-runtime", "gil-enabled"})

# The kinds of nox -s across (across.json, never a wheel's or a set's finding in report.json).
ACROSS_KINDS = frozenset({"platform-gap", "version-skew"})

# Why a module was not imported (status "skipped"); not failures.
SKIP_KINDS: dict[str, str] = {
    "not-a-module": (
        "a shared library without PyInit_<name>/PyModExport_<name>: loaded by ctypes/cffi, "
        "not imported"
    ),
    "other-interpreter": "an extension built for another interpreter version",
    "skip-pattern": "matched a configured skip-modules pattern",
    "not-installed": "the wheel did not install, so nothing was imported",
    "optional-dependency": "needs a module declared only for an extra whose requirements the "
    "packages folder lacks",
}

# Pseudo-module names that key non-import findings in whitelists and reports.
PSEUDO_MODULES: dict[str, str] = {
    "install": "venv creation and offline install (missing-dependency, incompatible-wheel, ...)",
    "integrity": "zip, wheel metadata and RECORD checks (corrupt-wheel, integrity)",
    "lock": "the packages folder against packages.lock (lock-missing, lock-extra, lock-changed)",
    "fragment": "the wheel's probe session left no fresh fragment (no-fragment)",
    "set": "the folder as one environment (file-collision, not-co-installable, co-import, "
    "duplicate-runtime), keyed under each wheel concerned",
}


@dataclass(frozen=True)
class Finding:
    """A failure that is not an import result: install, integrity, static audit, ..."""

    stage: str  # "install" | "integrity" | "static" | "run"
    module: str  # whitelist key: a module name or a PSEUDO_MODULES name
    kind: str
    error: str
    file: str | None = None
    severity: str = "failure"  # "failure" | "warning" (fails only in strict mode)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        if self.severity == "failure":
            del data["severity"]  # the usual case, as fragments always had it
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Finding:
        return cls(
            stage=str(data["stage"]),
            module=str(data["module"]),
            kind=str(data["kind"]),
            error=str(data["error"]),
            file=data.get("file"),
            severity=str(data.get("severity") or "failure"),
        )


@dataclass(frozen=True)
class ModuleResult:
    """One extension module of a wheel and what importing it did."""

    module: str
    file: str | None  # path inside site-packages
    status: str  # "ok" | "failed" | "skipped"
    kind: str | None = None
    error: str | None = None
    note: str | None = None
    duration: float = 0.0
    explanation: tuple[Finding, ...] = ()
    """Static findings on this binary (or a library it loads) that explain a failed import:
    one failure whose message is the import error (see checker.probe.explain)."""

    @property
    def explained(self) -> str:
        """The error, then each static finding that explains it on a line of its own."""
        lines = [self.error or ""]
        lines += [f"explained by the static audit: [{f.kind}] {f.error}" for f in self.explanation]
        return "\n".join(line for line in lines if line)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["explanation"] = [finding.to_json() for finding in self.explanation]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ModuleResult:
        return cls(
            module=str(data["module"]),
            file=data.get("file"),
            status=str(data["status"]),
            kind=data.get("kind"),
            error=data.get("error"),
            note=data.get("note"),
            duration=float(data.get("duration") or 0.0),
            explanation=tuple(Finding.from_json(f) for f in data.get("explanation") or ()),
        )


@dataclass(frozen=True)
class SetFinding:
    """What the folder's wheels do together (the set check): names every wheel concerned."""

    kind: str
    wheels: tuple[str, ...]  # file names; the whitelist key may match any of them
    error: str
    severity: str = "failure"  # "failure" | "warning" (fails only in strict mode)

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "wheels": list(self.wheels)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SetFinding:
        return cls(
            kind=str(data["kind"]),
            wheels=tuple(map(str, data["wheels"])),
            error=str(data["error"]),
            severity=str(data.get("severity") or "failure"),
        )
