"""Arena-Hard Writing end to end: the task, run by inspect on PostTrainBench's recorded completions
with a grader replaying the replies its code received, scores exactly as PostTrainBench did; its
faults under posttrainbench-v1, their fixes under the corrected protocol; its published 0.5."""

import json

import pytest
from graded_fixtures import ReplayGrader, fixture, grader_from, hashed_verdict

from ptb.core import protocol as protocols
from ptb.core.tasks import load_task, read_jsonl, spec, task_dir
from ptb.evaluation.evaluation import posttrainbench_alias, summarise
from ptb.evaluation.scripted_model import run, scripted
from ptb.tools import reproduce

DATA = task_dir("arenahardwriting") / "data"
ARENA = fixture("arenahardwriting")
V1, CORRECTED = protocols.POSTTRAINBENCH_V1, protocols.CORRECTED
QUESTIONS = {r["uid"]: r["prompt"] for r in read_jsonl(DATA / "test.jsonl")}


def answering(completions: dict[str, str]):
    """A scripted model answering each question (the whole prompt) with its completion."""
    return scripted(lambda prompt: completions[prompt])


def test_recorded_completions_score_as_posttrainbench_scored_them(tmp_path):
    cases = ARENA["cases"]
    completions = {QUESTIONS[c["uid"]]: c["completion"] for c in cases}
    calls = {g["user_sha256"]: g["grader"] for c in cases for g in c["games"]}
    grader = ReplayGrader(calls)
    task = load_task("arenahardwriting", DATA, V1, limit=len(cases))
    assert [s.id for s in task.dataset] == [c["uid"] for c in cases], "PostTrainBench's shuffled order"
    log = run(task, answering(completions), tmp_path, grader=grader.model())
    assert grader.unknown == [] and grader.unreplayed() == {}, "the same judge prompts, as often"
    assert {c.max_tokens for c in grader.configs} == {49152}
    assert {c.reasoning_effort for c in grader.configs} == {"medium"}
    scores = {s.id: next(iter(s.scores.values())) for s in log.samples}
    for case in cases:
        score, recorded = scores[case["uid"]], [g["score"] for g in case["games"]]
        if None in recorded:
            assert score.metadata["grader_failed"] and score.value == "N"
        else:
            assert score.metadata["labels"] == recorded and score.answer == case["judged_answer"]
    summary = summarise(log, V1)
    assert (
        summary["score"] == ARENA["metrics"]["accuracy"] and summary["stderr"] == ARENA["metrics"]["stderr"]
    )
    assert summary["samples_failed"] == 2 and summary["samples_scored"] == len(cases) - 2
    assert summary["score"] != pytest.approx(sum(summary_values(log)) / len(summary_values(log)))
    metrics = log.results.scores[0].metrics
    assert metrics["pooled_win_rate"].value == summary["score"]


def summary_values(log) -> list[float]:
    return [v for s in log.samples if isinstance(v := next(iter(s.scores.values())).value, float)]


def test_the_baseline_model_meets_itself_and_reproduces_its_published_score(tmp_path):
    """PostTrainBench evaluated Qwen/Qwen3-1.7B under its baseline's name: its fresh answers replaced
    the stored ones, so both games of each prompt were the same prompt and any judge answering as a
    function of the prompt gives exactly 0.5: the published score, which compare-reference finds."""
    recorded = ARENA["self_comparison"]
    fresh = {q: recorded["fresh_answer_prefix"] + q[:40] for q in QUESTIONS.values()}
    alias = posttrainbench_alias("results/cache/models/qwen3-1.7b/instruct", "Qwen/Qwen3-1.7B")
    assert alias == "Qwen3-1.7B" == spec("arenahardwriting")["baseline"]["model"]
    task = load_task("arenahardwriting", DATA, V1, alias)
    log = run(task, answering(fresh), tmp_path, grader=grader_from(hashed_verdict))
    summary = {"outcome": "ok", **summarise(log, V1)}
    assert summary["score"] == 0.5 == recorded["as_baseline_model"]["metrics"]["accuracy"]
    assert summary["stderr"] == recorded["as_baseline_model"]["metrics"]["stderr"]
    row = reproduce.compare(summary, "Qwen3-1.7B", "arenahardwriting")
    assert row["reference"] == 0.5 and row["difference"] == 0.0 and row["status"] == "within_ci"


