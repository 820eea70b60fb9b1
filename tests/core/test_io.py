"""io.hash_tree: the one rule for hashing a folder, for links and dotfiles, in each of its uses."""

from __future__ import annotations

import hashlib
import os

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
