"""AIME 2025 as PostTrainBench runs it: inspect_evals' aime2025 prompt, zero-shot, the final
number matched by the protocol's rule (ptb.evaluation.answers; v1: inspect_evals' aime_scorer of its time)."""

from pathlib import Path

from inspect_ai import Task, task
from inspect_ai.dataset import Sample
from inspect_ai.scorer import CORRECT, INCORRECT, Score, Target, accuracy, scorer, stderr
from inspect_ai.solver import TaskState, generate, prompt_template
from inspect_evals.utils.aime_common import USER_PROMPT_TEMPLATE

from ptb.core import protocol as protocols
from ptb.core.tasks import read_jsonl
from ptb.evaluation import answers
from ptb.evaluation.task_builder import TaskFolder

TASK = TaskFolder(__file__)


def record_to_sample(record: dict) -> Sample:
    """inspect_evals' aime2025 record_to_sample (id, problem, answer as text)."""
    return Sample(id=record["id"], input=record["problem"], target=str(record["answer"]))


@scorer(metrics=[accuracy(), stderr()])
def integer_match(protocol: str):
    async def score(state: TaskState, target: Target) -> Score:
        reply = answers.reply_text(state.output)
        answer, correct = answers.aime_match(reply, target.text, protocol)
        return Score(value=CORRECT if correct else INCORRECT, answer=answer, explanation=reply)

    return score


@task
def aime2025(data_dir: str, limit: int | None = None, protocol: str = protocols.DEFAULT) -> Task:
    samples = [record_to_sample(r) for r in read_jsonl(Path(data_dir) / "test.jsonl")]
    return TASK.build(
        samples,
        limit=limit,
        solver=[prompt_template(USER_PROMPT_TEMPLATE), generate()],
        scorer=integer_match(protocol),
    )


def test_texts(record: dict) -> list[str]:
    """What the judge's contamination check compares training data against."""
    return [record["problem"]]
