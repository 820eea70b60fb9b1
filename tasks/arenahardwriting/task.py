"""Arena-Hard v2.0 creative writing, judged as PostTrainBench v1 judges it (rules in scoring.py).

The model answers each of the 250 prompts; the grader judges its answer against the baseline
model's stored answer (Qwen3-1.7B, data/Qwen3-1.7B.jsonl) in two games, the baseline first as
A. A sample's value is the mean of its games' entries (a decisive label counts 3 times); the
task's score pools every entry of every judged prompt (`aggregate`, and the pooled metrics).
A prompt with a game left without a label (none in the reply, or the grader's API down three
times) is a grader failure: left out, and counted, as PostTrainBench leaves it out.

Protocols (task arg `protocol`, ptb/core/protocol.py):
- posttrainbench-v1 reproduces PostTrainBench, faults included: a label it cannot score
  ([[A]]) errors the sample, as it fails PostTrainBench's eval; the baseline model evaluated
  under its own name (model_alias Qwen3-1.7B) is judged against its own answers, so it scores
  exactly 0.5 (its published score).
- posttrainbench-v1-corrected: such a label is a grader failure; every model meets the stored
  answers; thinking is dropped, an unclosed block too (v1 judges it), and an empty answer loses
  both games decisively without a grader call.
"""

import asyncio
import functools
import random
import statistics

import anyio
from inspect_ai import Task, task
from inspect_ai.dataset import Sample
from inspect_ai.model import ChatMessageSystem, ChatMessageUser, GenerateConfig
from inspect_ai.scorer import SampleScore, Score, Target, metric, scorer
from inspect_ai.solver import TaskState, generate

from ptb.core import protocol as protocols
from ptb.core import tasks
from ptb.evaluation import answers
from ptb.evaluation.repetition import limit_repetitions
from ptb.evaluation.task_builder import TaskFolder, grader_failure, grader_model

TASK = TaskFolder(__file__)
S = tasks.module("arenahardwriting", "scoring")
EMPTY_ANSWER = [0.0] * (2 * S.DECISIVE_WEIGHT)  # corrected: an empty answer loses both games decisively
JUDGE_CONFIG = GenerateConfig(
    max_tokens=S.JUDGE_REQUEST["max_completion_tokens"], reasoning_effort=S.JUDGE_REQUEST["reasoning_effort"]
)


async def judge(messages: list[dict]) -> tuple[str | None, str]:
    """(label or None, the judge's reply) of one game: up to three calls while the grader's API
    raises, as PostTrainBench's call_openai; a reply without a label is not asked again."""
    chat = [
        ChatMessageSystem(content=messages[0]["content"]),
        ChatMessageUser(content=messages[1]["content"]),
    ]
    failure = ""
    for _ in range(S.JUDGE_ATTEMPTS):
        try:
            output = await grader_model().generate(chat, config=JUDGE_CONFIG)
        except Exception as error:  # the grader's API failed (after inspect's own retries)
            failure = f"grader error: {type(error).__name__}: {error}"
            continue
        return S.verdict_label(output.completion), output.completion
    return None, failure


def entries(score: Score) -> list[float]:
    """A judged sample's pooled entries (none for a grader failure)."""
    return [] if tasks.grader_failed(score) else (score.metadata or {}).get("entries", [])


@metric
def pooled_win_rate():
    """PostTrainBench's score: the mean over every game entry of every judged prompt."""

    def compute(scores: list[SampleScore]) -> float:
        return S.pooled(entries(s.score) for s in scores)["accuracy"]

    return compute


@metric
def pooled_stderr():
    """PostTrainBench's stderr: of the pooled entries (sample standard deviation / sqrt(n))."""

    def compute(scores: list[SampleScore]) -> float:
        return S.pooled(entries(s.score) for s in scores)["stderr"]

    return compute


def judged_answer(raw: str, v1: bool) -> str:
    """What the judge reads (in a worker thread: the loop cutting takes ~2 s on 16k tokens)."""
    return S.answer_for_judge(raw) if v1 else limit_repetitions(answers.corrected_completion(raw))