def test_an_agents_model_and_the_corrected_protocol_meet_the_stored_answers(tmp_path):
    judge = grader_from(hashed_verdict)
    fresh = {q: "A fresh answer to: " + q[:40] for q in QUESTIONS.values()}
    for protocol, alias in ((V1, posttrainbench_alias("/runs/x/final_model")), (CORRECTED, "Qwen3-1.7B")):
        task = load_task("arenahardwriting", DATA, protocol, alias, limit=12)
        assert task.metadata["against_itself"] is False
        log = run(task, answering(fresh), tmp_path / protocol, grader=judge)
        for sample in log.samples:  # the opponent (A in the first game) is the stored answer
            assert sample.metadata["baseline"] != fresh[sample.input]


def label_judge(label: str):
    return grader_from(lambda game: f"My final verdict: [[{label}]]")


def test_a_label_posttrainbench_cannot_score_fails_v1_and_is_a_grader_failure_when_corrected(tmp_path):
    model = scripted(lambda prompt: "CANDIDATE")
    with pytest.raises(RuntimeError, match="none PostTrainBench scores"):
        run(load_task("arenahardwriting", DATA, V1, limit=2), model, tmp_path, grader=label_judge("A"))
    log = run(
        load_task("arenahardwriting", DATA, CORRECTED, limit=2), model, tmp_path, grader=label_judge("A")
    )
    assert all(next(iter(s.scores.values())).metadata["grader_failed"] for s in log.samples)
    assert summarise(log, CORRECTED)["score"] is None and summarise(log, CORRECTED)["samples_failed"] == 2


def test_judge_request_and_retries(tmp_path):
    """Three calls while the API fails, then the prompt is a grader failure; a reply without a
    label is not asked again (PostTrainBench's call_openai)."""
    seen = []

    def flaky(game: str):
        seen.append(game)
        if "DOWN" in game:
            return RuntimeError("API down")
        return "no label at all" if "MUTE" in game else "[[B>A]]"

    task = load_task("arenahardwriting", DATA, V1, limit=3)
    order = [s.input for s in task.dataset]
    answers = dict(zip(order, ["CANDIDATE DOWN", "CANDIDATE MUTE", "CANDIDATE fine"]))
    log = run(task, answering(answers), tmp_path, grader=grader_from(flaky))
    calls = {marker: sum(marker in p for p in seen) for marker in ("DOWN", "MUTE", "fine")}
    assert calls == {"DOWN": 6, "MUTE": 2, "fine": 2}
    failed = [s.id for s in log.samples if next(iter(s.scores.values())).metadata.get("grader_failed")]
    assert sorted(failed) == sorted(s.id for s in list(task.dataset)[:2])


def test_data_baseline_and_settings():
    records = read_jsonl(DATA / "test.jsonl")
    assert len(records) == spec("arenahardwriting")["samples"] == 250
    assert {r["category"] for r in records} == {"creative_writing"}
    baseline = read_jsonl(DATA / "Qwen3-1.7B.jsonl")
    assert {r["uid"] for r in baseline} == {r["uid"] for r in records}
    assert {r["model"] for r in baseline} == {"Qwen3-1.7B"}
    assert spec("arenahardwriting")["generation"]["max_tokens"] == 16384


def test_items_come_from_the_fixed_set_whatever_the_data_file_holds(tmp_path):
    """The hub's question.jsonl holds 500 hard prompts too, in its own order: the task takes
    PostTrainBench's 250 in its order; a data file missing some is refused by name."""
    records = read_jsonl(DATA / "test.jsonl")
    extra = [{**records[0], "uid": "hard-1", "category": "hard_prompt"}]

    def write(rows):
        (tmp_path / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))

    write(extra + records[::-1])
    assert [s.id for s in load_task("arenahardwriting", tmp_path).dataset] == [
        s.id for s in load_task("arenahardwriting", DATA).dataset
    ]
    write(records[1:])
    with pytest.raises(ValueError, match="1 of the 250 items"):
        load_task("arenahardwriting", tmp_path)


def test_the_grader_role_can_be_bound_by_the_task():
    assert load_task("arenahardwriting", DATA, limit=1).model_roles is None
    bound = load_task("arenahardwriting", DATA, limit=1, grader="mockllm/model")
    assert bound.model_roles["grader"].name == "model"
    with pytest.raises(ValueError, match="protocol"):
        load_task("arenahardwriting", DATA, "posttrainbench-v2")
