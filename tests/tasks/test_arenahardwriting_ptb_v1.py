"""Arena-Hard Writing side by side with PostTrainBench v1 (fixtures from its own evaluate.py).

The fixture holds what PostTrainBench's code did with scripted completions and a scripted judge:
the answer it handed the judge, the sha256 of every judge prompt, the judge's replies (and API
failures), the labels it parsed and the pooled score. These tests rebuild each of them with this
workflow's scoring (tasks/arenahardwriting/scoring.py) and the task's data, and compare exactly.
"""

import random

import pytest
from graded_fixtures import fixture, scoring, sha

from ptb.core.tasks import read_jsonl, task_dir

DATA = task_dir("arenahardwriting") / "data"
ARENA = fixture("arenahardwriting")
S = scoring("arenahardwriting")
QUESTIONS = {r["uid"]: r["prompt"] for r in read_jsonl(DATA / "test.jsonl")}
BASELINE = {r["uid"]: r["messages"][-1]["content"]["answer"] for r in read_jsonl(DATA / "Qwen3-1.7B.jsonl")}


def replayed_label(calls: list[dict]) -> str | None:
    """The label PostTrainBench's call_openai + get_score took from a game's recorded calls:
    the first reply after up to three API failures; None when all three failed."""
    for call in calls[: S.JUDGE_ATTEMPTS]:
        if "reply" in call:
            return S.verdict_label(call["reply"])
    return None


def test_judge_prompt_template_and_request_are_posttrainbenchs():
    assert S.JUDGE_SYSTEM_PROMPT == ARENA["system_prompt"]
    assert S.GAME_TEMPLATE == ARENA["prompt_template"]
    assert {"model": S.JUDGE_MODEL, **S.JUDGE_REQUEST} == ARENA["grader_request"]
    assert S.BASELINE_MODEL == ARENA["baseline_model"] == "Qwen3-1.7B"


def test_items_baseline_and_order():
    assert len(QUESTIONS) == 250 and set(QUESTIONS) == set(BASELINE)
    assert {r["category"] for r in read_jsonl(DATA / "test.jsonl")} == {"creative_writing"}
    uids = list(QUESTIONS)
    random.Random(42).shuffle(uids)  # evaluate.py get_questions, before --limit
    assert uids == ARENA["question_order"]


@pytest.mark.parametrize("case", ARENA["cases"], ids=lambda case: case["uid"])
def test_request_answer_prompts_and_labels(case):
    question = QUESTIONS[case["uid"]]
    assert case["request"]["messages"] == [{"role": "user", "content": question}]
    assert case["request"]["max_tokens"] == S.MAX_NEW_TOKENS
    answer = S.answer_for_judge(case["completion"])
    assert answer == case["judged_answer"]
    games = S.games(question, answer, BASELINE[case["uid"]])
    assert [position for position, _ in games] == ["B", "A"], "the baseline is A first"
    for (_, messages), recorded in zip(games, case["games"]):
        assert messages[0] == {"role": "system", "content": ARENA["system_prompt"]}
        if recorded["user"] is not None:
            assert messages[1]["content"] == recorded["user"]
        assert sha(messages[1]["content"]) == recorded["user_sha256"]
        assert replayed_label(recorded["grader"]) == recorded["score"]


def test_pooled_score_is_posttrainbenchs():
    entries = [
        S.prompt_entries([replayed_label(game["grader"]) for game in case["games"]], ["B", "A"])
        for case in ARENA["cases"]
    ]
    dropped = [case["uid"] for case, e in zip(ARENA["cases"], entries) if e is None]
    assert len(dropped) == 2, "no label in one game, the API down in one game: both games go"
    pooled = S.pooled(entries)
    assert pooled["accuracy"] == ARENA["metrics"]["accuracy"]
    assert pooled["stderr"] == ARENA["metrics"]["stderr"]
    per_prompt_mean = sum(sum(e) / len(e) for e in entries if e) / (len(entries) - 2)
    assert per_prompt_mean != pytest.approx(pooled["accuracy"]), "pooling is not a mean of prompt means"


def test_game_entries():
    assert S.game_entries("A>>B", "A") == [1.0] * 3 and S.game_entries("A>>B", "B") == [0.0] * 3
    assert S.game_entries("B<A", "A") == [1.0] and S.game_entries("A=B", "B") == [0.5]
    assert S.verdict_label("first [[A>>B]] then [[b>a]]") == "B>A"
    assert S.verdict_label("[A=B] only single") == "A=B" and S.verdict_label("no verdict") is None


def test_labels_posttrainbench_cannot_score_fail_its_eval():
    recorded = ARENA["crashes"]["unknown_label"]
    assert recorded["raises"] == "KeyError"
    label = S.verdict_label("I pick [[A]]")
    with pytest.raises(S.UnknownLabel):
        S.game_entries(label, "B")
    assert ARENA["crashes"]["no_content"]["raises"] == "AttributeError"  # a reply without content


def test_the_baseline_model_meets_itself_and_scores_exactly_one_half():
    """PostTrainBench's alias of Qwen/Qwen3-1.7B is its baseline's name: the fresh answers replace
    the stored ones, both games of a prompt are the same prompt, and any judge that answers as a
    function of the prompt gives exactly 0.5 (the published score). As final_model, the same
    answers meet the stored ones."""
    recorded = ARENA["self_comparison"]
    labels = ["A>>B", "A>B", "A=B", "B>A", "B>>A"]

    def judge(messages):
        return labels[int(sha(messages[1]["content"]), 16) % len(labels)]

    def score(opponent):
        entries = []
        for uid, question in QUESTIONS.items():
            answer = S.answer_for_judge(recorded["fresh_answer_prefix"] + question[:40])
            games = S.games(question, answer, opponent(uid, answer))
            entries.append(S.prompt_entries([judge(m) for _, m in games], [p for p, _ in games]))
        return S.pooled(entries)

    itself = score(lambda uid, answer: answer)
    assert itself["accuracy"] == 0.5 == recorded["as_baseline_model"]["metrics"]["accuracy"]
    assert itself["stderr"] == recorded["as_baseline_model"]["metrics"]["stderr"]
    stored = score(lambda uid, answer: BASELINE[uid])
    assert stored["accuracy"] == recorded["as_final_model"]["metrics"]["accuracy"] != 0.5
    assert stored["stderr"] == recorded["as_final_model"]["metrics"]["stderr"]
