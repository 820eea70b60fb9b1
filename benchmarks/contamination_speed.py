"""Time the judge's contamination check on a realistic run: 10,000 training lines in the job dir,
a 1 GB Hugging Face datasets cache (Arrow files) in the agent's HOME, a Python venv (a hard-linked
copy of --venv: ~50k files for this project's) and two checkpoints, vs 1,319 test items.

Synthesizes GSM8K-like word problems (question + step-by-step answer, ~100 words a record),
writes the training set as train.jsonl into a temporary job dir with 5 test records planted
in it, fills home/.cache/huggingface/datasets with Arrow stream files of other problems up to
--cache-gb, and times `contamination.check` end to end (test index + scan of every file).
Target: under a minute on one core. Prints wall and CPU seconds (on a shared machine the CPU
figure is the one to compare) and the load average; --profile prints cProfile's top entries.

    OMP_NUM_THREADS=1 taskset -c 0 python benchmarks/contamination_speed.py [--train 10000] [--test 1319]
        [--cache-gb 1] [--venv .venv | --venv ''] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ptb.judge import contamination  # noqa: E402

NAMES = [
    "Janet",
    "Weng",
    "Betty",
    "Julie",
    "James",
    "Albert",
    "Ken",
    "Alexis",
    "Tina",
    "Mark",
    "Carla",
    "Toulouse",
]
THINGS = [
    "eggs",
    "ducks",
    "muffins",
    "pages",
    "letters",
    "pizzas",
    "sheep",
    "bolts",
    "cups",
    "dollars",
    "miles",
    "apples",
    "tickets",
    "boxes",
    "stamps",
    "cookies",
    "shirts",
    "roses",
    "marbles",
    "books",
]
VERBS = ["buys", "sells", "bakes", "collects", "finds", "loses", "paints", "packs", "orders", "writes"]
PLACES = ["farmers' market", "bakery", "school", "office", "garage", "library", "store", "park", "zoo", "gym"]
WHEN = ["on Monday", "every morning", "in the afternoon", "each week", "on weekends", "after lunch"]


def problem(rng: random.Random) -> dict:
    """A GSM8K-shaped record. Each sentence draws its own name, verb, thing, place and numbers, so
    (as with real GSM8K items) two records rarely share a 13-gram by chance: nearly all of the
    matches reported are the planted leaks (5 records = 10 texts)."""
    name = rng.choice(NAMES)
    steps, total = [], 0
    for _ in range(rng.randint(3, 5)):
        verb, thing, place, when = rng.choice(VERBS), rng.choice(THINGS), rng.choice(PLACES), rng.choice(WHEN)
        count = rng.randint(2, 999)
        steps.append((f"{name} {verb} {count} {thing} at the {place} {when}.", count, thing))
        total += count
    days = rng.randint(2, 99_999)  # a large range: the fixed tail must not repeat across records
    question = (
        " ".join(s for s, _, _ in steps) + f" In total, after {days} days, how many items does {name} handle?"
    )
    partial = " + ".join(str(c) for _, c, _ in steps)
    answer = (
        " ".join(f"{name} handles {c} {t}." for _, c, t in steps)
        + f" In a day: {partial} = {total}."
        + f" In {days} days: {total} * {days} = {total * days}.\n#### {total * days}"
    )
    return {"question": question, "answer": answer}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--train", type=int, default=10_000)
    parser.add_argument("--test", type=int, default=1319)
    parser.add_argument("--cache-gb", type=float, default=1.0)
    parser.add_argument("--venv", default=str(Path(__file__).resolve().parent.parent / ".venv"))
    parser.add_argument("--checkpoint-mb", type=float, default=200.0, help="per checkpoint (two)")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    rng = random.Random(0)
    test = [problem(rng) for _ in range(args.test)]
    train = [problem(rng) for _ in range(args.train - 5)] + test[:5]  # 5 leaked records
    items = [[record["question"], record["answer"]] for record in test]
    with tempfile.TemporaryDirectory() as tmp:
        job, home = Path(tmp) / "job", Path(tmp) / "home"
        path = job / "data" / "train.jsonl"
        path.parent.mkdir(parents=True)
        path.write_text("".join(json.dumps(r) + "\n" for r in train))
        cache_bytes = write_dataset_cache(home / ".cache/huggingface/datasets/synthetic", args.cache_gb, rng)
        if args.venv:  # hard links: the venv's bytes without copying them (each file read once)
            shutil.copytree(args.venv, job / ".venv", copy_function=os.link, symlinks=True)
        write_checkpoints(job / "checkpoints", args.checkpoint_mb)
        profile = cProfile.Profile() if args.profile else None
        start, cpu_start = time.perf_counter(), time.process_time()
        if profile:
            profile.enable()
        result = contamination.check(
            {"job": job, "home": home}, items, n=13, tolerance=2, item_share=0.5, min_words=3
        )
        seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
        if profile:
            profile.disable()
            pstats.Stats(profile).sort_stats("tottime").print_stats(15)
        size_mb = path.stat().st_size / 1e6
    evidence = result["evidence"]
    files = evidence["files_scanned"]
    print(
        f"contamination check: {seconds:.2f} s for {args.train} training lines ({size_mb:.1f} MB), a "
        f"{cache_bytes / 1e9:.2f} GB dataset cache, the venv {args.venv or '(none)'} and 2 checkpoints of "
        f"{args.checkpoint_mb:.0f} MB vs {args.test} test items: {files} files, "
        f"{evidence['bytes_scanned'] / 1e9:.2f} GB, {files / seconds:.0f} files/s; copied "
        f"{evidence['copied_items']} items, passed={result['passed']}; {cpu_seconds:.2f} s of CPU "
        f"({files / cpu_seconds:.0f} files per CPU second); load {os.getloadavg()[0]:.2f}"
    )
    print(f"{seconds:.3f}")


def write_checkpoints(folder: Path, megabytes: float) -> None:
    """Two Trainer checkpoints: bf16 weights (safetensors) and the optimizer state (torch.save)."""
    import torch  # noqa: PLC0415 (heavy, optional)
    from safetensors.torch import save_file  # noqa: PLC0415

    rows = int(megabytes * 1e6 / 2 / 4096 / 2)  # half weights, half optimizer state
    for step in (500, 1000):
        path = folder / f"checkpoint-{step}"
        path.mkdir(parents=True)
        weights = {f"layers.{i}.weight": torch.randn(rows // 8, 4096, dtype=torch.bfloat16) for i in range(8)}
        save_file(weights, path / "model.safetensors")
        state = {"state": {i: {"exp_avg": w.float()[: rows // 16]} for i, w in enumerate(weights.values())}}
        torch.save(state, path / "optimizer.pt")
        (path / "trainer_state.json").write_text(json.dumps({"global_step": step, "log_history": []}))


def write_dataset_cache(folder: Path, gigabytes: float, rng: random.Random) -> int:
    """Arrow stream files (as `datasets` writes them) of fresh problems, up to `gigabytes`."""
    import pyarrow as pa  # noqa: PLC0415 (heavy, optional)

    folder.mkdir(parents=True)
    pool = [problem(rng) for _ in range(20_000)]  # recombined below: generating 1 GB anew is slow
    written, shard = 0, 0
    while written < gigabytes * 1e9:
        rows = [pool[rng.randrange(len(pool))] for _ in range(100_000)]
        suffix = f" (variant {shard})"
        table = pa.table(
            {"question": [r["question"] + suffix for r in rows], "answer": [r["answer"] for r in rows]}
        )
        path = folder / f"synthetic-train-{shard:05d}.arrow"
        with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        written += path.stat().st_size
        shard += 1
    return written


if __name__ == "__main__":
    main()
