"""Evaluations keyed by what decides a score, so identical weights are scored once.

The key is a hash of the model folder's files (weights, tokenizer, config: every regular file,
symlinks followed, hidden files left out), the family (it picks the chat template), the benchmark
and the score settings the rule passes (evaluation settings without throughput, limit, task args,
task and code hashes). The base model's baseline, the no-op agent's copy of it and any run that
submits the base unchanged share one key: the baseline evaluates and stores, the cells copy.

Layout: results/eval-store/<key>/metrics.json (ptb.paths.EVAL_STORE), written atomically; the
rule evaluate waits for its base model's baseline (an ancient() input: order, not a rerun
trigger), so the shared evaluation is there when the cells look. Deleting an entry makes the
next evaluation with that key run again.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ptb import io, paths


def model_digest(model_path: str | Path) -> str:
    """sha256 over the folder's files (relative path and content hash), symlinks followed."""
    root = Path(model_path)
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if path.is_file() and not any(part.startswith(".") for part in rel.parts):
            digest.update(f"{rel.as_posix()}\0{io.sha256_file(path)}\n".encode())
    return digest.hexdigest()


def key(model_path: str, family: str, benchmark: str, settings: dict) -> str:
    what = {"model": model_digest(model_path), "family": family, "benchmark": benchmark, "settings": settings}
    return hashlib.sha256(json.dumps(what, sort_keys=True, default=str).encode()).hexdigest()[:32]


def entry(results: str, evaluation_key: str) -> Path:
    return Path(paths.fill(paths.EVAL_STORE, results, key=evaluation_key))


def lookup(results: str, evaluation_key: str) -> dict | None:
    """The stored metrics of this key, or None."""
    path = entry(results, evaluation_key)
    return io.read_json(path) if path.exists() else None


def save(results: str, evaluation_key: str, metrics: dict) -> None:
    io.write_json(entry(results, evaluation_key), metrics)
