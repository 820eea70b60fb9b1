"""The differential corpus: 2,000 seeded, awkward replies per rule-scored task, scored by
PostTrainBench's own code path (tests/fixtures/posttrainbench_v1/corpus/, regenerate.py --corpus)
and here by this workflow's tasks through the reply construction production uses (inspect's
OpenAI-compatible provider on a chat completion; posttrainbench_corpus.py).

Under posttrainbench-v1 every reply must score as there, an errored sample included (there it
failed the eval). CI cost (~1 minute): the whole corpus of GSM8K, AIME, GPQA and BFCL (~10 s
each); HumanEval runs a seeded 60 holding every kind of extra code but the 30 s sleeps (each reply
is a Python process): benchmarks/posttrainbench_v1_corpus.py runs the whole corpus of every task.
"""

from __future__ import annotations

import random
from collections import Counter

import pytest
from posttrainbench_corpus import CORRECTED, V1, corpus, data_dirs, recorded, replies, score

RULE_TASKS = ["gsm8k", "aime2025", "gpqamain", "bfcl"]
# What posttrainbench-v1-corrected changes on the corpus: replies whose value differs from v1's
# (a seeded 300 of each task), by kind. Regenerate the figures with the benchmark when a rule changes.
CORRECTED_SUBSET = 300


@pytest.fixture(scope="module")
def dirs(tmp_path_factory):
    return data_dirs(tmp_path_factory.mktemp("corpus-data"))


def disagreements(task: str, chosen: list[dict], got: dict[str, str]) -> list[tuple]:
    expected = recorded(task)
    return [
        (r["id"], r["kind"], expected[r["id"]]["value"], got[r["id"]])
        for r in chosen
        if got[r["id"]] != expected[r["id"]]["value"]
    ]


@pytest.mark.parametrize("task", corpus.TASKS)
def test_the_corpus_is_the_recorded_one(task):
    """The generator still makes the replies PostTrainBench scored (same ids, same kinds)."""
    made = replies(task)
    assert len(made) >= 2000
    assert [(r["id"], r["kind"]) for r in made] == [
        (row["id"], row["kind"]) for row in recorded(task).values()
    ]
    values = Counter(row["value"] for row in recorded(task).values())
    assert values["C"] and values["I"], "a corpus that cannot tell right from wrong proves nothing"


@pytest.mark.parametrize("task", RULE_TASKS)
def test_v1_scores_every_reply_as_posttrainbench(task, dirs):
    chosen = replies(task)
    assert disagreements(task, chosen, score(task, V1, chosen, dirs)) == []


def humaneval_subset() -> list[dict]:
    """Three replies of each kind of extra code, seeded; not the 30 s sleeps (the benchmark runs
    them: a timeout fails the sample under both protocols, tests/tasks/test_scorer_cases.py)."""
    by_extra: dict[str, list[dict]] = {}
    for reply in replies("humaneval"):
        by_extra.setdefault(reply["kind"].split("+")[1], []).append(reply)
    rng = random.Random(0)
    picked = []
    for extra, found in sorted(by_extra.items()):
        picked += [] if extra == "sleep_forever" else rng.sample(found, min(3, len(found)))
    return picked


def test_v1_runs_humaneval_as_posttrainbench(dirs):
    chosen = humaneval_subset()
    kinds = {r["kind"].split("+")[1] for r in chosen}
    assert {
        "alloc_1200mb",
        "file_write_20mb",
        "atexit_print",
        "late_thread_print",
        "stdout_12mb",
        "exit_zero",
    } <= kinds
    assert disagreements("humaneval", chosen, score("humaneval", V1, chosen, dirs)) == []


@pytest.mark.parametrize("task", RULE_TASKS + ["humaneval"])
def test_what_corrected_changes(task, dirs):
    """Corrected never errors a sample on these replies, and differs from v1 only where a v1 bug
    was hit: listed by kind in the failure message, and in docs/posttrainbench-v1.md."""
    pool = humaneval_subset() if task == "humaneval" else replies(task)
    chosen = random.Random(1).sample(pool, min(CORRECTED_SUBSET, len(pool)))
    got = score(task, CORRECTED, chosen, dirs)
    assert "error" not in got.values(), [r["kind"] for r in chosen if got[r["id"]] == "error"]
    expected = recorded(task)
    changed = Counter(
        (r["kind"], expected[r["id"]]["value"], got[r["id"]])
        for r in chosen
        if got[r["id"]] != expected[r["id"]]["value"]
    )
    if task == "bfcl":  # PostTrainBench's rule is sound: both protocols score BFCL alike
        assert not changed
    else:
        assert changed, "corrected fixes v1 bugs that this corpus hits"


@pytest.mark.parametrize("content", ["<think>\nthe answer is 24\n</think>\n", "<think>24</think>"])
def test_a_think_only_reply_reaches_the_judge_empty(content):
    """Arena-Hard and HealthBench: PostTrainBench read the server's text (a leading think block cut)
    and sent "" to its judge; production's provider keeps such a reply whole as its text, and
    reply_text must give the reply back so that v1 still sends "" (corrected: no grader call)."""
    from posttrainbench_corpus import provider_output  # noqa: PLC0415

    from ptb.core.tasks import module  # noqa: PLC0415
    from ptb.evaluation import answers  # noqa: PLC0415

    output = provider_output({"content": content}, [])
    assert output.completion == content.strip() or output.completion == content  # the provider kept it whole
    raw = answers.reply_text(output)
    assert module("arenahardwriting").judged_answer(raw, True) == ""
    assert module("healthbench").graded_response(raw, True) == ""
    assert module("arenahardwriting").judged_answer(raw, False) == ""
    # with an answer after the block, the judge reads the answer
    answered = answers.reply_text(provider_output({"content": content + "\nTwenty-four."}, []))
    assert module("arenahardwriting").judged_answer(answered, True) == "Twenty-four."
