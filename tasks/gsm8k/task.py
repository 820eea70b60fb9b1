"""GSM8K as PostTrainBench runs it: inspect_evals' gsm8k (10 worked examples from train in a
system message, its prompt), scored by the protocol's numeric match (ptb.evaluation.answers)."""

from pathlib import Path

import numpy as np
from inspect_ai import Task, task
from inspect_ai.dataset import Sample
from inspect_ai.scorer import CORRECT, INCORRECT, Score, Target, accuracy, scorer, stderr
from inspect_ai.solver import TaskState, generate, prompt_template, system_message
from inspect_evals.constants import DEFAULT_FEWSHOT_SEED
from inspect_evals.gsm8k.gsm8k import MATH_PROMPT_TEMPLATE, record_to_sample, sample_to_fewshot

from ptb.core import protocol as protocols
from ptb.core.tasks import read_jsonl
from ptb.evaluation import answers
from ptb.evaluation.task_builder import TaskFolder

TASK = TaskFolder(__file__)


def fewshot_samples(train: list[dict], count: int, seed: int = DEFAULT_FEWSHOT_SEED) -> list[Sample]:
    """The worked examples inspect_evals picks: hf_dataset(train, shuffle=True, seed=42, limit=10),
    i.e. the first `count` records of the Hugging Face datasets shuffle (numpy's default_rng(seed)
    permutation) of the train split in its hub order."""
    order = np.random.default_rng(seed).permutation(len(train))[:count]
    return [record_to_sample(train[i]) for i in order]


def fewshot_prompt(train: list[dict], count: int) -> str:
    return "\n\n".join(sample_to_fewshot(s) for s in fewshot_samples(train, count))


@scorer(metrics=[accuracy(), stderr()])
def numeric_match(protocol_name: str):
    async def score(state: TaskState, target: Target) -> Score:
        reply = answers.reply_text(state.output)
        answer, correct = answers.numeric_match(reply, target.text, protocol_name)
        return Score(value=CORRECT if correct else INCORRECT, answer=answer, explanation=reply)

    return score


@task
def gsm8k(
    data_dir: str, fewshot: int | None = None, limit: int | None = None, protocol: str = protocols.DEFAULT
) -> Task:
    data = Path(data_dir)
    test = [record_to_sample(r) for r in read_jsonl(data / "test.jsonl")]
    count = TASK.spec["fewshot"] if fewshot is None else fewshot
    solver = [prompt_template(MATH_PROMPT_TEMPLATE), generate()]
    if count:
        train_path = data / "train.jsonl"
        if not train_path.exists():
            raise FileNotFoundError(f"gsm8k: {count} worked examples need the train split: no {train_path}")
        solver.insert(0, system_message(fewshot_prompt(read_jsonl(train_path), count)))
    return TASK.build(test, limit=limit, solver=solver, scorer=numeric_match(protocol))


def test_texts(record: dict) -> list[str]:
    """What the judge's contamination check compares training data against."""
    return [record["question"], record["answer"]]
