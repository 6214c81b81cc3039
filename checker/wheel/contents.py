"""Open a wheel: name, metadata, layout (where each member lands) and extension candidates."""

from __future__ import annotations

import email.parser
import logging
import posixpath
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from packaging.utils import (
    InvalidWheelFilename,
    NormalizedName,
    canonicalize_name,
    parse_wheel_filename,
)
from packaging.utils import canonicalize_version as _canonicalize_version

from checker.binary import BinaryInfo, read_binary_file
from checker.findings import Finding
from checker.wheel.members import MemberStore

log = logging.getLogger(__name__)

# Where members of ``{dist}.data/<scheme>/`` land relative to site-packages.
_SITE_SCHEMES = ("purelib", "platlib")


@dataclass(frozen=True)
class WheelContents:
    """What a valid wheel holds; the zip stays open for the audit (use as a context manager)."""

    path: Path
    project: NormalizedName
    version: str
    dist_info: str
    data_dir: str
    requires_dist: tuple[str, ...]
    tags: frozenset[str]
    names: tuple[str, ...]
    zip: zipfile.ZipFile
    # Member bytes read once, from the installed files or one streaming extraction (members.py).
    store: MemberStore = field(compare=False, repr=False, default=None)  # type: ignore[assignment]
    _parsed: dict[str, BinaryInfo] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.store is None:
            object.__setattr__(self, "store", MemberStore(self.zip))

    def __enter__(self) -> WheelContents:
        return self

    def __exit__(self, *exc: object) -> None:
        self._parsed.clear()
        self.store.close()
        self.zip.close()

    def binary(self, member: str) -> BinaryInfo:
        """The parsed binary ``member`` (parsed once per wheel, through mmap of its bytes on
        disk; BinaryFormatError if it is not one)."""
        info = self._parsed.get(member)
        if info is None:
            info = read_binary_file(self.store.path(member), member)
            self._parsed[member] = info
        return info

    def installed_path(self, member: str) -> str | None:
        """Where ``member`` lands relative to site-packages (None: outside it or metadata)."""
        prefix = self.data_dir + "/"
        if member.startswith(prefix):
            scheme, _, rest = member[len(prefix) :].partition("/")
            return rest or None if scheme in _SITE_SCHEMES else None
        return member

    def landing_path(self, member: str, *, windows: bool = False) -> str | None:
        """Where ``member`` lands relative to site-packages, also outside it: ``.data/data/``
        files in the venv's prefix (``../../../lib/x`` on POSIX, ``../../`` on Windows), scripts
        in its ``bin``/``Scripts``. None for headers and folders."""
        prefix = self.data_dir + "/"
        if member.endswith("/"):
            return None
        if not member.startswith(prefix):
            return member
        scheme, _, rest = member[len(prefix) :].partition("/")
        if not rest:
            return None
        up = "../.." if windows else "../../.."
        if scheme in _SITE_SCHEMES:
            return rest
        if scheme == "data":
            return posixpath.normpath(f"{up}/{rest}")
        if scheme == "scripts":
            return posixpath.normpath(f"{up}/{'Scripts' if windows else 'bin'}/{rest}")
        return None

    def top_level_names(self) -> frozenset[str]:
        """Import names this wheel provides at the top of site-packages."""
        found = set()
        for member in self.names:
            path = self.installed_path(member)
            if not path or path.startswith(self.dist_info + "/"):
                continue
            head = path.split("/", 1)[0]
            found.add(head.split(".", 1)[0])
        return frozenset(found)


@dataclass(frozen=True)
class Candidate:
    """A file that the target interpreter would treat as an extension module."""

    module: str  # dotted import name
    member: str  # name inside the zip
    installed: str  # path relative to site-packages
    suffix: str  # the extension suffix it matched
    other_interpreter: bool  # name still has a dot: built for another Python


def _corrupt(path: Path, message: str) -> Finding:
    return Finding("integrity", "integrity", "corrupt-wheel", f"{path.name}: {message}")


