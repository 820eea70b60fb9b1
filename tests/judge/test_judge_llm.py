"""The optional LLM judge, with inspect's mockllm standing in for an API model."""

import json

import pytest
from inspect_ai.model import ModelOutput, ModelUsage
from judge_helpers import check

from ptb.judge import llm_judge

CLEAN = {"contamination": False, "disallowed_model": False, "forbidden_api": False, "justification": "ok"}
FLAGGED = {**CLEAN, "contamination": True, "justification": "trained on test.jsonl"}


def output(content) -> ModelOutput:
    text = content if isinstance(content, str) else json.dumps(content)
    out = ModelOutput.from_content(model="mockllm", content=text)
    # with no usage, inspect would fetch a tokenizer to count tokens (no network here)
    out.usage = ModelUsage(input_tokens=1, output_tokens=1, total_tokens=2)
    return out


def llm(*replies, votes=None, **extra):
    return {
        "llm": {
            "model": "mockllm/model",
            "votes": votes or len(replies),
            "model_args": {"custom_outputs": [output(r) for r in replies]},
            **extra,
        }
    }


def test_clean_votes(run):
    verdict = run.review(llm(CLEAN, CLEAN, CLEAN))
    result = check(verdict, "llm_judge")
    assert result["passed"] and verdict["outcome"] == "clean"
    assert result["evidence"]["prompt_version"] == "v1" and len(result["evidence"]["votes"]) == 3


def test_flagged_votes_fail_the_check(run):
    verdict = run.review(llm(FLAGGED, FLAGGED, FLAGGED))
    result = check(verdict, "llm_judge")
    assert not result["passed"] and result["evidence"]["majority"]["contamination"]
    # advisory by default: the deterministic checks decide unless the policy names llm_judge
    assert verdict["outcome"] == "clean"
    strict = run.review({**llm(FLAGGED, FLAGGED, FLAGGED), "disqualify": ["llm_judge"]})
    assert strict["outcome"] == "disqualified" and strict["reasons"][0].startswith("llm_judge")


@pytest.mark.parametrize(
    "replies, flagged",
    [
        ((FLAGGED, FLAGGED, CLEAN), True),
        ((FLAGGED, CLEAN, CLEAN), False),
        ((CLEAN, FLAGGED, CLEAN), False),
    ],
)
def test_majority_of_three(run, replies, flagged):
    result = check(run.review(llm(*replies)), "llm_judge")
    assert result["evidence"]["majority"]["contamination"] is flagged
    assert not result["evidence"]["majority"]["forbidden_api"]


@pytest.mark.parametrize(
    "bad",
    [
        "I think the run is clean.",
        '{"contamination": false, "disallowed_model": false}',
        '{"contamination": "no", "disallowed_model": false, "forbidden_api": false, "justification": ""}',
        '{"contamination": false, "disallowed_model": false, "forbidden_api": false, "justification": "x"',
    ],
)
def test_malformed_vote_is_a_judge_error(run, bad):
    verdict = run.review(llm(CLEAN, bad, CLEAN))
    assert verdict["outcome"] == "judge_error" and not verdict["disqualified"]
    result = check(verdict, "llm_judge")
    assert not result["passed"] and result["evidence"]["malformed"][0]["vote"] == 1


def test_model_failure_is_a_judge_error(run):
    verdict = run.review({"llm": {"model": "no-such-provider/model", "votes": 1}})
    assert verdict["outcome"] == "judge_error"


def test_fenced_json_is_accepted():
    assert llm_judge.parse_vote("```json\n" + json.dumps(FLAGGED) + "\n```")["contamination"] is True


def test_prompt_carries_trace_and_listing(run):
    prompts = []

    def reply(messages, tools, tool_choice, config):
        prompts.append(messages[-1].text)
        return output(CLEAN)

    run.write("train_on_it.py", "print(1)\n")
    (run.run_dir / "trace.md").write_text(f"I will fine-tune on the training split.\nexport KEY={run.key}\n")
    settings = {"llm": {"model": "mockllm/model", "votes": 1, "model_args": {"custom_outputs": reply}}}
    run.review(settings)
    assert "I will fine-tune on the training split." in prompts[0]
    assert "train_on_it.py" in prompts[0] and "{{TRACE}}" not in prompts[0]
    assert run.key not in prompts[0]  # the judge model is an outside API


def test_long_trace_keeps_head_and_tail(tmp_path):
    (tmp_path / "trace.md").write_text("HEAD" + "x" * 10000 + "TAIL")
    summary = llm_judge.trace_summary(tmp_path, 1000)
    assert summary.startswith("HEAD") and summary.endswith("TAIL") and len(summary) < 1100
