"""The same set on every platform: several platforms' reports of one variant compared.

Each platform's check says whether its own folder works; none of them says whether the
folders hold the same projects. ``nox -s across -- PATH...`` reads the ``report.json`` files
(of ``check_native`` or ``nox -s audit``) or the fragment folders of several platforms and
reports, per variant:

- ``platform-gap``: a project on some of the compared platforms and not on others (a user
  installing the variant's requirements with ``--no-index --find-links`` fails there);
- ``version-skew`` (a warning; a failure in strict mode): a project in different versions on
  different platforms;

except the projects the configuration declares platform-specific (checker.config.declared),
as long as they are on exactly the declared ones of the compared platforms.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.utils import (
    InvalidWheelFilename,
    canonicalize_name,
    canonicalize_version,
    parse_wheel_filename,
)

from checker.config.declared import PlatformSpecific
from checker.errors import InputFileError
from checker.wheel.fragment import read_fragment

REPORT = "report.json"


@dataclass
class PlatformSet:
    """One variant's projects on one platform: canonical name -> versions."""

    platform: str
    variant: str
    projects: dict[str, set[str]] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)

    def add(self, project: str | None, version: str | None, wheel: str) -> None:
        if not project or not version:
            try:
                name, parsed, _build, _tags = parse_wheel_filename(wheel)
            except InvalidWheelFilename:
                return
            project, version = str(name), str(parsed)
        name = canonicalize_name(project)
        self.projects.setdefault(name, set()).add(canonicalize_version(version))


@dataclass(frozen=True)
class AcrossFinding:
    kind: str  # "platform-gap" | "version-skew"
    variant: str
    project: str
    versions: dict[str, tuple[str, ...]]  # platform -> versions there (empty: not there)
    error: str
    severity: str = "error"  # "warning": version-skew

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "variant": self.variant,
            "project": self.project,
            "versions": {k: list(v) for k, v in self.versions.items()},
            "error": self.error,
            "severity": self.severity,
        }


@dataclass(frozen=True)
class AcrossVariant:
    variant: str
    platforms: tuple[str, ...]
    projects: int
    findings: tuple[AcrossFinding, ...]
    declared: tuple[str, ...]  # platform-specific projects found as declared


@dataclass(frozen=True)
class AcrossReport:
    variants: tuple[AcrossVariant, ...]
    sources: tuple[str, ...]
    strict: bool = False

    @property
    def findings(self) -> list[AcrossFinding]:
        return [f for v in self.variants for f in v.findings]

    @property
    def exit_code(self) -> int:
        failing = [f for f in self.findings if f.severity == "error" or self.strict]
        return 1 if failing else 0

    def to_json(self) -> dict[str, Any]:
        return {
            "exit_code": self.exit_code,
            "sources": list(self.sources),
            "variants": [
                {
                    "variant": v.variant,
                    "platforms": list(v.platforms),
                    "projects": v.projects,
                    "platform_specific": list(v.declared),
                    "findings": [f.to_json() for f in v.findings],
                }
                for v in self.variants
            ],
        }


def _load_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputFileError(f"{path}: cannot read a report: {exc}") from None
    if not isinstance(data, dict):
        raise InputFileError(f"{path}: not a report.json (a JSON object)")
    return data


def _from_report(path: Path, sets: dict[tuple[str, str], PlatformSet]) -> None:
    data = _load_json(path)
    parts = data["variants"] if isinstance(data.get("variants"), list) else [data]
    for part in parts:
        platform, variant, wheels = part.get("platform"), part.get("variant"), part.get("wheels")
        if not isinstance(platform, str) or not isinstance(variant, str):
            raise InputFileError(f"{path}: not a report.json: no platform and variant")
        if not isinstance(wheels, list):
            raise InputFileError(f"{path}: not a report.json: no wheels of {variant!r}")
        found = sets.setdefault((variant, platform), PlatformSet(platform, variant))
        found.sources.append(str(path))
        for wheel in wheels:
            found.add(wheel.get("project"), wheel.get("version"), str(wheel.get("wheel", "")))


