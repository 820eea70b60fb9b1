"""Which result files belong to which cell and which baseline: the records the leaderboard rule
passes to ptb.leaderboard.leaderboard (and ptb-status reads), filled from ptb.core.paths' patterns,
and the one reader of those files (read_cell, read_metrics: the leaderboard, ptb-status and the
audit pages all read through it, so a bad value is `corrupt` in all three alike).

Import-light on purpose: the rule files build these records at planning time.
"""

from __future__ import annotations

import math

from ptb.core import io, outcomes, paths
from ptb.core.grid import Cell

# a cell record: its axes and its three result files; a baseline record: its axes and metrics
CELL_KEYS = ("agent", "model", "benchmark", "seed", "agent_json", "verdict", "metrics")
BASELINE_KEYS = ("model", "variant", "benchmark", "metrics")


def cell_record(results: str, cell: Cell) -> dict:
    fields = cell.as_dict()
    return {
        **fields,
        "agent_json": paths.fill(paths.AGENT_JSON, results, **fields),
        "verdict": paths.fill(paths.VERDICT, results, **fields),
        "metrics": paths.fill(paths.METRICS, results, **fields),
    }


def baseline_record(results: str, model: str, variant: str, benchmark: str) -> dict:
    return {
        "model": model,
        "variant": variant,
        "benchmark": benchmark,
        "metrics": paths.fill(
            paths.BASELINE_METRICS, results, model=model, variant=variant, benchmark=benchmark
        ),
    }


# --- reading them: every value is checked where it is read ----------------------------------
# A file that is not what its stage writes (bad JSON, a directory, an outcome outside the closed
# set, a verdict without its keys, a score that is not a finite number in [0, 1]) is CorruptFile,
# naming the file and the key: the cell is `corrupt`, never a number (docs/faults.md).

SCORE_RANGE = (0.0, 1.0)  # a benchmark's score (tasks' per-sample score_range is clipped to it)


def read_record(path) -> dict | None:
    """A JSON object file (any stage's): None if absent; CorruptFile, naming it, if it is not one."""
    try:
        return io.read_json_record(path)
    except IsADirectoryError:
        raise io.CorruptFile(f"{path}: a directory, not a result file") from None
    except OSError as error:  # unreadable (permissions, I/O error): not a result either
        raise io.CorruptFile(f"{path}: cannot be read ({error.strerror or error})") from None


def _number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _outcome(path, data: dict, allowed: tuple[str, ...]) -> None:
    found = data.get("outcome")
    if found not in allowed:
        raise io.CorruptFile(f"{path}: outcome {found!r} is not one of {', '.join(allowed)}")


def check_score(path, data: dict) -> None:
    """An `ok` metrics.json's score is finite and in SCORE_RANGE, its stderr finite and ≥ 0 (or absent)."""
    low, high = SCORE_RANGE
    score = data.get("score")
    if not _number(score) or not math.isfinite(score) or not low <= score <= high:
        raise io.CorruptFile(f"{path}: score {score!r} is not a number in [{low:g}, {high:g}]")
    stderr = data.get("stderr")
    if stderr is not None and (not _number(stderr) or not math.isfinite(stderr) or stderr < 0):
        raise io.CorruptFile(f"{path}: stderr {stderr!r} is not a finite number ≥ 0")


def read_agent(path) -> dict | None:
    """agent.json: None if absent; CorruptFile unless its outcome is one of outcomes.AGENT."""
    data = read_record(path)
    if data is not None:
        _outcome(path, data, outcomes.AGENT)
        if not isinstance(data.get("has_model", True), bool):
            raise io.CorruptFile(f"{path}: has_model {data['has_model']!r} is not true or false")
    return data


def read_verdict(path) -> dict | None:
    """verdict.json: None if absent; CorruptFile unless it has an outcome of outcomes.JUDGE and a
    `disqualified` flag that agrees with it (`{}` is no verdict: an unjudged run never counts)."""
    data = read_record(path)
    if data is not None:
        _outcome(path, data, outcomes.JUDGE)
        flag = data.get("disqualified")
        if flag is not (data["outcome"] == outcomes.DISQUALIFIED):
            raise io.CorruptFile(f"{path}: disqualified {flag!r} does not match outcome {data['outcome']!r}")
    return data


def read_metrics(path) -> dict | None:
    """metrics.json (a cell's or a baseline's): None if absent; CorruptFile unless its outcome is one
    of outcomes.EVAL and, when `ok`, its score passes check_score."""
    data = read_record(path)
    if data is not None:
        _outcome(path, data, outcomes.EVAL)
        if data["outcome"] == outcomes.OK:
            check_score(path, data)
    return data


def read_cell(record: dict) -> dict:
    """{agent, verdict, metrics, corrupt}: a cell record's three files, checked (None where a file
    is absent or corrupt), and what is wrong with each corrupt one (its path and the problem)."""
    found: dict = {"corrupt": []}
    for key, field, reader in (
        ("agent", "agent_json", read_agent),
        ("verdict", "verdict", read_verdict),
        ("metrics", "metrics", read_metrics),
    ):
        try:
            found[key] = reader(record[field])
        except io.CorruptFile as error:
            found[key] = None
            found["corrupt"].append(str(error))
    return found


def cell_outcome(found: dict) -> str:
    """The one outcome of a cell from read_cell's answer: `corrupt` if any of its files is."""
    if found["corrupt"]:
        return outcomes.CORRUPT
    return outcomes.classify(found["agent"], found["verdict"], found["metrics"])
