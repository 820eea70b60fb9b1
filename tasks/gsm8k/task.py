"""GSM8K with worked few-shot examples from train; scored by numeric match."""

from pathlib import Path

from inspect_ai import Task, task
from inspect_ai.dataset import Sample
from inspect_ai.scorer import CORRECT, INCORRECT, Score, Target, accuracy, scorer, stderr
from inspect_ai.solver import TaskState, generate

from ptb.task_builder import TaskFolder, system_prompt
from ptb.tasks import last_number, normalise_number, read_jsonl, strip_thinking

TASK = TaskFolder(__file__)

INSTRUCTION = (
    "Solve the math problem step by step. End your response with a line "
    '"ANSWER: <number>" giving only the final number.'
)


def split_answer(answer: str) -> tuple[str, str]:
    """GSM8K answers are 'reasoning #### number'."""
    reasoning, _, final = answer.partition("####")
    return reasoning.strip(), normalise_number(final.strip())


def record_to_sample(record: dict) -> Sample:
    _, final = split_answer(record["answer"])
    return Sample(input=record["question"], target=final)


def fewshot_prompt(train: list[dict], count: int) -> str:
    shots = []
    for record in train[:count]:
        reasoning, final = split_answer(record["answer"])
        shots.append(f"Question: {record['question']}\n{reasoning}\nANSWER: {final}")
    return INSTRUCTION + ("\n\nExamples:\n\n" + "\n\n".join(shots) if shots else "")


def extract_answer(completion: str) -> str | None:
    text = strip_thinking(completion)
    for line in reversed(text.splitlines()):
        if line.strip().upper().startswith("ANSWER:"):
            found = last_number(line)
            if found is not None:
                return found
    return last_number(text)


@scorer(metrics=[accuracy(), stderr()])
def numeric_match():
    async def score(state: TaskState, target: Target) -> Score:
        answer = extract_answer(state.output.completion)
        return Score(
            value=CORRECT if answer == target.text else INCORRECT,
            answer=answer,
            explanation=state.output.completion,
        )

    return score


@task
def gsm8k(data_dir: str, fewshot: int | None = None, limit: int | None = None) -> Task:
    data = Path(data_dir)
    test = [record_to_sample(r) for r in read_jsonl(data / "test.jsonl")]
    train_path = data / "train.jsonl"
    train = read_jsonl(train_path) if train_path.exists() else []
    count = TASK.spec["fewshot"] if fewshot is None else fewshot
    return TASK.build(
        test,
        limit=limit,
        solver=[system_prompt(fewshot_prompt(train, count)), generate()],
        scorer=numeric_match(),
    )


def test_texts(record: dict) -> list[str]:
    """What the judge's contamination check compares training data against."""
    return [record["question"], record["answer"]]
