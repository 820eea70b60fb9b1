"""HealthBench end to end: the task, run by inspect on PostTrainBench's recorded completions with a
grader replaying the replies its code received, scores exactly as PostTrainBench did; its faults
under posttrainbench-v1, their fixes under the corrected protocol."""

import json

import pytest
from graded_fixtures import ReplayGrader, fixture, grader_from
from inspect_ai import eval as inspect_eval

from ptb.core import protocol as protocols
from ptb.core.tasks import load_task, module, read_jsonl, spec, task_dir
from ptb.evaluation.evaluation import summarise
from ptb.evaluation.scripted_model import prompt_text, run, scripted
from ptb.inputs.cache import prepare_dataset

HB = fixture("healthbench")
V1, CORRECTED = protocols.POSTTRAINBENCH_V1, protocols.CORRECTED
RECORDS = {r["prompt_id"]: r for r in read_jsonl(task_dir("healthbench") / spec("healthbench")["items"])}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """The task's offline data as the cache stage prepares it (data: local)."""
    folder = tmp_path_factory.mktemp("healthbench")
    prepare_dataset("healthbench", "local", folder)
    return folder


def conversation_key(turns) -> str:
    return "\n".join(turn["content"] for turn in turns)


def answering(cases: list[dict]):
    """A scripted model answering each recorded conversation with its recorded completion."""
    replies = {conversation_key(RECORDS[c["prompt_id"]]["prompt"]): c["completion"] for c in cases}
    return scripted(lambda prompt: replies[prompt])


def test_recorded_completions_score_as_posttrainbench_scored_them(tmp_path, data):
    cases = HB["cases"]
    grader = ReplayGrader(HB["grader_calls"])
    task = load_task("healthbench", data, V1, limit=len(cases))
    assert [s.id for s in task.dataset] == [c["prompt_id"] for c in cases], "PostTrainBench's shuffled order"
    log = run(task, answering(cases), tmp_path, grader=grader.model())
    assert grader.unknown == [] and grader.unreplayed() == {}, "the same grader prompts, as often"
    assert {c.max_tokens for c in grader.configs} == {49152} and {
        c.reasoning_effort for c in grader.configs
    } == {None}
    scores = {s.id: next(iter(s.scores.values())) for s in log.samples}
    for case in cases:
        score = scores[case["prompt_id"]]
        assert score.answer == case["graded_response"]
        assert [bool(item["met"]) for item in score.metadata["items"]] == [i["met"] for i in case["items"]]
        assert score.value == case["normalized_score"]
    summary = summarise(log, V1)
    expected = HB["metrics"]
    assert (summary["score"], summary["stderr"]) == (expected["accuracy"], expected["stderr"])
    assert summary["by_theme"] == expected["by_theme"] and summary["by_axis"] == expected["by_axis"]
    assert summary["total_grader_calls"] == expected["total_grader_calls"]
    assert summary["samples_scored"] == expected["n_examples"] and summary["samples_failed"] == 0
    assert log.results.scores[0].metrics["clipped_mean"].value == expected["accuracy"]
    # only the mean is clipped: the negative example counts as it is, a negative mean scores 0
    negative = scores[next(c["prompt_id"] for c in cases if c["completion"].startswith("ALL-BAD"))]
    clipped = module("healthbench").aggregate([negative, negative, scores[cases[-1]["prompt_id"]]])
    assert negative.value < 0 and clipped["score"] == 0.0 == HB["clipped_mean"]["accuracy"]
    assert clipped["stderr"] == HB["clipped_mean"]["stderr"] > 0


def penalty_grader(down: bool):
    """Every positive item met, every penalty item met too, or its grader down."""

    def grade(prompt: str):
        points = int(prompt.split("# Rubric item\n", 1)[1].split("]", 1)[0][1:])
        if points < 0 and down:
            return RuntimeError("grader API down")
        return "```json\n" + json.dumps({"explanation": "scripted", "criteria_met": True}) + "\n```"

    return grader_from(grade)


def test_a_broken_grader_never_applies_a_penalty_under_v1_and_fails_the_sample_when_corrected(tmp_path, data):
    model = scripted(lambda prompt: "A careful reply.")
    penalised = run(
        load_task("healthbench", data, V1, limit=3), model, tmp_path, grader=penalty_grader(False)
    )
    broken = run(load_task("healthbench", data, V1, limit=3), model, tmp_path, grader=penalty_grader(True))
    values = {s.id: next(iter(s.scores.values())).value for s in broken.samples}
    assert all(v == 1.0 for v in values.values()), "penalty items never graded: not met"
    assert summarise(penalised, V1)["score"] < summarise(broken, V1)["score"] == 1.0
    corrected = run(
        load_task("healthbench", data, CORRECTED, limit=3), model, tmp_path, grader=penalty_grader(True)
    )
    assert all(next(iter(s.scores.values())).metadata["grader_failed"] for s in corrected.samples)
    assert summarise(corrected, CORRECTED)["samples_failed"] == 3


