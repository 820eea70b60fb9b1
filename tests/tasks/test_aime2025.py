"""AIME 2025: exact integer match of the ANSWER line (or the last \\boxed{}), offline."""

import pytest

from ptb.scripted_model import by_fragment, run, scripted, values
from ptb.tasks import load_task, module, read_jsonl, spec, task_dir

DATA = task_dir("aime2025") / "data"


def test_scores_right_wrong_empty_thinking_and_boxed(tmp_path):
    records = read_jsonl(DATA / "test.jsonl")
    p = [r["problem"] for r in records]
    a = [int(r["answer"]) for r in records]
    model = scripted(
        by_fragment(
            {
                p[0]: f"Inclusion-exclusion.\nANSWER: {a[0]}",
                p[1]: f"ANSWER: {a[1] + 1}",
                p[2]: "",
                p[3]: f"<think>first try: ANSWER: {a[3] + 2}</think>\nRechecked.\nANSWER: {a[3]}",
                p[4]: f"The count is \\boxed{{{a[4]}}}.",
                p[5]: f"ANSWER: {a[5]}.5",
            }
        )
    )
    log = run(load_task("aime2025", DATA), model, tmp_path)
    assert list(values(log).values()) == ["C", "I", "I", "C", "C", "I"]


@pytest.mark.parametrize(
    "completion, expected",
    [
        ("ANSWER: 033", 33),
        ("ANSWER: $204$", 204),
        ("answer: 7\nANSWER: 8", 8),
        ("no final line, but \\boxed{12} and \\boxed{13}", 13),
        ("<think>ANSWER: 5", None),
        ("The answer is 42.", None),
    ],
)
def test_extract_answer(completion, expected):
    assert module("aime2025").extract_answer(completion) == expected


def test_fixtures_are_marked_and_in_the_hub_schema():
    records = read_jsonl(DATA / "test.jsonl")
    assert records and all(set(r) == {"problem", "answer", "id"} for r in records)
    assert all(r["problem"].startswith("FIXTURE") for r in records)
    assert spec("aime2025")["samples"] == 30
