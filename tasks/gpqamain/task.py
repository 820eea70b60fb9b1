"""GPQA main: four-choice questions with chain of thought; choices shuffled with a fixed seed."""

import random
import re
from pathlib import Path

from inspect_ai import Task, task
from inspect_ai.dataset import Sample
from inspect_ai.scorer import CORRECT, INCORRECT, Score, Target, accuracy, scorer, stderr
from inspect_ai.solver import TaskState, generate, solver

from ptb.task_builder import TaskFolder
from ptb.tasks import read_jsonl, strip_thinking

TASK = TaskFolder(__file__)

LETTERS = "ABCD"
PROMPT = (
    "Answer the following multiple choice question. Think step by step, then end your response "
    'with a line "ANSWER: $LETTER" where LETTER is one of A, B, C, D.\n\n{question}\n\n{choices}'
)
ANSWER = re.compile(
    r"(?i:ANSWER)\s*:\s*\**\s*\(?([A-D])\b"
)  # an uppercase letter: "answer: a lot" is no answer


def record_to_sample(record: dict, seed: int) -> Sample:
    """Shuffle the four answers with a generator seeded by (seed, Record ID): a question's
    order does not depend on which other questions are loaded, or in what order."""
    answers = [record["Correct Answer"]] + [record[f"Incorrect Answer {i}"] for i in (1, 2, 3)]
    order = list(range(4))
    random.Random(f"{seed}:{record['Record ID']}").shuffle(order)
    return Sample(
        id=record["Record ID"],
        input=record["Question"],
        choices=[str(answers[i]).strip() for i in order],
        target=LETTERS[order.index(0)],
    )


@solver
def multiple_choice_prompt():
    async def solve(state: TaskState, generate):
        choices = "\n".join(f"{LETTERS[i]}) {choice.value}" for i, choice in enumerate(state.choices))
        state.user_prompt.text = PROMPT.format(question=state.user_prompt.text, choices=choices)
        return state

    return solve


def extract_choice(completion: str) -> str | None:
    """The letter of the last "ANSWER: X" outside thinking blocks."""
    found = ANSWER.findall(strip_thinking(completion))
    return found[-1].upper() if found else None


@scorer(metrics=[accuracy(), stderr()])
def choice_accuracy():
    async def score(state: TaskState, target: Target) -> Score:
        answer = extract_choice(state.output.completion)
        return Score(
            value=CORRECT if answer == target.text else INCORRECT,
            answer=answer,
            explanation=state.output.completion,
        )

    return score


@task
def gpqamain(data_dir: str, limit: int | None = None) -> Task:
    seed = TASK.spec["choice_seed"]
    samples = [record_to_sample(r, seed) for r in read_jsonl(Path(data_dir) / "test.jsonl")]
    return TASK.build(
        samples, limit=limit, solver=[multiple_choice_prompt(), generate()], scorer=choice_accuracy()
    )


def test_texts(record: dict) -> list[str]:
    """What the judge's contamination check compares training data against."""
    # the answer only together with its question: a short answer alone ("3 ohm") says nothing
    return [record["Question"], record["Question"] + "\n" + record["Correct Answer"]]
