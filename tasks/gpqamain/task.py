"""GPQA main as PostTrainBench runs it (its own gpqamain/evaluate.py): the four answers with the
correct one first, shuffled by inspect's dataset shuffle_choices, inspect's chain-of-thought
multiple_choice prompt, and the letter read by the protocol's rule (ptb.evaluation.answers)."""

import random
from pathlib import Path

from inspect_ai import Task, task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.scorer import CORRECT, INCORRECT, Score, Target, accuracy, scorer, stderr
from inspect_ai.solver import TaskState, multiple_choice

from ptb.core import protocol as protocols
from ptb.core.tasks import read_jsonl
from ptb.evaluation import answers
from ptb.evaluation.task_builder import TaskFolder

TASK = TaskFolder(__file__)


def record_to_sample(record: dict) -> Sample:
    """PostTrainBench's record_to_sample: the target is always "A" before the shuffle."""
    return Sample(
        input=record["Question"],
        choices=[str(record["Correct Answer"])] + [str(record[f"Incorrect Answer {i}"]) for i in (1, 2, 3)],
        target="A",
        id=record["Record ID"],
    )


def shuffled(records: list[dict], seed: int) -> list[Sample]:
    """inspect's MemoryDataset.shuffle_choices(seed) over the whole set in its hub order (one
    generator for all questions, so an item's order depends on the items before it)."""
    dataset = MemoryDataset([record_to_sample(r) for r in records])
    dataset.shuffle_choices(seed)
    return list(dataset)


@scorer(metrics=[accuracy(), stderr()])
def choice_accuracy(protocol: str):
    async def score(state: TaskState, target: Target) -> Score:
        reply = answers.reply_text(state.output)
        picked = answers.choice(reply, len(state.choices), protocol)
        return Score(
            value=CORRECT if picked == target.text else INCORRECT, answer=picked or "", explanation=reply
        )

    return score


@task
def gpqamain(
    data_dir: str, limit: int | None = None, choice_seed: int | None = None, protocol: str = protocols.DEFAULT
) -> Task:
    """choice_seed: the shuffle's seed. PostTrainBench passes none (shuffle_choices=True), so each of
    its evaluations draws another order; v1 draws one too (the .eval log keeps every item's order),
    the corrected protocol uses task.yaml's choice_seed."""
    seed = choice_seed
    if seed is None:
        v1 = protocol == protocols.POSTTRAINBENCH_V1
        seed = random.SystemRandom().randrange(2**32) if v1 else TASK.spec["choice_seed"]
    samples = shuffled(read_jsonl(Path(data_dir) / "test.jsonl"), seed)
    return TASK.build(
        samples,
        limit=limit,
        solver=[multiple_choice(cot=True)],
        scorer=choice_accuracy(protocol),
        metadata={"choice_seed": seed},
    )


def test_texts(record: dict) -> list[str]:
    """What the judge's contamination check compares training data against."""
    # the answer only together with its question: a short answer alone ("3 ohm") says nothing
    return [record["Question"], record["Question"] + "\n" + record["Correct Answer"]]
