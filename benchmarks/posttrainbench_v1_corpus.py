"""The whole differential corpus (tests/fixtures/posttrainbench_v1/corpus.py) through this workflow's
tasks, under both protocols, against what PostTrainBench's own path recorded (corpus/<task>.jsonl).

Run: OMP_NUM_THREADS=1 .venv/bin/python benchmarks/posttrainbench_v1_corpus.py [task ...]
Prints, per task: replies agreeing under posttrainbench-v1 (the test requires all of them; CI runs
HumanEval on a subset), the replies whose value the corrected protocol changes (by kind and
recorded -> corrected value), and the seconds each protocol took.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "tasks"))

from posttrainbench_corpus import CORRECTED, V1, corpus, data_dirs, recorded, replies, score  # noqa: E402


def main(tasks: list[str]) -> None:
    dirs = data_dirs(Path(tempfile.mkdtemp(prefix="ptb-corpus-")))
    for task in tasks:
        chosen, expected = replies(task), recorded(task)
        started = time.monotonic()
        v1 = score(task, V1, chosen, dirs)
        v1_seconds = time.monotonic() - started
        agree = sum(v1[r["id"]] == expected[r["id"]]["value"] for r in chosen)
        started = time.monotonic()
        corrected = score(task, CORRECTED, chosen, dirs)
        corrected_seconds = time.monotonic() - started
        changed = Counter(
            (r["kind"], expected[r["id"]]["value"], corrected[r["id"]])
            for r in chosen
            if corrected[r["id"]] != expected[r["id"]]["value"]
        )
        print(f"{task}: v1 agrees on {agree}/{len(chosen)} ({v1_seconds:.0f} s)")
        print(f"  corrected changes {sum(changed.values())} ({corrected_seconds:.0f} s):")
        for (kind, was, now), count in sorted(changed.items(), key=lambda item: -item[1]):
            print(f"    {count:5d}  {kind}: {was} -> {now}")
        for reply in chosen:
            if v1[reply["id"]] != expected[reply["id"]]["value"]:
                print(
                    f"  DISAGREES {reply['id']} {reply['kind']}: {expected[reply['id']]} vs {v1[reply['id']]}"
                )


if __name__ == "__main__":
    main(sys.argv[1:] or list(corpus.TASKS))
