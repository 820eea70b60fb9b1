"""PostTrainBench's repetition limiter: what its LLM-graded tasks do to an answer before grading.

Arena-Hard Writing and HealthBench (PostTrainBench v1: `limit_repetitions` in
`arenahardwriting/evaluate.py` and `healthbench/evaluation_code/text_utils.py`, the same
function twice) cut a degenerate answer's loops to at most `max_copies` before a grader
reads it. The result must be byte-identical to theirs, since the grader's verdict depends
on it: the fixtures in tests/fixtures/posttrainbench_v1/graded/ hold their outputs for planted loops.

Up to ten rounds, until a round changes nothing, of three passes:
1. a line repeated more than max_copies times in a row keeps max_copies copies;
2. the first run of a block of 2..29 lines repeated more than max_copies times in a row
   (the smallest block size that has one) keeps max_copies copies; a trailing fragment of
   the block after the run (lines equal to, or prefixes of, the block's lines) is dropped;
3. a unit of 3..500 characters repeated more than max_copies times in a row (searched in
   length bands, shortest unit first, by a lazy regex) keeps max_copies copies.
"""

from __future__ import annotations

import re

MAX_COPIES = 5  # PostTrainBench's MAX_REPETITIONS
ROUNDS = 10
MAX_BLOCK_LINES = 30  # block sizes 2..29 lines
UNIT_BANDS = ((3, 30), (30, 60), (60, 120), (120, 250), (250, 500))


def limit_repetitions(text: str, max_copies: int = MAX_COPIES) -> str:
    """text with every loop cut to max_copies copies, as PostTrainBench v1 cuts it."""
    for _ in range(ROUNDS):
        changed = False
        for cut in (_cut_repeated_lines, _cut_repeated_block, _cut_repeated_units):
            text, cut_something = cut(text, max_copies)
            changed = changed or cut_something
        if not changed:
            break
    return text


def _cut_repeated_lines(text: str, max_copies: int) -> tuple[str, bool]:
    lines, kept, changed = text.split("\n"), [], False
    start = 0
    while start < len(lines):
        end = start + 1
        while end < len(lines) and lines[end] == lines[start]:
            end += 1
        copies = end - start
        changed = changed or copies > max_copies
        kept += [lines[start]] * min(copies, max_copies)
        start = end
    return "\n".join(kept), changed


def _copies_from(lines: list[str], start: int, size: int) -> int:
    """How many times lines[start:start+size] occurs back to back from start."""
    block, copies = lines[start : start + size], 1
    while (
        start + (copies + 1) * size <= len(lines)
        and lines[start + copies * size : start + (copies + 1) * size] == block
    ):
        copies += 1
    return copies


def _is_block_fragment(tail: list[str], block: list[str]) -> bool:
    """Whether the lines after a run are a cut-off start of one more copy of the block."""
    if len(tail) > len(block):
        return False
    for line, expected in zip(tail, block):
        prefix_of_block_line = bool(line.strip()) and expected.startswith(line.strip())
        block_line_prefix = bool(expected.strip()) and line.startswith(expected.strip())
        if line != expected and not prefix_of_block_line and not block_line_prefix:
            return False
    return True


def _cut_repeated_block(text: str, max_copies: int) -> tuple[str, bool]:
    lines = text.split("\n")
    for size in range(2, min(MAX_BLOCK_LINES, len(lines) // 5 + 1)):
        for start in range(len(lines) - size + 1):
            copies = _copies_from(lines, start, size)
            if copies <= max_copies:
                continue
            block, run_end = lines[start : start + size], start + copies * size
            tail = lines[run_end:]
            rest = [] if tail and _is_block_fragment(tail, block) else tail
            return "\n".join(lines[:start] + block * max_copies + rest), True
    return text, False


def _cut_repeated_units(text: str, max_copies: int) -> tuple[str, bool]:
    changed_at_all = False
    while True:
        changed = False
        for shortest, longest in UNIT_BANDS:
            # a lazy unit followed by at least max_copies more copies of itself
            loop = re.compile(rf"(.{{{shortest},{longest}}}?)\1{{{max_copies},}}", re.DOTALL)

            def keep_max(match: re.Match) -> str:
                nonlocal changed
                unit = match.group(1)
                if len(match.group(0)) // len(unit) <= max_copies:
                    return match.group(0)
                changed = True
                return unit * max_copies

            text = loop.sub(keep_max, text)
        changed_at_all = changed_at_all or changed
        if not changed:
            return text, changed_at_all
