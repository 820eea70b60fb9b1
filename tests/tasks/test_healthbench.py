"""HealthBench easy: rubric grader per criterion, clipped score, grader failures apart, offline."""

import json

import pytest

from ptb.evaluation import summarise
from ptb.scripted_model import reply, run, scripted, values
from ptb.tasks import load_task, module, read_jsonl, spec, task_dir

DATA = task_dir("healthbench") / "data"
MARKERS = ["ALL-MET", "NONE-MET", "", "<think>NONE-MET</think>ALL-MET", "PENALTIES-TOO", "MALFORMED"]


def grade(prompt: str):
    """The scripted grader: criteria_met as the response's marker says."""
    response = prompt.split("# Rubric item")[0].rsplit("assistant: ", 1)[1]
    criterion = prompt.split("# Rubric item\n", 1)[1].split("\n\n# Instructions")[0]
    if "MALFORMED" in response:
        return reply("criteria met, I think")
    points = next(item["points"] for item in RUBRICS if item["criterion"] == criterion)
    met = ("ALL-MET" in response and points > 0) or "PENALTIES-TOO" in response
    return reply(f"```json\n{json.dumps({'explanation': 'scripted', 'criteria_met': met})}\n```")


RUBRICS = [item for r in read_jsonl(DATA / "test.jsonl") for item in r["rubrics"]]


def test_rubric_scores_and_grader_failures(tmp_path):
    task = load_task("healthbench", DATA, limit=len(MARKERS))
    samples = list(task.dataset)
    marker_of = {s.input[-1].text: m for s, m in zip(samples, MARKERS)}

    def respond(prompt: str):
        return next(m for last, m in marker_of.items() if prompt.endswith(last))

    log = run(task, scripted(respond), tmp_path, grader=scripted(grade, "grader"))
    got = values(log)
    rubrics = {s.id: s.metadata["rubrics"] for s in samples}
    penalised = module("healthbench").rubric_score(
        rubrics[samples[4].id], [True] * len(rubrics[samples[4].id])
    )
    assert [got[s.id] for s in samples[:5]] == [1.0, 0.0, 0.0, 1.0, pytest.approx(penalised)]
    assert 0.0 <= penalised < 1.0, "penalty items subtract"
    failed = next(iter(log.samples[[s.id for s in log.samples].index(samples[5].id)].scores.values()))
    assert failed.metadata["grader_failed"] and failed.value == "N"
    summary = summarise(log)
    assert summary["samples_failed"] == 1 and summary["samples_scored"] == 5
    metrics = log.results.scores[0].metrics
    assert metrics["graded_mean"].value == pytest.approx(summary["score"])
    assert metrics["graded_bootstrap_stderr"].value > 0


def test_rubric_score_is_clipped():
    score = module("healthbench").rubric_score
    rubrics = [{"points": 5}, {"points": 5}, {"points": -8}]
    assert score(rubrics, [True, True, False]) == 1.0
    assert score(rubrics, [True, False, True]) == 0.0  # (5 - 8) / 10 clipped
    assert score(rubrics, [True, False, False]) == 0.5


def test_offline_data_is_the_easy_subset_in_the_hub_schema():
    settings = spec("healthbench")
    records = read_jsonl(DATA / "test.jsonl")
    assert records and all(module("healthbench").is_easy(r, settings["subset"]) for r in records)
    assert all({"prompt", "rubrics", "prompt_id", "example_tags"} <= set(r) for r in records)
    assert len(list(load_task("healthbench", DATA).dataset)) == len(records)
