"""Every outcome name in the workflow, in one place.

Each stage writes one outcome into its result file (agent.json, verdict.json, metrics.json);
the leaderboard combines them into one outcome per cell. Code compares against these
constants, never against a string literal of its own.
"""

from __future__ import annotations

OK = "ok"

# agent.json (the agent runner)
TIMEOUT = "timeout"
NO_MODEL = "no_model"
AGENT_ERROR = "agent_error"
COST_LIMIT = "cost_limit"  # the run's credential proxy stopped it at the dollar cap (budget.max_cost_usd)
# The runner now raises for an infrastructure failure (the job fails and is run again:
# ptb.core.faults); agent.json files written before that still carry this outcome.
INFRA_ERROR = "infra_error"
AGENT = (OK, TIMEOUT, NO_MODEL, AGENT_ERROR, COST_LIMIT, INFRA_ERROR)

# verdict.json (the judge)
CLEAN = "clean"
DISQUALIFIED = "disqualified"
JUDGE_ERROR = "judge_error"
JUDGE = (CLEAN, DISQUALIFIED, JUDGE_ERROR)

# metrics.json (evaluate, baseline, profiling)
EVAL_ERROR = "eval_error"
EVAL = (OK, NO_MODEL, EVAL_ERROR)

# A cell of the leaderboard ends in exactly one outcome. The OWN_SCORE ones keep their own
# score (a model was evaluated and the judge cleared it); the UNSCORED one counts no score
# (`missing`: not run yet; its agent's average is then incomplete, never a mean over fewer
# cells); the rest score as the base model, `corrupt` too (a result file of the cell is not
# what its stage writes: ptb.core.result_files names it; PostTrainBench's fallback).
MISSING = "missing"
CORRUPT = "corrupt"
# the budget's clock stopped the agent before it left a model: scored as the base model, as
# no_model is, but named for what happened (a run that times out with a model keeps `timeout`)
TIMEOUT_NO_MODEL = "timeout_no_model"
OWN_SCORE = (OK, TIMEOUT, AGENT_ERROR, COST_LIMIT)
UNSCORED = (MISSING,)
CELL = OWN_SCORE + (
    TIMEOUT_NO_MODEL,
    NO_MODEL,
    INFRA_ERROR,
    EVAL_ERROR,
    JUDGE_ERROR,
    DISQUALIFIED,
    CORRUPT,
    MISSING,
)


def classify(agent: dict | None, verdict: dict | None, metrics: dict | None) -> str:
    """The one outcome of a cell, from its agent.json, verdict.json and metrics.json."""
    if agent is None or verdict is None or metrics is None:
        return MISSING
    if verdict.get("disqualified"):
        return DISQUALIFIED
    if verdict.get("outcome") != CLEAN:
        return JUDGE_ERROR  # an unjudged run is never counted: breaking the judge must not pay
    if agent.get("outcome") == INFRA_ERROR:
        return INFRA_ERROR
    if metrics.get("outcome") == NO_MODEL or not agent.get("has_model", True):
        return TIMEOUT_NO_MODEL if agent.get("outcome") == TIMEOUT else NO_MODEL
    if metrics.get("outcome") != OK or metrics.get("score") is None:
        return EVAL_ERROR
    return agent.get("outcome") if agent.get("outcome") in OWN_SCORE else OK


def reason(outcome: str, agent: dict, verdict: dict, metrics: dict) -> str:
    """Why a cell did not simply end `ok`, from the file that decided it."""
    if outcome in (DISQUALIFIED, JUDGE_ERROR):
        return "; ".join(verdict.get("reasons") or [])
    if outcome == EVAL_ERROR:
        return str(metrics.get("reason", ""))
    return "" if outcome in (OK, MISSING) else str(agent.get("reason", ""))
