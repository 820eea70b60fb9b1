"""Evaluations keyed by what decides a score, so identical weights are scored once.

The key is a hash of what the model folder serves (its tensors, config, tokenizer and generation
config: ptb.agent_runs.canonical.served_digest), the family (it picks the chat template), the benchmark
and the score settings the rule passes (evaluation settings without throughput, limit, task args,
task and code hashes). The base model's baseline, the no-op agent's copy of it and any run that
submits the base unchanged share one key: whichever job comes first evaluates and stores, the
others copy (a job that finds the key claimed waits for it: an flock on <key>/lock, which NFSv4
and Lustre honour).

Layout: results/eval-store/<key>/metrics.json (ptb.core.paths.EVAL_STORE), written atomically; each
copy names the evaluation it reuses (`reused_from`: the model folder, `reused_log`: its .eval log) and
has a .eval log of its own (`log_file`: a copy naming the copying cell, ptb.evaluation.evaluation.cell_log).
An entry records its paths relative to its folder, as a cell's metrics.json does (METRICS_PATH_KEYS,
ptb.core.io.record_path). Deleting an entry makes the next evaluation with that key run again (e.g.
before --forcerun of an evaluation).

Not a DAG edge on purpose: an order-only input (ancient) on the baseline drops the dependent
evaluation from a plan whose baseline re-runs for another reason (snakemake 9.27), and a plain
input would re-run every cell's evaluation when its baseline re-runs.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import socket
import time
from pathlib import Path

from ptb.agent_runs import canonical
from ptb.core import io, result_files

LOG = logging.getLogger(__name__)

# the paths a metrics.json (a cell's, a store entry's) records relative to its folder: results move
METRICS_PATH_KEYS = ("model_path", "log_file", "reused_from", "reused_log")


def model_digest(model_path: str | Path) -> str:
    """What a loader serves from the folder (ptb.agent_runs.canonical.served_digest: its tensors,
    config, tokenizer and generation config): a run's canonical copy of the base model, written
    anew, has the base's key."""
    return canonical.served_digest(model_path)


def key(model_path: str, family: str, benchmark: str, settings: dict) -> str:
    what = {"model": model_digest(model_path), "family": family, "benchmark": benchmark, "settings": settings}
    return hashlib.sha256(json.dumps(what, sort_keys=True, default=str).encode()).hexdigest()[:32]


def entry(store: str, evaluation_key: str) -> Path:
    """store: the store's folder (ptb.core.paths.EVAL_STORE)."""
    return Path(store) / evaluation_key / "metrics.json"


@contextlib.contextmanager
def claimed(store: str, evaluation_key: str, holder: str = "", heartbeat_s: float = 60.0):
    """Hold the key while evaluating: another job with the same key waits here, then copies.

    holder: who claims it (a cell), recorded beside the lock while held, so that a job waiting
    on the key (holding its own GPU) says in its log whom it waits for, and says so again every
    heartbeat_s seconds."""
    lock = entry(store, evaluation_key).with_name("lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    held_by = lock.with_name("holder")
    with open(lock, "a") as handle:
        _acquire(handle, evaluation_key, held_by, heartbeat_s)
        io.write_text_atomic(held_by, f"{holder or 'a job'} (pid {os.getpid()} on {socket.gethostname()})")
        try:
            yield
        finally:
            held_by.unlink(missing_ok=True)
            fcntl.flock(handle, fcntl.LOCK_UN)


def _acquire(handle, evaluation_key: str, held_by: Path, heartbeat_s: float) -> None:
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return
    except BlockingIOError:
        pass
    start = time.monotonic()
    beat = start

    def holder() -> str:
        try:
            return held_by.read_text()
        except FileNotFoundError:
            return "another job"

    LOG.info("evaluation key %s is being evaluated by %s: waiting to reuse it", evaluation_key, holder())
    while True:
        time.sleep(min(1.0, heartbeat_s))
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() - beat >= heartbeat_s:
                beat = time.monotonic()
                LOG.info(
                    "still waiting for evaluation key %s (%s): %.0f s", evaluation_key, holder(), beat - start
                )
    LOG.info("evaluation key %s released after %.0f s of waiting", evaluation_key, time.monotonic() - start)


def lookup(store: str, evaluation_key: str) -> dict | None:
    """The stored metrics of this key, or None: also for a corrupt entry (not JSON, a bad outcome or
    score, no model_path: ptb.core.result_files), named with its key in the job's log, so the
    evaluation runs again and save() replaces it. An entry that is a directory is refused (named)."""
    path = entry(store, evaluation_key)
    try:
        stored = result_files.read_metrics(path)
        if stored is not None and not isinstance(stored.get("model_path"), str):
            raise io.CorruptFile(f"{path}: no model_path (the evaluated folder)")
    except io.CorruptFile as error:
        if path.is_dir():
            raise io.CorruptFile(
                f"evaluation store entry of key {evaluation_key}: {error}; delete it"
            ) from None
        LOG.warning(
            "evaluation store entry of key %s is corrupt, evaluating again: %s", evaluation_key, error
        )
        return None
    return None if stored is None else io.resolve_paths(stored, METRICS_PATH_KEYS, path)


def save(store: str, evaluation_key: str, metrics: dict) -> None:
    """metrics: evaluate_job's (absolute paths); the entry records them relative to its folder."""
    path = entry(store, evaluation_key)
    io.write_json(path, io.record_paths(metrics, METRICS_PATH_KEYS, path))
