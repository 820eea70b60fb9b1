"""HealthBench side by side with PostTrainBench v1 (fixtures from its own evaluate.py).

The fixture holds what PostTrainBench's code did with scripted completions and a scripted
grader: the request to vLLM, the response it handed the grader, the sha256 of every grader
prompt with the grader's replies and API failures in call order, each rubric item's verdict,
each example's score and the benchmark's metrics. These tests rebuild them with this
workflow's scoring (tasks/healthbench/scoring.py) and the task's data, and compare exactly.
"""

import random

import pytest
from graded_fixtures import fixture, scoring, sha

from ptb.core.tasks import read_jsonl, spec, task_dir

HB = fixture("healthbench")
S = scoring("healthbench")
RECORDS = {r["prompt_id"]: r for r in read_jsonl(task_dir("healthbench") / spec("healthbench")["items"])}


def replayed_verdict(calls: list[dict]) -> tuple[bool | None, int]:
    """(criteria_met, calls used) as grader.py takes them from an item's recorded calls: the first
    usable reply within five calls (an API error or an unusable reply costs one); None if none was."""
    for used, call in enumerate(calls[: S.GRADER_ATTEMPTS], start=1):
        met = S.criteria_met(call["reply"]) if "reply" in call else None
        if met is not None:
            return met, used
    return None, S.GRADER_ATTEMPTS


def graded(case: dict) -> tuple[list[bool], list[int]]:
    """Each item's verdict (a grader failure: not met) and how many calls it took, rebuilt."""
    record = RECORDS[case["prompt_id"]]
    conversation = S.conversation_text(record["prompt"], S.response_for_grader(case["completion"]))
    met, calls = [], []
    for item in record["rubrics"]:
        prompt = S.grader_prompt(conversation, S.rubric_item(item["criterion"], item["points"]))
        if sha(prompt) in HB["full_prompts"]:
            assert prompt == HB["full_prompts"][sha(prompt)]
        recorded = HB["grader_calls"][sha(prompt)]  # a KeyError here: a prompt PostTrainBench never sent
        verdict, used = replayed_verdict(recorded)
        assert used == len(recorded), "PostTrainBench stopped calling where this rebuild stops"
        met.append(bool(verdict))
        calls.append(used)
    return met, calls


def test_template_request_and_items_are_posttrainbenchs():
    assert S.GRADER_TEMPLATE == HB["grader_template"]
    assert {"model": S.GRADER_MODEL, **S.GRADER_REQUEST} == HB["grader_request"]
    assert list(RECORDS) == HB["example_order"] and len(RECORDS) == 245
    shuffled = list(RECORDS)
    random.Random(S.SHUFFLE_SEED).shuffle(shuffled)  # evaluate.py, before --limit
    assert shuffled[: len(HB["cases"])] == [case["prompt_id"] for case in HB["cases"]]


@pytest.mark.parametrize("case", HB["cases"], ids=lambda case: case["completion"][:20] or "empty")
def test_request_response_verdicts_and_example_score(case):
    record = RECORDS[case["prompt_id"]]
    assert case["request"]["messages"] == record["prompt"]
    assert case["request"]["max_tokens"] == S.MAX_NEW_TOKENS
    assert S.response_for_grader(case["completion"]) == case["graded_response"]
    met, _ = graded(case)
    assert met == [item["met"] for item in case["items"]]
    assert S.example_score([item["points"] for item in record["rubrics"]], met) == case["normalized_score"]


def test_metrics_are_posttrainbenchs():
    examples = [RECORDS[case["prompt_id"]] for case in HB["cases"]]
    verdicts = [graded(case)[0] for case in HB["cases"]]
    scores = [S.example_score([i["points"] for i in e["rubrics"]], m) for e, m in zip(examples, verdicts)]
    assert min(scores) < 0, "an example's score is not clipped"
    metrics = S.aggregate(scores)
    assert metrics["accuracy"] == HB["metrics"]["accuracy"] and metrics["stderr"] == HB["metrics"]["stderr"]
    assert metrics["n_examples"] == HB["metrics"]["n_examples"]
    assert S.by_theme(examples, scores) == HB["metrics"]["by_theme"]
    assert S.by_axis(examples, verdicts) == HB["metrics"]["by_axis"]
    assert sum(len(e["rubrics"]) for e in examples) == HB["metrics"]["total_grader_calls"]


def test_only_the_mean_is_clipped():
    by_completion = {case["completion"]: case["normalized_score"] for case in HB["cases"]}
    bad = by_completion["ALL-BAD: do nothing."]
    last = HB["cases"][-1]["normalized_score"]
    clipped = S.aggregate([bad, bad, last])
    assert bad < 0 and clipped["accuracy"] == 0.0 == HB["clipped_mean"]["accuracy"]
    assert clipped["stderr"] == HB["clipped_mean"]["stderr"] > 0


def test_grader_failures_count_as_not_met():
    """Five API errors, or five replies without a JSON boolean, leave the item not met: a penalty
    item then costs nothing (a broken grader raises such a score)."""
    by_completion = {case["completion"]: case for case in HB["cases"]}
    broken = by_completion["ALL-GOOD BROKEN-GRADER-ON-PENALTIES"]
    met, calls = graded(broken)
    penalties = [i for i, item in enumerate(RECORDS[broken["prompt_id"]]["rubrics"]) if item["points"] < 0]
    assert penalties and all(not met[i] and calls[i] == 5 for i in penalties)
    assert broken["normalized_score"] == 1.0
    prose = by_completion["ALL-GOOD FENCED-PROSE"]
    assert (
        graded(prose)[1] == [5] * len(RECORDS[prose["prompt_id"]]["rubrics"])
        and prose["normalized_score"] == 0
    )
    flaky = by_completion["HALF BAD-JSON-TWICE"]
    assert set(graded(flaky)[1]) == {3}, "an unusable reply is asked again"
    strings = by_completion["ALL-GOOD STRING-BOOLEAN"]
    assert set(graded(strings)[1]) == {5} and strings["normalized_score"] == 1.0, '"true" is not true'


def test_criteria_met_parsing():
    assert S.criteria_met('```json\n{"criteria_met": true}\n```') is True
    assert S.criteria_met('  {"explanation": "x", "criteria_met": false}  ') is False
    assert S.criteria_met('Here:\n```json\n{"criteria_met": true}\n```') is None
    assert (
        S.criteria_met('{"criteria_met": "true"}') is None and S.criteria_met('{"criteria_met": 1}') is None
    )
    assert S.criteria_met('["criteria_met"]') is None and S.criteria_met("7") is None
    assert S.criteria_met(None) is None and S.criteria_met("") is None


def test_a_reply_writing_the_placeholder_gets_the_rubric_pasted_in():
    """PostTrainBench fills <<conversation>> first, then every <<rubric_item>>, the reply's too."""
    case = HB["cases"][-1]
    assert "<<rubric_item>>" in case["completion"]
    graded(case)  # its prompts, with the rubric item pasted into the reply, are the recorded ones
    posttrainbench = S.grader_prompt("assistant: see <<rubric_item>>", "[5] item")
    assert posttrainbench.count("[5] item") == 2
    assert (
        S.grader_prompt("assistant: see <<rubric_item>>", "[5] item", in_one_pass=True).count("[5] item") == 1
    )
