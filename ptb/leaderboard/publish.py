"""Publish the leaderboard and audit pages only once a build of them is whole.

Snakemake deletes a job's declared outputs before it runs it, and a failed job's outputs after.
So the leaderboard and audit rules declare their outputs in a build folder
(ptb.core.paths.LEADERBOARD_BUILD_DIR) and, once every file of the job is written there, copy
them to the published folder (LEADERBOARD_DIR, the paths the README names): a kill, a full disk
or a bad value during a rebuild leaves the last good pages in place, each file whole.

Two phases: every file is first copied to a hidden name beside its target and fsynced (a failure
here removes the copies and changes nothing), then each is renamed over its target, pages last.
Only a kill within the renames (microseconds per file) leaves a mix of two whole versions.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def _staged(target: Path) -> Path:
    # a fixed name: a copy left by a killed publish is overwritten by the next one
    return target.with_name(f".{target.name}.publishing")


def mirror(files, build_dir, published_dir) -> list[tuple[Path, Path]]:
    """(build file, published file) pairs: each file's path relative to build_dir, under published_dir."""
    return [(Path(f), Path(published_dir) / Path(f).relative_to(build_dir)) for f in files]


def publish(pairs) -> list[Path]:
    """Copy each (build file, published file) pair's build file over its published one; returns
    the published paths. Raises, changing nothing published, if a copy fails (a full disk)."""
    pairs = sorted(((Path(b), Path(p)) for b, p in pairs), key=lambda pair: pair[1].suffix == ".html")
    staged = []  # pages last (sorted is stable): what they show is in place before them
    try:
        for source, target in pairs:
            target.parent.mkdir(parents=True, exist_ok=True)
            temp = _staged(target)
            staged.append(temp)
            shutil.copyfile(source, temp)
            with open(temp, "rb+") as handle:
                os.fsync(handle.fileno())
    except BaseException:
        for temp in staged:
            temp.unlink(missing_ok=True)
        raise
    for (_, target), temp in zip(pairs, staged):
        os.replace(temp, target)
    return [target for _, target in pairs]
