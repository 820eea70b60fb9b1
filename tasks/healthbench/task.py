"""HealthBench, graded as PostTrainBench v1 grades it (rules in scoring.py): its fixed 245 items.

The model writes the next assistant turn; the grader checks it against each rubric item of the
conversation (OpenAI's template, "[points] criterion"). A sample's value is PostTrainBench's
example score: points of the met items over the positive points, not clipped (penalties can
take it below 0). The task's score is the mean over examples clipped to [0, 1] (`aggregate`,
and the clipped metrics), with PostTrainBench's bootstrap stderr, by-theme and by-axis scores.

Protocols (task arg `protocol`, ptb/core/protocol.py):
- posttrainbench-v1: an item the grader cannot grade in five calls counts as not met (so a
  broken grader never applies a penalty item); the grader prompt is filled placeholder after
  placeholder, so a reply that writes "<<rubric_item>>" gets the rubric item pasted into it.
- posttrainbench-v1-corrected: such a sample is a grader failure (left out, and counted); only
  the template's own placeholders are filled; thinking is dropped, an unclosed block too (v1
  grades it), and an empty response scores 0 without a grader call (task.yaml empty_score).
"""

import asyncio
import random

import anyio
from inspect_ai import Task, task
from inspect_ai.dataset import Sample
from inspect_ai.model import ChatMessageUser, GenerateConfig
from inspect_ai.scorer import SampleScore, Score, Target, metric, scorer
from inspect_ai.solver import TaskState, generate

from ptb.core import protocol as protocols
from ptb.core import tasks
from ptb.evaluation import answers
from ptb.evaluation.repetition import limit_repetitions
from ptb.evaluation.task_builder import TaskFolder, chat_messages, grader_failure, grader_model

TASK = TaskFolder(__file__)
S = tasks.module("healthbench", "scoring")
GRADER_CONFIG = GenerateConfig(max_tokens=S.GRADER_REQUEST["max_completion_tokens"])


async def grade_item(prompt: str) -> tuple[bool | None, list[str]]:
    """(criteria_met or None, the grader's replies) of one rubric item: up to five calls, an API
    error or a reply without a JSON boolean costing one, as PostTrainBench's grade_criterion."""
    replies = []
    for _ in range(S.GRADER_ATTEMPTS):
        try:
            output = await grader_model().generate([ChatMessageUser(content=prompt)], config=GRADER_CONFIG)
        except Exception as error:  # the grader's API failed (after inspect's own retries)
            replies.append(f"grader error: {type(error).__name__}: {error}")
            continue
        replies.append(output.completion)
        met = S.criteria_met(output.completion)
        if met is not None:
            return met, replies
    return None, replies


def graded(scores: list[Score]) -> list[Score]:
    """The scores of the samples the grader judged (a sample score's `.score`: unwrap first)."""
    return [score for score in scores if not tasks.grader_failed(score)]


@metric
def clipped_mean():
    """PostTrainBench's score: the mean example score, clipped to [0, 1]."""

    def compute(scores: list[SampleScore]) -> float:
        return S.aggregate([score.value for score in graded([s.score for s in scores])])["accuracy"]

    return compute


@metric
def clipped_bootstrap_stderr():
    """PostTrainBench's stderr: the std of 1000 clipped bootstrap means (numpy, seed 42)."""

    def compute(scores: list[SampleScore]) -> float:
        return S.aggregate([score.value for score in graded([s.score for s in scores])])["stderr"]

    return compute


def graded_response(raw: str, v1: bool) -> str:
    """What the grader reads (in a worker thread: the loop cutting takes ~2 s on 16k tokens)."""
    return S.response_for_grader(raw) if v1 else limit_repetitions(answers.corrected_completion(raw))


def no_items(state: TaskState) -> dict:
    """An ungraded sample's metadata: every item not met."""
    rubrics = state.metadata["rubrics"]
    items = [
        {"criterion": r["criterion"], "points": r["points"], "tags": r.get("tags", []), "met": False}
        for r in rubrics
    ]
    return {"items": items, "example_tags": state.metadata["example_tags"]}


