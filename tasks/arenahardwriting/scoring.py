"""Arena-Hard Writing as PostTrainBench v1 scores it (commit 9082063: `arenahardwriting/evaluate.py`,
`evaluation_code/utils/judge_utils.py`, `evaluation_code/config/arena-hard-v2.0.yaml`).

Each prompt is two games against the baseline model's stored answer: the baseline as A, then
the candidate as A. The judge ends with a label ([[A>>B]] ... [[B>>A]]); a game scores the
candidate 1 (win), 0.5 (tie) or 0 (loss), a decisive label (>>) counting 3 times. The score
pools every game of every prompt: mean and standard error over the pooled entries (not a mean
of per-prompt means). A prompt whose judging failed (no label, or the judge's API failed three
times) drops out with both its games.

Pure functions (no inspect): the task's scorer calls them and tests/tasks/
test_arenahardwriting_ptb_v1.py compares them with PostTrainBench's own outputs.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

from ptb.evaluation.repetition import limit_repetitions

BASELINE_MODEL = "Qwen3-1.7B"  # judge_utils.py: creative_writing's baseline (gemini's line is commented out)
JUDGE_MODEL = "gpt-5-mini"
JUDGE_REQUEST = {"max_completion_tokens": 49152, "reasoning_effort": "medium"}  # evaluate.py call_openai
JUDGE_ATTEMPTS = 3  # evaluate.py API_MAX_RETRY: calls per game while the API raises (no re-ask on a reply)
MAX_NEW_TOKENS = 16384  # evaluate.py --max-new-tokens default (run_task.sh's first attempt)
DECISIVE_WEIGHT = 3

JUDGE_SYSTEM_PROMPT = "\n\n".join(
    [
        "Please act as an impartial judge and evaluate the quality of the responses provided by two"
        " AI assistants to the user prompt displayed below. You will be given assistant A's answer and"
        " assistant B's answer. Your job is to evaluate which assistant's answer is better.",
        "When evaluating the assistants' answers, compare both assistants' answers. You must identify"
        " and correct any mistakes or inaccurate information.",
        "Then consider if the assistant's answers are helpful, relevant, and concise. Helpful means the"
        " answer correctly responds to the prompt or follows the instructions. Note when user prompt has"
        " any ambiguity or more than one interpretation, it is more helpful and appropriate to ask for"
        " clarifications or more information from the user than providing an answer based on"
        " assumptions. Relevant means all parts of the response closely connect or are appropriate to"
        " what is being asked. Concise means the response is clear and not verbose or excessive.",
        "Then consider the creativity and novelty of the assistant's answers when needed. Finally,"
        " identify any missing important information in the assistants' answers that would be"
        " beneficial to include when responding to the user prompt.",
        "After providing your explanation, you must output only one of the following choices as your"
        " final verdict with a label:",
        "1. Assistant A is significantly better: [[A>>B]]\n2. Assistant A is slightly better: [[A>B]]\n"
        "3. Tie, relatively the same: [[A=B]]\n4. Assistant B is slightly better: [[B>A]]\n"
        "5. Assistant B is significantly better: [[B>>A]]",
        'Example output: "My final verdict is tie: [[A=B]]".',
    ]
)
GAME_TEMPLATE = (
    "<|User Prompt|>\n{QUESTION}\n\n"
    "<|The Start of Assistant A's Answer|>\n{ANSWER_A}\n<|The End of Assistant A's Answer|>\n\n"
    "<|The Start of Assistant B's Answer|>\n{ANSWER_B}\n<|The End of Assistant B's Answer|>"
)
# double brackets first; within a pattern the last label wins (searched in the upper-cased reply)
LABEL_PATTERNS = (re.compile(r"\[\[([AB<>=]+)\]\]"), re.compile(r"\[([AB<>=]+)\]"))
# what A scores in a game, for each label PostTrainBench knows (any other label fails its eval)
A_SCORES = {
    "A>B": 1.0, "A>>B": 1.0, "A=B": 0.5, "A<<B": 0.0, "A<B": 0.0,
    "B>A": 0.0, "B>>A": 0.0, "B=A": 0.5, "B<<A": 1.0, "B<A": 1.0,
}  # fmt: skip
DECISIVE = {"A>>B", "A<<B", "B>>A", "B<<A"}


class UnknownLabel(KeyError):
    """A bracketed label outside A_SCORES (e.g. [[A]]): PostTrainBench's eval fails on it."""


def answer_for_judge(completion: str) -> str:
    """What the judge reads of the model's reply: stripped; a leading <think> block dropped if it
    is closed (an unclosed one stays, thinking and all); every loop cut to 5 copies."""
    answer = completion.strip()
    if answer.startswith("<think>") and "</think>" in answer:
        answer = answer.split("</think>", 1)[1].strip()
    return limit_repetitions(answer)


def game_messages(question: str, answer_a: str, answer_b: str) -> list[dict]:
    """The judge's request for one game: the system prompt and the game."""
    game = GAME_TEMPLATE.format(QUESTION=question, ANSWER_A=answer_a, ANSWER_B=answer_b)
    return [{"role": "system", "content": JUDGE_SYSTEM_PROMPT}, {"role": "user", "content": game}]


def games(question: str, answer: str, baseline_answer: str) -> list[tuple[str, list[dict]]]:
    """The two games of a prompt as (the candidate's position, messages): baseline first."""
    return [
        ("B", game_messages(question, baseline_answer, answer)),
        ("A", game_messages(question, answer, baseline_answer)),
    ]


def verdict_label(judgment: str) -> str | None:
    """The judge's label: the last match of the first pattern that matches; None if none does."""
    for pattern in LABEL_PATTERNS:
        found = [label for label in pattern.findall(judgment.upper()) if label]
        if found:
            return found[-1].strip("\n")
    return None


def game_entries(label: str, candidate_is: str) -> list[float]:
    """The candidate's pooled entries for one game: its score, 3 times for a decisive label."""
    if label not in A_SCORES:
        raise UnknownLabel(label)
    a_score = A_SCORES[label]
    score = a_score if candidate_is == "A" else 1 - a_score
    return [score] * (DECISIVE_WEIGHT if label in DECISIVE else 1)


def prompt_entries(labels: list[str | None], positions: list[str]) -> list[float] | None:
    """Both games' entries; None (the prompt drops out) when a game has no label."""
    if any(label is None for label in labels):
        return None
    return [entry for label, position in zip(labels, positions) for entry in game_entries(label, position)]


def pooled(entries: Iterable[list[float] | None]) -> dict:
    """PostTrainBench's win rate: mean and standard error over every game entry of every judged
    prompt (prompts without entries dropped). Nothing judged: 0.0 and 0.0, as it reports it."""
    values = [value for prompt in entries if prompt for value in prompt]
    if not values:
        return {"accuracy": 0.0, "stderr": 0.0, "entries": 0}
    mean = math.fsum(values) / len(values)
    if len(values) == 1:
        return {"accuracy": mean, "stderr": 0.0, "entries": 1}
    variance = math.fsum((value - mean) ** 2 for value in values) / (len(values) - 1)
    return {"accuracy": mean, "stderr": math.sqrt(variance) / math.sqrt(len(values)), "entries": len(values)}