@scorer(metrics=[pooled_win_rate(), pooled_stderr()])
def judged_against_baseline(protocol: str, against_itself: bool):
    v1 = protocol == protocols.POSTTRAINBENCH_V1

    async def score(state: TaskState, target: Target) -> Score:
        answer = await anyio.to_thread.run_sync(judged_answer, answers.reply_text(state.output), v1)
        if not answer and not v1:  # nothing to judge: two decisive losses, no grader call
            return Score(value=0.0, answer="", explanation="empty answer", metadata={"entries": EMPTY_ANSWER})
        opponent = answer if against_itself else state.metadata["baseline"]
        games = S.games(state.input_text, answer, opponent)
        results = await asyncio.gather(*(judge(messages) for _, messages in games))
        labels, replies = [label for label, _ in results], [reply for _, reply in results]
        details = {
            "labels": labels,
            "candidate_as": [position for position, _ in games],
            "judgments": replies,
        }
        if None in labels:  # PostTrainBench drops the prompt, both its games
            return grader_failure("a game without a verdict label, or the grader's API down", **details)
        try:
            pooled = S.prompt_entries(labels, details["candidate_as"])
        except S.UnknownLabel as error:
            if v1:
                raise ValueError(
                    f"judge label {error.args[0]!r} is none PostTrainBench scores: its eval fails here"
                ) from error
            return grader_failure(f"a verdict label that scores nothing: {error.args[0]!r}", **details)
        return Score(
            value=statistics.fmean(pooled),
            answer=answer,
            explanation="\n\n---\n\n".join(replies),
            metadata={**details, "entries": pooled},
        )

    return score


@functools.cache
def baseline_answers() -> dict[str, str]:
    """uid -> the baseline model's answer, as PostTrainBench stores it (data/Qwen3-1.7B.jsonl)."""
    path = TASK.dir / TASK.spec["baseline"]["file"]
    return {r["uid"]: r["messages"][-1]["content"]["answer"] for r in tasks.read_jsonl(path)}


@task
def arenahardwriting(
    data_dir: str,
    limit: int | None = None,
    grader: str | None = None,
    protocol: str = protocols.DEFAULT,
    model_alias: str | None = None,
) -> Task:
    """grader: a model to bind to the grader role (None leaves the role to eval(model_roles=...)).
    model_alias: the evaluated model's name as PostTrainBench's evaluate.py derives it (the last
    part of its --model-path: final_model for an agent's model, Qwen3-1.7B for the hub's)."""
    protocols.check(protocol)
    settings = TASK.spec
    records = TASK.fixed_items(data_dir, "uid")  # PostTrainBench's question.jsonl, in its order
    random.Random(settings["shuffle_seed"]).shuffle(records)  # evaluate.py's order, before --limit
    samples = [
        Sample(id=r["uid"], input=r["prompt"], metadata={"baseline": baseline_answers()[r["uid"]]})
        for r in records
    ]
    baseline = settings["baseline"]["model"]
    against_itself = protocol == protocols.POSTTRAINBENCH_V1 and model_alias == baseline
    return TASK.build(
        samples,
        limit=limit,
        solver=generate(),
        scorer=judged_against_baseline(protocol, against_itself),
        metadata={"baseline": baseline, "protocol": protocol, "against_itself": against_itself},
        grader=grader,
    )


def aggregate(scores: list[Score | None]) -> dict:
    """metrics.json's score from every (sample, epoch) score: PostTrainBench's pooled win rate and
    its stderr; ci95 from that stderr (normal approximation, within [0, 1]). None: an errored
    sample that the protocol scores 0 (both games lost)."""
    pooled = S.pooled([0.0, 0.0] if score is None else entries(score) for score in scores)
    if not pooled["entries"]:
        return {"score": None, "stderr": None, "ci95": None, "games_pooled": 0}
    half = 1.96 * pooled["stderr"]
    return {
        "score": pooled["accuracy"],
        "stderr": pooled["stderr"],
        "ci95": [max(0.0, pooled["accuracy"] - half), min(1.0, pooled["accuracy"] + half)],
        "games_pooled": pooled["entries"],
    }


def test_texts(record: dict) -> list[str]:
    """What the judge's contamination check compares training data against."""
    return [record["prompt"]]
