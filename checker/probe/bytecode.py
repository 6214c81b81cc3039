"""Bytecode compiled once per run, not once per venv, where that is provably safe.

Probes write their bytecode into one tree (``-X pycache_prefix``) that mirrors each source
file's absolute path, so the same numpy in ten venvs would be compiled ten times. But uv
installs from its cache by hard links: the ``numpy/__init__.py`` of those venvs is one file,
the same device and inode. A ``.pyc`` compiled from that file is valid at every path of it
(Python checks a ``.pyc`` against its source's mtime and size, and sets the code's file name
to the path it is loaded for). So after a probe of a venv new to the tree, the sources whose
bytecode was written are remembered by (device, inode, mtime, size); before the probe of the
next new venv, the bytecode of each of its sources that is the same file is hard-linked to
where Python will look for it.

Safety: a source is matched only while the file it was compiled from still exists as the
same inode (an inode number is reused only after its last link is gone), with the same mtime
and size. Where uv copies instead of linking (another file system), inodes differ and nothing
is shared. Venvs whose mirror already exists (warm runs: the same wheel bytes at the same
path) are left alone. The index lives in this process (a sequential or ``--jobs`` run).

Off Linux: on Windows ``DirEntry.stat()`` leaves st_ino and st_dev 0, so each source is
stat'ed with ``os.stat`` (which reads the file index). On macOS uv clones files (APFS
``clonefile``) instead of hard-linking them: a clone is a new inode with the same bytes, so
there a source is known by (size, mtime, sha256 of its bytes) — the same bytes with the same
mtime and size is all a ``.pyc`` is valid for.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

log = logging.getLogger(__name__)

_Key = tuple[object, ...]  # st_dev, st_ino, st_mtime_ns, st_size (macOS: size, mtime, sha256)


def mirror(prefix: Path, path: Path) -> Path:
    """Where ``-X pycache_prefix=prefix`` puts the bytecode of files under ``path``
    (as importlib's ``cache_from_source`` does: the absolute path, drive and root dropped)."""
    head = str(path.absolute())  # not resolved: importlib keeps symlinks in the path
    if head[1:2] == ":" and head[0] not in "/\\":  # importlib drops a drive letter
        head = head[2:]
    return prefix / head.lstrip("/\\")


def _sources(root: Path) -> Iterator[tuple[Path, os.stat_result]]:
    stack = [str(root)]
    while stack:
        try:
            entries = list(os.scandir(stack.pop()))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                elif entry.name.endswith(".py") and entry.is_file(follow_symlinks=False):
                    yield Path(entry.path), _stat(entry)
            except OSError:
                continue


def _stat(entry: os.DirEntry[str], platform: str = sys.platform) -> os.stat_result:
    """The entry's stat with a real inode: ``DirEntry.stat()`` has st_ino 0 on Windows."""
    if platform == "win32":
        return Path(entry.path).lstat()
    return entry.stat(follow_symlinks=False)


def _key(path: Path, stat: os.stat_result, platform: str = sys.platform) -> _Key:
    """What makes two sources one for their bytecode: the same file (hard links), or on
    macOS, where uv clones, the same bytes, mtime and size."""
    if platform == "darwin":
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        return (stat.st_size, stat.st_mtime_ns, digest)
    return (stat.st_dev, stat.st_ino, stat.st_mtime_ns, stat.st_size)


class SharedBytecode:
    """The bytecode of one run, shared between the venvs of its probes (see module doc)."""

    def __init__(self, prefix: Path, cache_tag: str) -> None:
        self.prefix = prefix
        self.cache_tag = cache_tag
        self._lock = threading.Lock()
        self._compiled: dict[_Key, Path] = {}  # source file -> a path it was compiled at

    def pyc(self, source: Path) -> Path:
        """Where the probe's interpreter reads and writes ``source``'s bytecode."""
        return mirror(self.prefix, source.parent) / f"{source.stem}.{self.cache_tag}.pyc"

    def is_new(self, venv: Path) -> bool:
        """No bytecode was ever written for this venv's path."""
        return not mirror(self.prefix, venv).exists()

    def seed(self, venv: Path) -> int:
        """Link the bytecode of every source of ``venv`` that is a file compiled before;
        returns how many were linked."""
        linked = 0
        for source, stat in _sources(venv):
            with self._lock:
                origin = self._compiled.get(_key(source, stat))
            if origin is None or not _same_file(origin, source, stat):
                continue
            target = self.pyc(source)
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                os.link(self.pyc(origin), target)
                linked += 1
            except OSError:  # already there, or no hard links here: Python compiles it
                continue
        log.debug("%s: %d bytecode files linked from earlier venvs", venv, linked)
        return linked

    def remember(self, venv: Path) -> None:
        """Note the sources of ``venv`` whose bytecode now exists (after its probe)."""
        found = {}
        for source, stat in _sources(venv):
            if self.pyc(source).is_file():
                found[_key(source, stat)] = source
        with self._lock:
            for key, source in found.items():
                self._compiled.setdefault(key, source)


def _same_file(origin: Path, source: Path, stat: os.stat_result) -> bool:
    try:
        return _key(origin, origin.stat()) == _key(source, stat)
    except OSError:
        return False


@functools.cache
def shared_bytecode(prefix: Path, cache_tag: str) -> SharedBytecode:
    """The one index of this process for ``prefix`` and ``cache_tag`` (made on first use)."""
    return SharedBytecode(prefix, cache_tag)