def _from_fragments(paths: Iterable[Path], sets: dict[tuple[str, str], PlatformSet]) -> None:
    for path in paths:
        fragment = read_fragment(path)
        if fragment is None:
            continue
        key = (fragment.variant, fragment.platform)
        found = sets.setdefault(key, PlatformSet(fragment.platform, fragment.variant))
        found.sources.append(str(path.parent))
        found.add(fragment.project, fragment.version, fragment.wheel)


def read_sets(paths: Sequence[Path]) -> list[PlatformSet]:
    """Every (variant, platform) set of ``paths``: report.json files, folders holding them
    (at any depth, as downloaded CI artifacts do), or else folders of fragments."""
    sets: dict[tuple[str, str], PlatformSet] = {}
    for path in paths:
        if path.is_file():
            _from_report(path, sets)
        elif path.is_dir():
            reports = sorted(path.rglob(REPORT))
            for report in reports:
                _from_report(report, sets)
            if not reports:
                # Fragments are named {wheel}.json; the set check's starts with "_".
                fragments = sorted(path.rglob("*.whl.json"))
                if not fragments:
                    raise InputFileError(f"{path}: holds no {REPORT} and no fragments")
                _from_fragments(fragments, sets)
        else:
            raise InputFileError(f"{path}: no such report file or folder")
    return list(sets.values())


def _versions(sets: Sequence[PlatformSet], project: str) -> dict[str, tuple[str, ...]]:
    return {s.platform: tuple(sorted(s.projects.get(project, ()))) for s in sets}


def _compare(
    variant: str, sets: Sequence[PlatformSet], declared: PlatformSpecific
) -> AcrossVariant:
    platforms = tuple(sorted(s.platform for s in sets))
    ordered = sorted(sets, key=lambda s: s.platform)
    projects = sorted({p for s in sets for p in s.projects})
    findings: list[AcrossFinding] = []
    found_as_declared: list[str] = []
    for project in projects:
        versions = _versions(ordered, project)
        present = tuple(p for p, v in versions.items() if v)
        expected = tuple(p for p in platforms if p in declared.get(project, platforms))
        if project in declared and present == expected:
            found_as_declared.append(project)
            continue
        if present != expected:
            absent = [p for p in expected if p not in present]
            extra = [p for p in present if p not in expected]
            where = f"on {', '.join(present)}" + (f", not on {', '.join(absent)}" if absent else "")
            if extra:
                where += f" (declared platform-specific to {', '.join(expected) or 'none'})"
            findings.append(
                AcrossFinding(
                    "platform-gap",
                    variant,
                    project,
                    versions,
                    f"{project} is {where}: installing it with --no-index fails where it is "
                    "missing (declare it in platform-specific if that is intended)",
                )
            )
            continue
        distinct = {v for v in versions.values() if v}
        if len(distinct) > 1:
            shown = "; ".join(f"{p}: {', '.join(v)}" for p, v in versions.items() if v)
            findings.append(
                AcrossFinding(
                    "version-skew",
                    variant,
                    project,
                    versions,
                    f"{project} differs across platforms ({shown})",
                    severity="warning",
                )
            )
    return AcrossVariant(
        variant, platforms, len(projects), tuple(findings), tuple(found_as_declared)
    )


def compare_sets(
    sets: Sequence[PlatformSet],
    declared: Mapping[str, PlatformSpecific],
    common: PlatformSpecific,
    *,
    strict: bool = False,
) -> AcrossReport:
    """Per variant, the sets of its platforms compared. ``declared``: each configured
    variant's platform-specific projects; ``common``: those of a variant not configured (a
    single run's ``python-X.Y.Z``)."""
    by_variant: dict[str, list[PlatformSet]] = {}
    for item in sets:
        by_variant.setdefault(item.variant, []).append(item)
    variants = tuple(
        _compare(name, by_variant[name], declared.get(name, common)) for name in sorted(by_variant)
    )
    sources = tuple(sorted({source for s in sets for source in s.sources}))
    return AcrossReport(variants, sources, strict)
