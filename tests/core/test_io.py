"""io.hash_tree: the one rule for hashing a folder, for links and dotfiles, in each of its uses;
io.record_path / recorded_path: how result files record paths."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

from ptb.core import io
from ptb.evaluation import eval_store


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def planted_tree(tmp_path):
    """model/ with weights, a dotfile, a dot-folder, a linked file and a linked folder (both to
    files outside it), and a dangling link."""
    outside = tmp_path / "outside"
    (outside / "sub").mkdir(parents=True)
    (outside / "secret.txt").write_text("outside")
    (outside / "sub" / "deep.txt").write_text("deep")
    root = tmp_path / "model"
    (root / ".cache" / "huggingface").mkdir(parents=True)
    (root / "weights.bin").write_text("w")
    (root / ".gitattributes").write_text("*.bin lfs")
    (root / ".cache" / "huggingface" / "info").write_text("download")
    os.symlink(outside / "secret.txt", root / "linked.txt")
    os.symlink(outside / "sub", root / "linked_dir")
    os.symlink(tmp_path / "nowhere", root / "dangling")
    return root


def test_links_are_skipped_unless_followed_and_linked_folders_never_entered(tmp_path):
    root = planted_tree(tmp_path)
    assert io.hash_tree(root) == {
        ".cache/huggingface/info": sha("download"),
        ".gitattributes": sha("*.bin lfs"),
        "weights.bin": sha("w"),
    }
    followed = io.hash_tree(root, follow_links=True)
    assert followed["linked.txt"] == sha("outside")  # a hub snapshot's file linked to its blob
    assert not any(key.startswith("linked_dir") or key == "dangling" for key in followed)
    os.symlink(root, tmp_path / "link_to_model")
    assert io.hash_tree(tmp_path / "link_to_model") == {}  # an agent's linked final_model
    assert io.hash_tree(tmp_path / "link_to_model", follow_links=True) == followed


def test_dotfiles_are_hashed_unless_left_out(tmp_path):
    root = planted_tree(tmp_path)
    assert io.hash_tree(root, follow_links=True, dotfiles=False) == {
        "linked.txt": sha("outside"),
        "weights.bin": sha("w"),
    }
    assert list(io.hash_tree(root)) == sorted(io.hash_tree(root))  # in path order


def test_the_evaluation_key_ignores_dotfiles_and_follows_links(tmp_path):
    """A copy of a model without .gitattributes, or with its files linked, is the same model."""
    root = planted_tree(tmp_path)
    digest = eval_store.model_digest(root)
    expected = hashlib.sha256(f"linked.txt\0{sha('outside')}\nweights.bin\0{sha('w')}\n".encode()).hexdigest()
    assert digest == expected
    (root / ".gitattributes").unlink()
    assert eval_store.model_digest(root) == digest
    (root / "weights.bin").write_text("w2")
    assert eval_store.model_digest(root) != digest


def test_recorded_paths_are_relative_to_the_recording_file_and_move_with_it(tmp_path, monkeypatch):
    checkout = tmp_path / "checkout"
    model = checkout / "results" / "cache" / "models" / "m"
    model.mkdir(parents=True)
    monkeypatch.chdir(checkout)
    record = checkout / "results" / "evals" / "cell" / "metrics.json"
    outside = tmp_path / "scratch" / "hf"  # a cache configured absolute, on another disk
    recorded = io.record_paths(
        {"model_path": "results/cache/models/m", "log_file": str(outside), "reused_from": None},
        ("model_path", "log_file", "reused_from"),
        record,
    )
    assert recorded == {"model_path": "../../cache/models/m", "log_file": str(outside), "reused_from": None}
    moved = tmp_path / "elsewhere" / "checkout"
    shutil.copytree(checkout, moved)
    moved_record = moved / "results" / "evals" / "cell" / "metrics.json"
    resolved = io.resolve_paths(recorded, ("model_path", "log_file", "reused_from"), moved_record)
    assert resolved["model_path"] == str(moved / "results" / "cache" / "models" / "m")
    assert Path(resolved["model_path"]).is_dir() and resolved["log_file"] == str(outside)
    # old results recorded absolute paths: taken as they are
    assert io.recorded_path(str(model), moved_record) == model
    # a recording file outside the workdir (a results_dir configured absolute) records absolute paths
    assert io.record_path(model, tmp_path / "abs-results" / "x.json") == str(model)
