"""Where the command-line tools write: a folder that does not exist is created only when asked
(`--mkdir`), and then said, so that a typo (`--json /x/y.json`) never makes folders at `/`."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_mkdir_argument(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--mkdir", action="store_true", help=f"create {what} if it does not exist (named on stderr)"
    )


def missing_folders(folder: str | Path) -> list[Path]:
    """The folders of `folder` (absolute) that do not exist yet, outermost first."""
    folder = Path(folder).absolute()
    return [p for p in reversed([folder, *folder.parents]) if not p.exists()]


def ensure_folder(folder: str | Path, *, create: bool, option: str) -> list[Path]:
    """Check that `folder` exists, or create it when `create` (returning what was made);
    a missing one otherwise is a ValueError naming it and the flag that creates it."""
    missing = missing_folders(folder)
    if missing and not create:
        raise ValueError(f"{option}: {missing[0]} does not exist (--mkdir creates it)")
    for path in missing:
        path.mkdir()
    return missing
