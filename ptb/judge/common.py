"""Shared by the checks: the shape of a check's result, and a walk of agent-controlled trees."""

from __future__ import annotations

import os
import stat
from pathlib import Path

EVIDENCE_CAP = 20  # list entries kept in evidence: a verdict stays readable however bad the run


def result(name: str, passed: bool, summary: str, **evidence) -> dict:
    return {"name": name, "passed": bool(passed), "evidence": evidence, "summary": summary}


def walk_files(root: str | Path) -> tuple[list[Path], list[str]]:
    """Regular files under root, sorted, and the paths that could not be read.

    Symlinks are never followed or read: the tree is agent-controlled, and a link could
    point the judge at /dev/zero, at a loop, or at files outside the run.
    """
    root = Path(root)
    files: list[Path] = []
    unreadable: list[str] = []

    def onerror(err: OSError) -> None:
        unreadable.append(str(Path(err.filename).relative_to(root)) if err.filename else str(err))

    if not root.is_dir():
        return files, unreadable
    for dirpath, dirnames, filenames in os.walk(root, onerror=onerror, followlinks=False):
        dirnames.sort()
        for name in sorted(filenames):
            path = Path(dirpath) / name
            try:
                mode = path.lstat().st_mode
            except OSError:
                unreadable.append(str(path.relative_to(root)))
                continue
            if stat.S_ISREG(mode):
                files.append(path)
    # by path, as promised: os.walk lists a directory's files before its subdirectories'
    return sorted(files), unreadable
