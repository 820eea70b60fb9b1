"""Which result files belong to which cell and which baseline: the records the leaderboard rule
passes to ptb.leaderboard.leaderboard (and ptb-status reads), filled from ptb.core.paths' patterns.

Import-light on purpose: the rule files build these records at planning time.
"""

from __future__ import annotations

from ptb.core import paths
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
