"""Time of PostTrainBench's repetition limiter (ptb/evaluation/repetition.py) on a reply of max_tokens length.

Arena-Hard and HealthBench cut loops in every reply before grading, as PostTrainBench does; its
regex passes scan the whole text for units of 3..500 characters, so a long reply without loops
(the common case) is the slow one.

Run: .venv/bin/python benchmarks/repetition_limit.py
Prints seconds per reply for ~16k tokens of prose (~62k characters), a looping reply and
repeated lines.
"""

from __future__ import annotations

import random
import time

from ptb.evaluation.repetition import limit_repetitions


def prose(characters: int, seed: int = 0) -> str:
    rng = random.Random(seed)
    words = "the quick brown fox jumps over lazy dog and then some more words appear here".split()
    text = " ".join(rng.choice(words) for _ in range(characters // 5))
    return "\n".join(text[i : i + 90] for i in range(0, len(text), 90))


def main() -> None:
    cases = {
        "prose, 16k tokens": prose(62_000),
        "one sentence looping": "I am stuck in a loop. " * 3000,
        "one line repeated": "same line\n" * 8000,
    }
    for name, text in cases.items():
        started = time.perf_counter()
        limited = limit_repetitions(text)
        print(f"{name}: {len(text)} -> {len(limited)} characters in {time.perf_counter() - started:.2f} s")


if __name__ == "__main__":
    main()
