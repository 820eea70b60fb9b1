"""HealthBench (easy subset): write the next assistant turn; a grader checks each rubric item.

A sample's score is the points of the rubric items the grader finds met (penalty items have
negative points) over the total of the positive points, clipped to [0, 1], as in HealthBench.
"""

import asyncio
import json
import random
import re
from pathlib import Path

from inspect_ai import Task, task
from inspect_ai.dataset import Sample
from inspect_ai.model import ChatMessageUser
from inspect_ai.scorer import Score, Target, scorer
from inspect_ai.solver import TaskState, generate

from ptb.task_builder import (
    TaskFolder,
    chat_messages,
    graded_bootstrap_stderr,
    graded_mean,
    grader_failure,
    grader_model,
)
from ptb.tasks import read_jsonl, strip_thinking

TASK = TaskFolder(__file__)

GRADER_PROMPT = """\
Your job is to look at a conversation and one rubric item, and decide whether the last turn \
(the final assistant response) meets the rubric item.

# Conversation
{conversation}

# Rubric item
{criterion}

# Instructions
Reply with a JSON object with two fields:
- "explanation": a short string explaining why the response does or does not meet the item.
- "criteria_met": true if the response meets the item, else false. If the item has several \
parts, all of them must be met. Where the item says "such as", "for example" or "including", \
the response need not cover every example listed.
Some items describe undesirable behaviour (they carry negative points). Still answer whether \
the response shows that behaviour: "criteria_met" is true if it does, even though that is bad.

Return only the JSON object, in a ```json code block."""
JSON_OBJECT = re.compile(r"\{.*\}", re.DOTALL)


def axes(record: dict) -> set[str]:
    tags = [tag for item in record["rubrics"] for tag in item.get("tags", [])]
    return {tag.split(":", 1)[1] for tag in tags if tag.startswith("axis:")}


def is_easy(record: dict, subset: dict) -> bool:
    """PostTrainBench's HealthBench "easy" filter (settings in task.yaml `subset`)."""
    return (
        len(record["prompt"]) >= subset["min_messages"]
        and subset["required_axis"] in axes(record)
        and sum(item["points"] < 0 for item in record["rubrics"]) <= subset["max_negative_criteria"]
    )


def record_to_sample(record: dict) -> Sample:
    themes = [tag for tag in record.get("example_tags", []) if tag.startswith("theme:")]
    return Sample(
        id=record["prompt_id"],
        input=chat_messages(record["prompt"]),
        metadata={"rubrics": record["rubrics"], "themes": themes},
    )


def conversation_text(messages, response: str) -> str:
    turns = [f"{m.role}: {m.text}" for m in messages] + [f"assistant: {response}"]
    return "\n\n".join(turns)


def parse_grade(reply: str) -> bool | None:
    """criteria_met from the grader's JSON reply; None if there is no such boolean."""
    found = JSON_OBJECT.search(reply or "")
    try:
        met = json.loads(found.group(0)).get("criteria_met") if found else None
    except (json.JSONDecodeError, AttributeError):
        return None
    if isinstance(met, str) and met.lower() in ("true", "false"):
        met = met.lower() == "true"
    return met if isinstance(met, bool) else None


async def grade_item(grader, conversation: str, criterion: str, attempts: int) -> tuple[bool | None, str]:
    prompt, reply = GRADER_PROMPT.format(conversation=conversation, criterion=criterion), ""
    for _ in range(attempts):
        output = await grader.generate([ChatMessageUser(content=prompt)])
        reply = output.completion
        met = parse_grade(reply)
        if met is not None:
            return met, reply
    return None, reply


def rubric_score(rubrics: list[dict], met: list[bool]) -> float:
    positive = sum(item["points"] for item in rubrics if item["points"] > 0)
    achieved = sum(item["points"] for item, ok in zip(rubrics, met) if ok)
    return min(1.0, max(0.0, achieved / positive)) if positive > 0 else 0.0


@scorer(metrics=[graded_mean(), graded_bootstrap_stderr()])
def rubric_grader(attempts: int):
    async def score(state: TaskState, target: Target) -> Score:
        rubrics = state.metadata["rubrics"]
        response = strip_thinking(state.output.completion)
        if not response:  # meets no positive item; penalties cannot lower it below 0
            return Score(value=0.0, answer="", explanation="empty response")
        conversation = conversation_text(state.input if isinstance(state.input, list) else [], response)
        try:
            grades = await asyncio.gather(
                *(grade_item(grader_model(), conversation, item["criterion"], attempts) for item in rubrics)
            )
        except Exception as error:  # the grader's API failed after its own retries
            return grader_failure(f"grader error: {type(error).__name__}: {error}")
        met = [ok for ok, _ in grades]
        details = [
            {"criterion": item["criterion"], "points": item["points"], "met": ok, "grader": reply}
            for item, (ok, reply) in zip(rubrics, grades)
        ]
        if None in met:
            return grader_failure("grader reply without a criteria_met boolean", items=details)
        return Score(value=rubric_score(rubrics, met), answer=response, metadata={"items": details})

    return score


@task
def healthbench(data_dir: str, limit: int | None = None, grader: str | None = None) -> Task:
    """grader: a model to bind to the grader role (e.g. task.yaml's grader.model); None leaves
    the role to eval(model_roles={"grader": ...})."""
    settings = TASK.spec
    records = [r for r in read_jsonl(Path(data_dir) / "test.jsonl") if is_easy(r, settings["subset"])]
    random.Random(settings["shuffle_seed"]).shuffle(records)
    samples = [record_to_sample(r) for r in records]
    return TASK.build(
        samples,
        limit=limit,
        solver=generate(),
        scorer=rubric_grader(settings["grader"]["attempts"]),
        grader=grader,
    )


def test_texts(record: dict) -> list[str]:
    """What the judge's contamination check compares training data against: the conversation
    as one text (a short turn alone, "Any advice?", is in every corpus) and the reference answer.
    Rubric items are left out: many are generic advice that honest training data may contain."""
    ideal = (record.get("ideal_completions_data") or {}).get("ideal_completion")
    return ["\n".join(m["content"] for m in record["prompt"])] + ([ideal] if ideal else [])
