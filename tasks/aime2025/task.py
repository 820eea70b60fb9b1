"""AIME 2025: zero-shot, the model ends with "ANSWER: <integer>"; scored by exact integer match."""

import re
from pathlib import Path

from inspect_ai import Task, task
from inspect_ai.dataset import Sample
from inspect_ai.scorer import CORRECT, INCORRECT, Score, Target, accuracy, scorer, stderr
from inspect_ai.solver import TaskState, generate, prompt_template

from ptb.task_builder import TaskFolder
from ptb.tasks import last_number, read_jsonl, strip_thinking

TASK = TaskFolder(__file__)

# {prompt} is the only placeholder; a literal brace would need doubling, so there is none.
PROMPT = (
    "Solve the following math problem step by step. The answer is an integer between 0 and 999.\n\n"
    "{prompt}\n\n"
    'End your response with a line "ANSWER: <integer>" giving only the final answer.'
)
BOXED = re.compile(r"\\boxed\{([^{}]*)\}")


def record_to_sample(record: dict, index: int) -> Sample:
    return Sample(id=str(record.get("id", index)), input=record["problem"], target=str(int(record["answer"])))


def extract_answer(completion: str) -> int | None:
    """The integer on the last ANSWER line, else in the last \\boxed{}; None if there is none."""
    text = strip_thinking(completion)
    lines = [line for line in text.splitlines() if line.strip().upper().startswith("ANSWER:")]
    candidate = lines[-1] if lines else (BOXED.findall(text) or [""])[-1]
    found = last_number(candidate)
    try:
        return int(found) if found is not None else None
    except ValueError:  # not an integer ("12.5") cannot match an AIME answer
        return None


@scorer(metrics=[accuracy(), stderr()])
def integer_match():
    async def score(state: TaskState, target: Target) -> Score:
        answer = extract_answer(state.output.completion)
        return Score(
            value=CORRECT if answer is not None and answer == int(target.text) else INCORRECT,
            answer=None if answer is None else str(answer),
            explanation=state.output.completion,
        )

    return score


@task
def aime2025(data_dir: str, limit: int | None = None) -> Task:
    records = read_jsonl(Path(data_dir) / "test.jsonl")
    samples = [record_to_sample(r, i) for i, r in enumerate(records)]
    return TASK.build(
        samples, limit=limit, solver=[prompt_template(PROMPT), generate()], scorer=integer_match()
    )


def test_texts(record: dict) -> list[str]:
    """What the judge's contamination check compares training data against."""
    return [record["problem"]]
