"""ptb.evaluation.repetition: PostTrainBench's repetition limiter, byte for byte."""

import json

import pytest

from ptb.core.paths import REPO_ROOT
from ptb.evaluation.repetition import limit_repetitions

CASES = json.loads(
    (REPO_ROOT / "tests" / "fixtures" / "posttrainbench_v1" / "graded" / "repetition.json").read_text()
)["cases"]


@pytest.mark.parametrize("case", CASES, ids=range(len(CASES)))
def test_same_output_as_posttrainbench(case):
    assert limit_repetitions(case["text"], case.get("max_reps", 5)) == case["limited"]


def test_the_fixtures_cut_something():  # a fixture set where nothing changes would prove nothing
    assert sum(case["text"] != case["limited"] for case in CASES) > 40


def test_loops_keep_five_copies_and_prose_stays():
    assert limit_repetitions("x\n" * 5 + "y") == "x\n" * 5 + "y", "five copies are allowed"
    assert limit_repetitions("x\n" * 9 + "y") == "x\n" * 5 + "y"
    # a block loop keeps five copies; the cut-off start of a sixth is dropped with the rest
    assert limit_repetitions("Verse\nChorus\n" * 8 + "Verse\nCho") == "Verse\nChorus\n" * 4 + "Verse\nChorus"
    assert limit_repetitions("ha" * 20) == "ha" * 10, "a 4-character unit, 10 copies cut to 5"
    assert limit_repetitions("ha" * 10) == "ha" * 10, "5 copies of haha: left alone"
    prose = "It was a dark and stormy night; the rain fell in torrents.\n\nExcept at occasional intervals."
    assert limit_repetitions(prose) == prose
    assert limit_repetitions("la " * 50, 3) == "la " * 3, "the cap is a parameter"