@scorer(metrics=[clipped_mean(), clipped_bootstrap_stderr()])
def rubric_grader(protocol: str):
    v1 = protocol == protocols.POSTTRAINBENCH_V1

    async def score(state: TaskState, target: Target) -> Score:
        rubrics = state.metadata["rubrics"]
        response = await anyio.to_thread.run_sync(graded_response, answers.reply_text(state.output), v1)
        if not response and not v1:  # meets no item: nothing to grade
            return Score(value=0.0, answer="", explanation="empty response", metadata=no_items(state))
        turns = [{"role": message.role, "content": message.text} for message in state.input]
        conversation = S.conversation_text(turns, response)
        prompts = [
            S.grader_prompt(conversation, S.rubric_item(r["criterion"], r["points"]), in_one_pass=not v1)
            for r in rubrics
        ]
        grades = await asyncio.gather(*(grade_item(prompt) for prompt in prompts))
        items = [
            {
                "criterion": r["criterion"],
                "points": r["points"],
                "tags": r.get("tags", []),
                "met": met,
                "grader": replies,
            }
            for r, (met, replies) in zip(rubrics, grades)
        ]
        if not v1 and any(met is None for met, _ in grades):
            return grader_failure("rubric items the grader could not grade in five calls", items=items)
        met = [bool(met) for met, _ in grades]  # v1: an item never graded counts as not met
        return Score(
            value=S.example_score([r["points"] for r in rubrics], met),
            answer=response,
            metadata={"items": items, "example_tags": state.metadata["example_tags"]},
        )

    return score


@task
def healthbench(
    data_dir: str, limit: int | None = None, grader: str | None = None, protocol: str = protocols.DEFAULT
) -> Task:
    """PostTrainBench's 245 items (task.yaml `items`, in its order) from data_dir's test.jsonl (the
    hub's 5000, or these 245 offline), shuffled as its evaluate.py shuffles them.
    grader: a model to bind to the grader role (None leaves the role to eval(model_roles=...))."""
    protocols.check(protocol)
    records = TASK.fixed_items(data_dir, "prompt_id")
    random.Random(TASK.spec["shuffle_seed"]).shuffle(records)  # evaluate.py's order, before --limit
    samples = [
        Sample(
            id=r["prompt_id"],
            input=chat_messages(r["prompt"]),
            metadata={"rubrics": r["rubrics"], "example_tags": r.get("example_tags", [])},
        )
        for r in records
    ]
    return TASK.build(
        samples,
        limit=limit,
        solver=generate(),
        scorer=rubric_grader(protocol),
        metadata={"protocol": protocol},
        grader=grader,
    )


def aggregate(scores: list[Score | None]) -> dict:
    """metrics.json's score from every (sample, epoch) score the grader judged: PostTrainBench's
    clipped mean, bootstrap stderr, by-theme and by-axis scores; ci95 from the bootstrap stderr
    (normal approximation, within [0, 1]). None: an errored sample that the protocol scores 0
    (in the mean only)."""
    judged = graded([score for score in scores if score is not None])
    errored = sum(score is None for score in scores)
    if not judged and not errored:
        return {"score": None, "stderr": None, "ci95": None}
    result = S.aggregate([score.value for score in judged] + [0.0] * errored)
    examples = [{"example_tags": s.metadata["example_tags"], "rubrics": s.metadata["items"]} for s in judged]
    verdicts = [[bool(item["met"]) for item in s.metadata["items"]] for s in judged]
    values = [score.value for score in judged]
    half = 1.96 * result["stderr"]
    return {
        "score": result["accuracy"],
        "stderr": result["stderr"],
        "ci95": [max(0.0, result["accuracy"] - half), min(1.0, result["accuracy"] + half)],
        "by_theme": S.by_theme(examples, values),
        "by_axis": S.by_axis(examples, verdicts),
        "total_grader_calls": sum(len(s.metadata["items"]) for s in judged),
    }


def offline_records() -> list[dict]:
    """The offline test records (data: local): PostTrainBench's 245, as its file holds them."""
    return tasks.read_jsonl(TASK.dir / TASK.spec["items"])


def test_texts(record: dict) -> list[str]:
    """What the judge's contamination check compares training data against: the conversation
    as one text (a short turn alone, "Any advice?", is in every corpus) and the reference answer.
    Rubric items are left out: many are generic advice that honest training data may contain."""
    ideal = (record.get("ideal_completions_data") or {}).get("ideal_completion")
    return ["\n".join(m["content"] for m in record["prompt"])] + ([ideal] if ideal else [])
