"""The judge's walk of an agent-controlled tree: what it cannot read it names, never skips silently;
links are never followed. (Root reads every mode bit, so the faults are planted in os itself.)"""

from __future__ import annotations

import os
from pathlib import Path

from ptb.judge.common import walk_files


def tree(root: Path) -> Path:
    (root / "data" / "locked").mkdir(parents=True)
    (root / "data" / "locked" / "answers.jsonl").write_text("{}\n")
    (root / "data" / "train.jsonl").write_text("{}\n")
    (root / "data" / "vanishing.txt").write_text("soon gone\n")
    (root / "link_to_etc").symlink_to("/etc")
    (root / "link_to_passwd").symlink_to("/etc/passwd")
    return root


def test_a_directory_that_cannot_be_listed_is_named(tmp_path, monkeypatch):
    root = tree(tmp_path / "job")
    scandir = os.scandir

    def refusing(path="."):
        if str(path).endswith("locked"):
            raise PermissionError(13, "Permission denied", str(path))
        return scandir(path)

    monkeypatch.setattr(os, "scandir", refusing)
    files, unreadable = walk_files(root)
    assert [p.relative_to(root).as_posix() for p in files] == ["data/train.jsonl", "data/vanishing.txt"]
    assert unreadable == ["data/locked"]


def test_a_file_that_vanishes_mid_walk_is_named(tmp_path, monkeypatch):
    root = tree(tmp_path / "job")
    lstat = Path.lstat

    def vanishing(self):
        if self.name == "vanishing.txt":
            raise FileNotFoundError(2, "No such file", str(self))
        return lstat(self)

    monkeypatch.setattr(Path, "lstat", vanishing)
    files, unreadable = walk_files(root)
    assert "data/vanishing.txt" not in [p.relative_to(root).as_posix() for p in files]
    assert unreadable == ["data/vanishing.txt"]


def test_links_are_never_followed_and_a_missing_root_is_empty(tmp_path):
    root = tree(tmp_path / "job")
    files, unreadable = walk_files(root)
    names = [p.relative_to(root).as_posix() for p in files]
    assert names == ["data/locked/answers.jsonl", "data/train.jsonl", "data/vanishing.txt"]
    assert unreadable == []
    assert walk_files(tmp_path / "nothing") == ([], [])
    assert walk_files(root / "data" / "train.jsonl") == ([], [])
