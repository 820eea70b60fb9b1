"""HealthBench as PostTrainBench v1 scores it (commit 9082063: `healthbench/evaluate.py`,
`evaluation_code/{grader,scoring,text_utils}.py`).

The grader sees the conversation with the model's reply and one rubric item as "[points]
criterion" (grader_prompt.txt: OpenAI's HealthBench template, as PostTrainBench copies it) and
answers a JSON object with a boolean `criteria_met`. An item the grader cannot grade in five
calls (API errors or replies without that boolean) counts as not met. An example scores the
points of its met items over its positive points, unclipped (penalties can take it below 0);
the benchmark's score is the mean over examples clipped to [0, 1], with a bootstrap standard
error (1000 resamples, numpy seed 42, each resample's mean clipped).

Pure functions (no inspect): the task's scorer calls them and tests/tasks/
test_healthbench_ptb_v1.py compares them with PostTrainBench's own outputs.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path

import numpy as np

from ptb.evaluation.repetition import limit_repetitions

GRADER_MODEL = "gpt-5-mini"
GRADER_REQUEST = {"max_completion_tokens": 49152}  # grader.py, for gpt-5 models (no temperature)
GRADER_ATTEMPTS = 5  # grader.py API_MAX_RETRY: calls per item, on an API error or an unusable reply
MAX_NEW_TOKENS = 16384  # evaluate.py --max-new-tokens default (run_task.sh's first attempt)
SHUFFLE_SEED = 42  # evaluate.py shuffles the examples with random.Random(42) before --limit
BOOTSTRAP_RESAMPLES = 1000
BOOTSTRAP_SEED = 42
GRADER_TEMPLATE = (Path(__file__).with_name("grader_prompt.txt")).read_text().strip()
JSON_FENCE = re.compile(r"^```json\s*|\s*```$")
PLACEHOLDER = re.compile(r"<<conversation>>|<<rubric_item>>")


def response_for_grader(completion: str) -> str:
    """What the grader reads of the model's reply: stripped; if it starts with <think>, what
    follows the first </think> (an unclosed block stays, thinking and all); loops cut to 5."""
    response = completion.strip()
    if response.startswith("<think>"):
        response = response.split("</think>", 1)[-1].strip()
    return limit_repetitions(response)


def conversation_text(turns: list[dict], response: str) -> str:
    """The conversation and the reply as the grader reads them: "role: content" blocks."""
    return "\n\n".join(
        f"{turn['role']}: {turn['content']}" for turn in [*turns, {"role": "assistant", "content": response}]
    )


def rubric_item(criterion: str, points: int) -> str:
    return f"[{points}] {criterion}"


def grader_prompt(conversation: str, item: str, in_one_pass: bool = False) -> str:
    """The grader's prompt. PostTrainBench fills the conversation first and then the rubric item,
    so a reply that writes "<<rubric_item>>" gets the rubric item pasted into it; in_one_pass
    fills both placeholders of the template only."""
    if in_one_pass:
        values = {"<<conversation>>": conversation, "<<rubric_item>>": item}
        return PLACEHOLDER.sub(lambda match: values[match.group(0)], GRADER_TEMPLATE)
    return GRADER_TEMPLATE.replace("<<conversation>>", conversation).replace("<<rubric_item>>", item)


def criteria_met(reply: str | None) -> bool | None:
    """The grader's verdict: the reply, stripped and without a ```json fence around it, must be a
    JSON object whose criteria_met is true or false (not "true"); None when it is not."""
    if reply is None:
        return None
    try:
        parsed = json.loads(JSON_FENCE.sub("", reply.strip()))
    except json.JSONDecodeError:
        return None
    met = parsed.get("criteria_met") if isinstance(parsed, dict) else None
    return met if isinstance(met, bool) else None


def example_score(points: list[int], met: list[bool]) -> float:
    """Points of the met items over the positive points (0 when there are none); not clipped."""
    possible = sum(p for p in points if p > 0)
    achieved = sum(p for p, ok in zip(points, met) if ok)
    return achieved / possible if possible > 0 else 0.0


def aggregate(scores: list[float]) -> dict:
    """The benchmark's score: the mean clipped to [0, 1], and the bootstrap standard error."""
    if not scores:
        return {"accuracy": 0.0, "stderr": 0.0, "n_examples": 0}
    accuracy = float(np.clip(np.mean(scores), 0, 1))
    return {"accuracy": accuracy, "stderr": bootstrap_stderr(scores), "n_examples": len(scores)}


def bootstrap_stderr(scores: list[float]) -> float:
    if len(scores) < 2:
        return 0.0
    values, rng = np.array(scores), np.random.default_rng(BOOTSTRAP_SEED)
    means = [
        np.clip(np.mean(rng.choice(values, size=len(values), replace=True)), 0, 1)
        for _ in range(BOOTSTRAP_RESAMPLES)
    ]
    return float(np.std(means))


def tag_value(tags: list[str], prefix: str) -> str:
    """The first "prefix:value" tag's value ("unknown" without one)."""
    return next((tag.split(":")[1] for tag in tags if tag.startswith(f"{prefix}:")), "unknown")


def by_theme(examples: list[dict], scores: list[float]) -> dict[str, float]:
    """Mean score per theme (the example's first theme tag), clipped to [0, 1]."""
    grouped = defaultdict(list)
    for example, score in zip(examples, scores):
        grouped[tag_value(example.get("example_tags", []), "theme")].append(score)
    return {theme: float(np.clip(float(np.mean(values)), 0, 1)) for theme, values in grouped.items()}


def by_axis(examples: list[dict], met: list[list[bool]]) -> dict[str, float]:
    """Per axis: points of the met items over the positive points of that axis's items, clipped."""
    items = defaultdict(list)
    for example, grades in zip(examples, met):
        for rubric, ok in zip(example["rubrics"], grades):
            items[tag_value(rubric.get("tags", []), "axis")].append((rubric["points"], ok))
    scores = {}
    for axis, graded in items.items():
        possible = sum(points for points, _ in graded if points > 0)
        if possible:
            scores[axis] = float(np.clip(sum(points for points, ok in graded if ok) / possible, 0, 1))
    return scores
