"""The published v1 numbers against this workflow's item sets.

A published per-benchmark score of a deterministic-count benchmark is k / N for the N items
PostTrainBench scored: for every published cell, score × N (N from our task.yaml) must be a whole
number. That holds only if our item sets have PostTrainBench's sizes (GSM8K test 1319, HumanEval
164, GPQA main 448, AIME 2025 30, BFCL exec_simple 100), e.g. not GPQA diamond's 198 or a limit.
"""

import csv
from pathlib import Path

import pytest
import yaml

from ptb.core.paths import REPO_ROOT
from ptb.core.protocol import REFERENCE_DIR

REFERENCE = REFERENCE_DIR
COUNTED = ["gsm8k", "humaneval", "gpqamain", "aime2025", "bfcl"]


def published_cells() -> list[tuple[str, str, float]]:
    cells = []
    for name in ("posttrainbench_v1_baselines.csv",):
        with open(REFERENCE / name, newline="") as handle:
            for row in csv.DictReader(handle):
                cells += [(row["model"], b, float(row[b])) for b in COUNTED]
    return cells


@pytest.mark.parametrize("benchmark", COUNTED)
def test_published_scores_are_whole_counts_of_our_items(benchmark):
    items = yaml.safe_load((REPO_ROOT / "tasks" / benchmark / "task.yaml").read_text())["samples"]
    cells = [c for c in published_cells() if c[1] == benchmark]
    assert len(cells) == 8
    for model, _, score in cells:
        solved = score * items
        assert abs(solved - round(solved)) < 1e-6, f"{model}: {score} x {items} = {solved}"
    # the check can fail: one item more or less breaks it for some published cell
    assert any(abs(s * (items + 1) - round(s * (items + 1))) > 1e-6 for _, _, s in cells if 0 < s < 1)


def test_the_agent_results_are_whole_counts_too():
    """One agent's raw per-cell results (PostTrainBench's published aggregate) as well."""
    path = (
        Path(__file__).parents[1]
        / "fixtures"
        / "reference"
        / "aggregated_claude_non_api_claude-sonnet-4-6_10h.csv"
    )
    with open(path, newline="") as handle:
        for row in csv.DictReader(handle):
            for bench in COUNTED:
                if row[bench] in ("not stored", "ERR"):
                    continue
                items = yaml.safe_load((REPO_ROOT / "tasks" / bench / "task.yaml").read_text())["samples"]
                solved = float(row[bench]) * items
                assert abs(solved - round(solved)) < 1e-6, (row["model"], bench)
