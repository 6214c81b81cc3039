"""Find the binaries of a wheel by their first bytes and index where its files land."""

from __future__ import annotations

import logging
import posixpath
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field

from checker.binary import BinaryFormatError, BinaryInfo, sniff
from checker.wheel.contents import WheelContents
from checker.wheel.modules import entry_points

logger = logging.getLogger(__name__)

_UNREADABLE = (
    BinaryFormatError,
    zipfile.BadZipFile,
    OSError,
    EOFError,
    zlib.error,
    NotImplementedError,  # a compression method zipfile lacks
    RuntimeError,  # an encrypted member
)


@dataclass(frozen=True)
class WheelBinary:
    """A binary member of the wheel."""

    member: str
    installed: str
    """Path relative to site-packages (the member name for files that land elsewhere)."""
    info: BinaryInfo
    module: str
    is_extension: bool


@dataclass(frozen=True)
class WheelIndex:
    """Where the wheel's files land, for resolving library names without a file system."""

    files: frozenset[str]
    lower: dict[str, str]
    """Case-folded installed path -> installed path (for Windows)."""
    lib_folders: dict[str, list[str]] = field(default_factory=dict)
    """Base name (and ELF soname) -> installed paths inside ``*.libs``/``.libs`` folders."""
    by_basename: dict[str, list[str]] = field(default_factory=dict)
    """Case-folded base name -> installed paths, anywhere in the wheel."""


def installed_path(contents: WheelContents, member: str) -> str:
    return contents.installed_path(member) or member


def _is_lib_folder(folder: str) -> bool:
    return any(part.endswith(".libs") for part in folder.split("/") if part)


def build_index(contents: WheelContents, binaries: list[WheelBinary]) -> WheelIndex:
    files = {installed_path(contents, m) for m in contents.names if not m.endswith("/")}
    lib_folders: dict[str, list[str]] = {}
    by_basename: dict[str, list[str]] = {}
    for path in sorted(files):
        by_basename.setdefault(posixpath.basename(path).lower(), []).append(path)
        if _is_lib_folder(posixpath.dirname(path)):
            lib_folders.setdefault(posixpath.basename(path), []).append(path)
    for binary in binaries:
        soname = binary.info.slices[0].soname if binary.info.format == "elf" else None
        if soname and _is_lib_folder(posixpath.dirname(binary.installed)):
            paths = lib_folders.setdefault(soname, [])
            if binary.installed not in paths:
                paths.append(binary.installed)
    return WheelIndex(
        files=frozenset(files),
        lower={path.lower(): path for path in sorted(files)},
        lib_folders=lib_folders,
        by_basename=by_basename,
    )


def module_name(installed: str, info: BinaryInfo) -> tuple[str, bool]:
    """(dotted module name, True) for an extension module, else (installed path, False).

    An extension module exports ``PyInit_<leaf>`` or ``PyModExport_<leaf>`` (PEP 793; the
    ``U`` variants for a non-ASCII leaf) and sits in importable folders.
    """
    folder, leaf = posixpath.split(installed)
    stem = leaf.split(".", 1)[0]
    parts = folder.split("/") if folder else []
    importable = stem.isidentifier() and all(p.isidentifier() for p in parts)
    if importable and any(name in info.exports for name in entry_points(stem)):
        return ".".join([*parts, stem]), True
    return installed, False


def iter_binaries(contents: WheelContents) -> Iterator[WheelBinary]:
    """Every readable binary of the wheel, found by magic number: only the first bytes of the
    others are read; a binary is parsed from its bytes on disk (checker.wheel.members)."""
    for info in contents.zip.infolist():
        if info.is_dir() or info.file_size < 4:
            continue
        try:
            if sniff(contents.store.head(info.filename)) is None:
                continue
            binary = contents.binary(info.filename)
        except _UNREADABLE as exc:
            logger.warning(
                "%s: %s: skipped by the static audit: %s", contents.path.name, info.filename, exc
            )
            continue
        installed = installed_path(contents, info.filename)
        module, is_extension = module_name(installed, binary)
        yield WheelBinary(info.filename, installed, binary, module, is_extension)
