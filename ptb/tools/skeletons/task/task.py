"""{{title}}: TODO one line on the task; scored by exact match of the ANSWER line.

Scaffolded by `new-task {{name}}`. Edit record_to_sample for your records' fields, the
instruction, and the scorer; keep the @task function's name and arguments, test_texts and
reference_completion (validate-task and the judge use them).
"""

from pathlib import Path

from inspect_ai import Task, task
from inspect_ai.dataset import Sample
from inspect_ai.scorer import CORRECT, INCORRECT, Score, Target, accuracy, scorer, stderr
from inspect_ai.solver import TaskState, generate

from ptb.evaluation.task_builder import TaskFolder, system_prompt
from ptb.core.tasks import read_jsonl, strip_thinking

TASK = TaskFolder(__file__)  # the name, task.yaml and the Task builder of this folder
INSTRUCTION = 'Answer the question. End your response with a line "ANSWER: <answer>".'


def record_to_sample(record: dict) -> Sample:
    """One line of data/test.jsonl (the hub's record schema) as an inspect Sample."""
    return Sample(id=record["id"], input=record["question"], target=record["answer"])


def normalise(text: str) -> str:
    return " ".join(text.strip().strip(".").casefold().split())


def extract_answer(completion: str) -> str | None:
    """The text of the last ANSWER line outside <think> blocks; None if there is none."""
    for line in reversed(strip_thinking(completion).splitlines()):
        if line.strip().upper().startswith("ANSWER:"):
            return normalise(line.split(":", 1)[1])
    return None


@scorer(metrics=[accuracy(), stderr()])
def exact_answer():
    async def score(state: TaskState, target: Target) -> Score:
        answer = extract_answer(state.output.completion)
        return Score(
            value=CORRECT if answer is not None and answer == normalise(target.text) else INCORRECT,
            answer=answer,
            explanation=state.output.completion,
        )

    return score


@task
def {{name}}(data_dir: str, limit: int | None = None) -> Task:
    samples = [record_to_sample(r) for r in read_jsonl(Path(data_dir) / "test.jsonl")]
    return TASK.build(samples, limit=limit, solver=[system_prompt(INSTRUCTION), generate()], scorer=exact_answer())


def test_texts(record: dict) -> list[str]:
    """What the judge's contamination check compares training data against."""
    return [record["question"], record["answer"]]


def reference_completion(sample: Sample) -> str:
    """A completion that must score 1 on this sample (validate-task and the tests check it)."""
    return f"The answer follows.\nANSWER: {sample.target}"
