"""ptb.audit.evallog against inspect's own reader on the awkward samples: a reply made of content
blocks, a sample whose model call failed, a score with no answer; and correct() on each value kind."""

from __future__ import annotations

import pytest
from inspect_ai import Task
from inspect_ai.dataset import Sample
from inspect_ai.log import read_eval_log
from inspect_ai.model import ChatMessageAssistant, ContentReasoning, ContentText, ModelOutput
from inspect_ai.scorer import includes

from ptb.audit import evallog
from ptb.evaluation import inspect_runner
from ptb.evaluation.scripted_model import USAGE, scripted


def answer(prompt: str):
    if "fail" in prompt:
        raise RuntimeError("the model server went away")
    if "blocks" in prompt:
        message = ChatMessageAssistant(
            content=[
                ContentReasoning(reasoning="count them"),
                ContentText(text="four"),
                ContentText(text="4"),
            ]
        )
        return ModelOutput.from_message(message)
    return "plain 7"


@pytest.fixture(scope="module")
def log_file(tmp_path_factory):
    task = Task(
        dataset=[
            Sample(id="a", input="reply in blocks", target="4"),
            Sample(id="b", input="please fail", target="1"),
            Sample(id="c", input="plain", target=["7", "seven"]),
        ],
        scorer=includes(),
    )
    model = scripted(answer)
    [log] = inspect_runner.run(
        task,
        model=model,
        display="none",
        log_dir=str(tmp_path_factory.mktemp("logs")),
        fail_on_error=False,
        score_display=False,
    )
    assert USAGE and log.location
    return log.location


def test_rows_agree_with_inspects_reader(log_file):
    ours = {r["id"]: r for r in evallog.read_samples(log_file)["rows"]}
    theirs = {s.id: s for s in read_eval_log(log_file).samples}
    assert ours.keys() == theirs.keys() == {"a", "b", "c"}
    for sid, sample in theirs.items():
        row = ours[sid]
        if sample.error:
            assert row["error"] == sample.error.message and "went away" in row["error"]
            assert row["value"] is None
        else:
            assert row["error"] is None
            assert row["completion"] == sample.output.completion
            [score] = sample.scores.values()
            assert row["value"] == score.value
    assert "four" in ours["a"]["completion"] and "4" in ours["a"]["completion"]
    assert "count them" not in ours["a"]["completion"]  # the reasoning block is not the reply
    assert ours["c"]["target"] == "7 | seven"


@pytest.mark.parametrize(
    "value, expected",
    [
        ("C", True),
        ("i", False),
        ("P", None),
        ("N", None),
        (True, True),
        (False, False),
        (0, False),
        (0.5, True),
        (1, True),
        (None, None),
        ([1], None),
    ],
)
def test_correct(value, expected):
    assert evallog.correct(value) is expected


def test_a_record_without_a_completion_field_reads_its_first_choice():
    """Older logs keep the reply only in output.choices, as a string or as content blocks."""
    blocks = {"choices": [{"message": {"content": [{"type": "reasoning"}, {"type": "text", "text": "42"}]}}]}
    [row] = evallog.sample_rows({"id": "x", "error": {"traceback": "boom"}, "output": blocks})
    assert row["completion"] == "42" and row["error"] == '{"traceback": "boom"}'
    [row] = evallog.sample_rows({"id": "y", "output": {"choices": [{"message": {"content": "7"}}]}})
    assert row["completion"] == "7" and row["error"] is None and row["scorer"] == ""