def open_wheel(path: Path) -> tuple[WheelContents | None, list[Finding]]:
    """Open and validate the wheel's structure; findings say why it cannot be used."""
    try:
        name, version, _build, tags = parse_wheel_filename(path.name)
    except InvalidWheelFilename as exc:
        return None, [_corrupt(path, f"invalid wheel file name: {exc}")]
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        return None, [_corrupt(path, f"not a valid zip archive: {exc}")]
    try:
        contents, findings = _read_layout(path, archive, name, str(version), tags)
    except (zipfile.BadZipFile, OSError, EOFError, UnicodeDecodeError, ValueError) as exc:
        findings, contents = [_corrupt(path, f"unreadable archive: {exc}")], None
    if contents is None:
        archive.close()
    return contents, findings


def _read_layout(
    path: Path,
    archive: zipfile.ZipFile,
    name: NormalizedName,
    version: str,
    tags: frozenset[object],
) -> tuple[WheelContents | None, list[Finding]]:
    names = tuple(archive.namelist())
    dist_infos = sorted(
        {n.split("/", 1)[0] for n in names if n.split("/", 1)[0].endswith(".dist-info")}
    )
    if len(dist_infos) != 1:
        found = ", ".join(map(repr, dist_infos)) or "none"
        return None, [_corrupt(path, f"expected exactly one .dist-info folder, found {found}")]
    dist_info = dist_infos[0]
    info_name = dist_info[: -len(".dist-info")].rpartition("-")[0]
    if canonicalize_name(info_name) != name:
        return None, [
            _corrupt(path, f"{dist_info!r} does not belong to project {name!r} of the file name")
        ]
    missing = [f for f in ("WHEEL", "METADATA", "RECORD") if f"{dist_info}/{f}" not in names]
    if missing:
        return None, [_corrupt(path, f"{dist_info}/ lacks {', '.join(missing)}")]
    metadata = email.parser.BytesParser().parsebytes(archive.read(f"{dist_info}/METADATA"))
    meta_name, meta_version = metadata.get("Name"), metadata.get("Version")
    if meta_name is None or canonicalize_name(str(meta_name)) != name:
        return None, [_corrupt(path, f"METADATA Name {meta_name!r} does not match the file name")]
    if meta_version is None or canonicalize_version(str(meta_version)) != canonicalize_version(
        version
    ):
        return None, [
            _corrupt(path, f"METADATA Version {meta_version!r} does not match {version!r}")
        ]
    contents = WheelContents(
        path=path,
        project=name,
        version=version,
        dist_info=dist_info,
        data_dir=dist_info[: -len(".dist-info")] + ".data",
        requires_dist=tuple(str(r) for r in metadata.get_all("Requires-Dist") or ()),
        tags=frozenset(str(t) for t in tags),
        names=names,
        zip=archive,
    )
    return contents, []


def canonicalize_version(value: str) -> str:
    return str(_canonicalize_version(value, strip_trailing_zero=False))


def extension_candidates(contents: WheelContents, ext_suffixes: Sequence[str]) -> list[Candidate]:
    """Files the target would import as extensions, mapped to module names as installed."""
    suffixes = sorted(ext_suffixes, key=len, reverse=True)
    found = []
    for member in contents.names:
        installed = contents.installed_path(member)
        if not installed or installed.endswith("/"):
            continue
        suffix = next((s for s in suffixes if installed.endswith(s)), None)
        if suffix is None:
            continue
        folder, leaf = posixpath.split(installed[: -len(suffix)])
        parts = folder.split("/") if folder else []
        # Folders with a dot or dash (numpy.libs, x.dist-info) are not packages.
        if not leaf or any(not p or "." in p or "-" in p for p in parts):
            continue
        module = ".".join([*parts, leaf.split(".", 1)[0]])
        found.append(Candidate(module, member, installed, suffix, other_interpreter="." in leaf))
    return sorted(found, key=lambda c: (c.module, c.member))
