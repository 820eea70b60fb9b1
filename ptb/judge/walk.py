"""The files of the agent's trees for the contamination check, links read through.

A link is followed wherever it points (a link to the test split is evidence although the
agent never wrote the split), never into /proc, /sys or /dev and never to anything but a
regular file or a folder; each folder and each file (by device and inode) is visited once, so
loops end and hard links are read once. The tree is read by os.scandir: one stat per file.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

SYSTEM = ("/proc", "/sys", "/dev")
LINKED_FILES_CAP = 200_000  # files read through links: a link to / must not scan the machine


@dataclass
class Entry:
    rel: str  # as the agent sees it: "data/test.jsonl", or "link -> /where/it/points"
    path: Path  # what is opened
    size: int
    key: tuple[int, int]  # (device, inode)
    linked: bool = False  # reached through a link
    repository: bool = False  # a git dir: its objects are read with git too


@dataclass
class Walk:
    unreadable: list[str] = field(default_factory=list)
    seen_dirs: set[tuple[int, int]] = field(default_factory=set)
    linked_files: int = 0

    def files(self, root: Path, rel: str = "", linked: bool = False) -> Iterator[Entry]:
        """Every regular file under root (sorted by name per folder), links read through."""
        try:
            info = root.stat()
            if (info.st_dev, info.st_ino) in self.seen_dirs:
                return
            self.seen_dirs.add((info.st_dev, info.st_ino))
            with os.scandir(root) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError as err:
            self.unreadable.append(f"{rel or '.'}: {type(err).__name__}: {err}"[:300])
            return
        names = {e.name for e in entries}
        if "HEAD" in names and "objects" in names:
            yield Entry(rel or ".", root, 0, (info.st_dev, info.st_ino), linked, repository=True)
        subdirs = []
        for entry in entries:
            child = f"{rel}/{entry.name}" if rel else entry.name
            try:
                if entry.is_symlink():
                    yield from self._link(Path(entry.path), child)
                elif entry.is_dir(follow_symlinks=False):
                    subdirs.append((Path(entry.path), child))
                elif entry.is_file(follow_symlinks=False) and self._room(linked, child):
                    info = entry.stat(follow_symlinks=False)
                    yield Entry(child, Path(entry.path), info.st_size, (info.st_dev, info.st_ino), linked)
            except OSError as err:
                self.unreadable.append(f"{child}: {type(err).__name__}: {err}"[:300])
        for path, child in subdirs:
            yield from self.files(path, child, linked)

    def _link(self, path: Path, rel: str) -> Iterator[Entry]:
        target = os.path.realpath(path)
        shown = f"{rel} -> {target}"
        if any(target == p or target.startswith(p + "/") for p in SYSTEM):
            self.unreadable.append(f"{shown}: a system path, not read")
            return
        try:
            info = os.stat(target)
        except OSError as err:  # dangling, or a loop of links
            self.unreadable.append(f"{shown}: {type(err).__name__}: {err}"[:300])
            return
        if stat.S_ISDIR(info.st_mode):
            yield from self.files(Path(target), shown, linked=True)
        elif stat.S_ISREG(info.st_mode):
            if self._room(True, shown):
                yield Entry(shown, Path(target), info.st_size, (info.st_dev, info.st_ino), linked=True)
        else:
            self.unreadable.append(f"{shown}: not a regular file, not read")

    def _room(self, linked: bool, rel: str) -> bool:
        if not linked:
            return True
        self.linked_files += 1
        if self.linked_files == LINKED_FILES_CAP + 1:
            self.unreadable.append(f"{rel}: over {LINKED_FILES_CAP} files through links; the rest not read")
        return self.linked_files <= LINKED_FILES_CAP