def test_a_reply_writing_the_placeholder_gets_the_rubric_pasted_in_under_v1_only(tmp_path, data):
    seen = []

    def grade(prompt: str):
        seen.append(prompt)
        return '{"criteria_met": false}'

    model = scripted(lambda prompt: "See <<rubric_item>> here.")
    for protocol in (V1, CORRECTED):
        seen.clear()
        run(
            load_task("healthbench", data, protocol, limit=1),
            model,
            tmp_path / protocol,
            grader=grader_from(grade),
        )
        pasted = [p.split("# Rubric item")[0].count("See [") for p in seen]
        assert pasted == [1 if protocol == V1 else 0] * len(seen)


def test_grader_retries_five_times_on_errors_and_unusable_replies(tmp_path, data):
    attempts = {}

    def grade(prompt: str):
        attempts[prompt] = attempts.get(prompt, 0) + 1
        if attempts[prompt] <= 2:
            return RuntimeError("rate limited")
        if attempts[prompt] <= 4:
            return '{"criteria_met": "true"}'  # a string: not a verdict
        return '```json\n{"criteria_met": true}\n```'

    task = load_task("healthbench", data, V1, limit=1)
    log = run(task, scripted(lambda p: "ok"), tmp_path, grader=grader_from(grade))
    points = [item["points"] for item in next(iter(task.dataset)).metadata["rubrics"]]
    assert set(attempts.values()) == {5}, "two API errors and two string booleans cost four calls"
    assert next(iter(log.samples[0].scores.values())).value == sum(points) / sum(p for p in points if p > 0)


def test_items_are_posttrainbenchs_245_whatever_the_data_file_holds(tmp_path, data):
    records = list(RECORDS.values())
    assert len(records) == spec("healthbench")["samples"] == 245 == len(HB["example_order"])
    other = {**records[0], "prompt_id": "not-in-the-set"}
    (tmp_path / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in [other, *records[::-1]]))
    ids = [s.id for s in load_task("healthbench", tmp_path).dataset]
    assert ids == [s.id for s in load_task("healthbench", data).dataset] and "not-in-the-set" not in ids
    (tmp_path / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records[:-2]))
    with pytest.raises(ValueError, match="2 of the 245 items"):
        load_task("healthbench", tmp_path)
    assert spec("healthbench")["generation"]["max_tokens"] == 16384


def test_the_grader_sees_the_conversation_as_posttrainbench_formats_it(tmp_path, data):
    seen = []
    model = scripted(lambda prompt: "<think>\nplan\n</think>\n\nMy reply.")
    run(
        load_task("healthbench", data, V1, limit=1),
        model,
        tmp_path,
        grader=grader_from(lambda p: seen.append(p) or "{}"),
    )
    sample = next(iter(load_task("healthbench", data, limit=1).dataset))
    turns = "\n\n".join(f"{m.role}: {m.text}" for m in sample.input)
    assert seen and all(
        f"# Conversation\n{turns}\n\nassistant: My reply.\n\n# Rubric item\n[" in p for p in seen
    )
    assert prompt_text(sample.input)  # the scripted model saw the conversation


def test_an_errored_sample_scores_zero_under_the_corrected_protocol(tmp_path, data):
    """The corrected protocol scores an errored sample 0 (leaving it out would raise the score);
    the task's own aggregate counts it so. (Under v1 one errored sample fails the whole eval:
    ptb.evaluation.evaluation.evaluate, tests/evaluation/test_evaluation.py.)"""
    task = load_task("healthbench", data, CORRECTED, limit=3)
    broken = next(iter(task.dataset)).input[-1].text

    def respond(prompt: str):
        if prompt.endswith(broken):
            raise RuntimeError("the model server died")
        return "A reply."

    [log] = inspect_eval(
        task,
        model=scripted(respond),
        model_roles={"grader": grader_from(lambda p: '{"criteria_met": true}')},
        display="none",
        log_dir=str(tmp_path),
        fail_on_error=False,
    )
    judged = [next(iter(s.scores.values())).value for s in log.samples if not s.error]
    assert len(judged) == 2 and sum(1 for s in log.samples if s.error) == 1
    summary = summarise(log, CORRECTED)
    assert summary["score"] == pytest.approx(sum(judged) / 3) and summary["samples_failed"] == 1
