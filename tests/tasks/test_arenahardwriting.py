"""Arena-Hard writing: pairwise grader vs the fixed baseline, both orders; grader failures apart."""

import re

import pytest

from ptb.evaluation import summarise
from ptb.scripted_model import by_fragment, reply, run, scripted, values
from ptb.tasks import load_task, module, read_jsonl, spec, task_dir

DATA = task_dir("arenahardwriting") / "data"
ANSWER_A = re.compile(
    r"<\|The Start of Assistant A's Answer\|>\n(.*?)\n<\|The End of Assistant A's Answer\|>", re.DOTALL
)


def judge(prompt: str):
    """The scripted grader: the verdict the candidate's answer asks for, in either position."""
    if "GRADER-ERROR" in prompt:
        raise RuntimeError("grader API down")
    model_is = "A" if "CANDIDATE" in ANSWER_A.search(prompt).group(1) else "B"
    base_is = "B" if model_is == "A" else "A"
    if "MALFORMED" in prompt:
        return reply("Both are fine, I cannot decide.")
    if "WIN" in prompt:
        return reply(f"The candidate is far better. [[{model_is}>>{base_is}]]")
    if "LOSE" in prompt:
        return reply(f"My final verdict is [[{base_is}>{model_is}]]")
    if "MIXED" in prompt:  # a decisive win as A, a slight loss as B
        return reply(f"[[{model_is}>>{base_is}]]" if model_is == "A" else f"[[{base_is}>{model_is}]]")
    raise AssertionError(prompt[:300])


def test_pairwise_win_rate_and_grader_failures(tmp_path):
    records = read_jsonl(DATA / "test.jsonl")[:7]
    p = [r["prompt"] for r in records]
    model = scripted(
        by_fragment(
            {
                p[0]: "CANDIDATE WIN: a vivid poem.",
                p[1]: "CANDIDATE LOSE: a dull poem.",
                p[2]: "",
                p[3]: "<think>MALFORMED draft</think>CANDIDATE WIN " + "la la la la " * 500,
                p[4]: "CANDIDATE MIXED",
                p[5]: "CANDIDATE MALFORMED",
                p[6]: "CANDIDATE GRADER-ERROR",
            }
        )
    )
    log = run(load_task("arenahardwriting", DATA, limit=7), model, tmp_path, grader=scripted(judge, "grader"))
    ids = [r["uid"] for r in records]
    got = values(log)
    assert [got[i] for i in ids[:5]] == [1.0, 0.0, 0.0, 1.0, 0.75]
    failed = {s.id: next(iter(s.scores.values())) for s in log.samples if s.id in ids[5:]}
    assert all(score.metadata["grader_failed"] and score.value == "N" for score in failed.values())
    thinking = next(s for s in log.samples if s.id == ids[3])
    answer = next(iter(thinking.scores.values())).answer
    assert "<think>" not in answer and answer.count("la ") < 20, "thinking stripped, repetition capped"
    summary = summarise(log)
    assert summary["samples_failed"] == 2 and summary["samples_scored"] == 5
    assert summary["score"] == pytest.approx((1 + 0 + 0 + 1 + 0.75) / 5)
    assert log.results.scores[0].metrics["graded_mean"].value == pytest.approx(summary["score"])


def test_parse_verdict():
    parse = module("arenahardwriting").parse_verdict
    assert parse("... [[A>B]] hmm, no: [[B>>A]]") == "B>>A"
    assert parse("final: [A<B]") == "B>A"
    assert parse("[[C>A]]") is None and parse("no label") is None


def test_data_baseline_and_settings():
    records = read_jsonl(DATA / "test.jsonl")
    baseline = {r["uid"] for r in read_jsonl(DATA / "baseline.jsonl")}
    assert len(records) == spec("arenahardwriting")["samples"] == 250
    assert {r["category"] for r in records} == {"creative_writing"}
    assert {r["uid"] for r in records} == baseline
    assert spec("arenahardwriting")["grader"]["model"]


def test_the_grader_role_can_be_bound_by_the_task():
    assert load_task("arenahardwriting", DATA, limit=1).model_roles is None
    bound = load_task("arenahardwriting", DATA, limit=1, grader="mockllm/model")
    assert bound.model_roles["grader"].name == "model"
