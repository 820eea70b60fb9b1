"""One outcome per cell: what each combination of agent, judge and evaluation results is called."""

import pandas as pd
import pytest

from ptb.core import outcomes
from ptb.leaderboard.leaderboard import apply_policy

CLEAN = {"outcome": "clean", "disqualified": False}
SCORED = {"outcome": "ok", "score": 0.4}
NOTHING = {"outcome": "no_model", "reason": "agent outcome timeout: nothing to evaluate"}


@pytest.mark.parametrize(
    ("agent", "verdict", "metrics", "cell"),
    [
        ({"outcome": "timeout", "has_model": False}, CLEAN, NOTHING, outcomes.TIMEOUT_NO_MODEL),
        ({"outcome": "timeout", "has_model": True}, CLEAN, SCORED, outcomes.TIMEOUT),
        ({"outcome": "no_model", "has_model": False}, CLEAN, NOTHING, outcomes.NO_MODEL),
        # a model nobody can load after a timeout: the clock still decided the cell
        ({"outcome": "timeout", "has_model": True}, CLEAN, NOTHING, outcomes.TIMEOUT_NO_MODEL),
        # the judge's verdict comes first, whatever the clock did
        (
            {"outcome": "timeout", "has_model": False},
            {"outcome": "disqualified", "disqualified": True},
            NOTHING,
            outcomes.DISQUALIFIED,
        ),
        ({"outcome": "ok", "has_model": True}, CLEAN, SCORED, outcomes.OK),
    ],
)
def test_each_cell_gets_the_outcome_that_decided_it(agent, verdict, metrics, cell):
    assert outcomes.classify(agent, verdict, metrics) == cell
    assert cell in outcomes.CELL


def test_a_timeout_without_a_model_scores_as_the_base_model():
    cells = pd.DataFrame(
        {
            "model": ["m", "m"],
            "benchmark": ["b", "b"],
            "outcome": [outcomes.TIMEOUT_NO_MODEL, outcomes.TIMEOUT],
            "own_score": [None, 0.7],
        }
    )
    base = pd.DataFrame({"b": [0.2]}, index=["m"])
    assert list(apply_policy(cells, base)) == [0.2, 0.7]
    assert outcomes.reason(
        outcomes.TIMEOUT_NO_MODEL, {"reason": "killed at the budget after 360 s"}, {}, {}
    ) == ("killed at the budget after 360 s")
