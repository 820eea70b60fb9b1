"""HumanEval: pass@1 in the sandbox, offline; and the demo's own training problems."""

import pytest
from inspect_ai import task_with

from ptb.core.protocol import CORRECTED, POSTTRAINBENCH_V1
from ptb.core.tasks import load_task, module, offline_records, read_jsonl, task_dir
from ptb.evaluation.sandbox import run_tests
from ptb.evaluation.scripted_model import by_fragment, run, scripted, values
from ptb.inputs.cache import prepare_dataset

TRAIN = task_dir("humaneval") / "data" / "train.jsonl"


def fenced(code: str) -> str:
    return f"```python\n{code}\n```"


def test_scores_right_wrong_empty_thinking_exit_and_loop(tmp_path):
    prepare_dataset("humaneval", "local", tmp_path / "data")
    records = read_jsonl(tmp_path / "data" / "test.jsonl")[:6]
    p = [r["prompt"] for r in records]
    solution = [r["prompt"] + r["canonical_solution"] for r in records]
    model = scripted(
        by_fragment(
            {
                p[0]: fenced(solution[0]),
                p[1]: fenced(p[1] + "    return None\n"),
                p[2]: "",
                p[3]: "<think>```python\ndef broken(:\n```</think>\n" + fenced(solution[3]),
                # leaving before the tests ran: PostTrainBench's bare `python -c` passes it (v1),
                # the corrected protocol's token harness does not
                p[4]: fenced(p[4] + "    exit(0)\n"),
                p[5]: fenced(p[5] + "    while True:\n        pass\n"),
            }
        )
    )
    humaneval = module("humaneval")
    for protocol, expected in [(POSTTRAINBENCH_V1, "CIICCI"), (CORRECTED, "CIICII")]:
        task = task_with(
            load_task("humaneval", tmp_path / "data", limit=6, protocol=protocol),
            scorer=humaneval.sandboxed_tests(protocol, 2.0, 512),
        )
        log = run(task, model, tmp_path / f"logs-{protocol}")
        assert "".join(values(log).values()) == expected, protocol
        assert "timeout" in log.samples[5].scores["sandboxed_tests"].explanation


def test_train_problems_are_short_original_and_pass_their_tests():
    train = read_jsonl(TRAIN)
    assert len(train) == 15
    official = offline_records("humaneval")
    assert {r["entry_point"] for r in train}.isdisjoint(r["entry_point"] for r in official)
    assert {r["prompt"] for r in train}.isdisjoint(r["prompt"] for r in official)
    for record in train:
        assert set(record) == {"task_id", "prompt", "canonical_solution", "test", "entry_point"}
        result = run_tests(
            record["prompt"] + record["canonical_solution"], record["test"], record["entry_point"], 5.0
        )
        assert result.passed, (record["task_id"], result)


@pytest.mark.parametrize("index", [0, 7])
def test_train_tests_fail_a_wrong_solution(index):
    record = read_jsonl(TRAIN)[index]
    assert not run_tests(
        record["prompt"] + "    return None\n", record["test"], record["entry_point"], 5.0
    ).passed
