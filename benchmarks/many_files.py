"""Time what reads a whole job dir when the agent left 100,000 small files in it: the runner's
reclaim (ptb.agent_runs.jobdir.reclaim), hash_tree of a final_model/ with 100,000 files, the judge's tamper
and contamination checks, and deleting the job dir (a re-run). Prints seconds per step.

    OMP_NUM_THREADS=1 python benchmarks/many_files.py [--files 100000]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ptb.agent_runs import jobdir  # noqa: E402
from ptb.core import io  # noqa: E402
from ptb.judge import contamination, tamper  # noqa: E402


def timed(label: str, fn) -> None:
    start = time.perf_counter()
    fn()
    print(f"{label:<42} {time.perf_counter() - start:7.2f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=100_000)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="ptb-many-files-"))
    job = root / "run" / "job"
    try:

        def write():
            for i in range(args.files):
                folder = job / "notes" / f"{i // 1000:03d}"
                if i % 1000 == 0:
                    folder.mkdir(parents=True)
                (folder / f"f{i}.txt").write_text(f"step {i}: loss {i * 7 % 13}, lr 3e-5, batch {i % 8}\n")
            model = job / "final_model"
            model.mkdir()
            for i in range(args.files):
                (model / f"shard{i}.bin").write_bytes(b"w")

        timed(f"write {args.files} notes + {args.files} model files", write)
        timed("reclaim (run dir)", lambda: jobdir.reclaim(root / "run"))
        timed("hash_tree(final_model)", lambda: io.hash_tree(job / "final_model"))
        timed("links_outside(final_model)", lambda: jobdir.links_outside(job / "final_model", root / "run"))
        timed("judge: tamper", lambda: tamper.check(job, {}))
        items = [[f"Question {i}: how many apples does Janet keep?", f"{i}"] for i in range(1319)]
        timed(
            "judge: contamination (1,319 test items)",
            lambda: contamination.check({"job": job}, items, n=13, tolerance=2, item_share=0.5, min_words=8),
        )
        timed("delete the job dir (a re-run)", lambda: shutil.rmtree(job))
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
