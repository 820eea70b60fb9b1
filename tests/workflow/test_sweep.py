"""A sweep past one DAG (docs/sweeps.md): shards by agent and seeds, whose tables the merge waits for.

The leaderboard runs on a results tree written here (no agent runs; as tests/leaderboard does),
through snakemake with only the leaderboard rules allowed: once as one DAG, once as shards then
the merge; the two leaderboards must be the same files.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import altair as alt
import pandas as pd
import pytest
from helpers import REPO, planned_jobs, snakemake

from ptb.core import grid, paths
from ptb.leaderboard import charts
from ptb.tools import shards as shards_tool

AXES = {"agents": ["noop", "sft"], "models": ["tiny-qwen3"], "benchmarks": ["gsm8k"], "seeds": [1, 2, 3]}
SELECT = "select={agents: [noop, sft], models: [tiny-qwen3], benchmarks: [gsm8k], seeds: [1, 2, 3]}"
CELL_RULES = {"agent_run", "canonical_model", "judge", "evaluate", "audit_cell"}
DEMO = str(REPO / "config" / "demo.yaml")
TABLES = ("leaderboard.csv", "cells.csv", "leaderboard.md", "weights.json", "gpu_hours.csv")


def test_shards_cover_every_cell_once():
    selection = {"agents": ["a", "b"], "models": ["m"], "benchmarks": ["x", "y"], "seeds": [7, 1, 4, 9, 2]}
    shards = grid.shards(selection, 2)
    assert list(shards) == [
        "a.seeds7-1", "a.seeds4-9", "a.seeds2-2", "b.seeds7-1", "b.seeds4-9", "b.seeds2-2",
    ]  # fmt: skip
    cells = [c for part in shards.values() for c in grid.cells({**selection, **part})]
    assert sorted(cells, key=str) == sorted(grid.cells(selection), key=str)
    assert len(cells) == len(set(cells))  # no cell in two shards
    assert len(grid.shards(selection, 99)) == 2  # one shard per agent
    with pytest.raises(ValueError, match="at least 1"):
        grid.shards(selection, 0)


def put(results: Path, template: str, data: dict, **fields) -> None:
    path = Path(paths.fill(template, str(results), **fields))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


@pytest.fixture
def results(tmp_path) -> Path:
    """Result files of every cell and baseline, as the stages write them; one cell failed its eval."""
    results = tmp_path / "results"
    for variant, score in (("base", 0.1), ("instruct", 0.6)):
        put(results, paths.BASELINE_METRICS, {"outcome": "ok", "score": score, "stderr": 0.0},
            model="tiny-qwen3", variant=variant, benchmark="gsm8k")  # fmt: skip
    for cell in grid.cells(AXES):
        fields = cell.as_dict()
        put(
            results,
            paths.AGENT_JSON,
            {"outcome": "ok", "has_model": True, "wall_seconds": 60.0 * cell.seed},
            **fields,
        )
        put(results, paths.VERDICT, {"outcome": "clean", "disqualified": False, "reasons": []}, **fields)
        failed = (cell.agent, cell.seed) == ("sft", 2)
        score = 0.2 + 0.1 * cell.seed + (0.05 if cell.agent == "sft" else 0)
        ok = {"outcome": "ok", "score": score, "stderr": 0.0}
        metrics = {"outcome": "eval_error", "reason": "boom"} if failed else ok
        put(results, paths.METRICS, metrics, **fields)
    return results


def run(results: Path, *args: str, extra: tuple[str, ...] = ()):
    return snakemake(
        *args, "--configfile", "config/demo.yaml",
        "--config", SELECT, "calibration=", f"results_dir={results}", *extra,
    )  # fmt: skip


@pytest.mark.demo
def test_merged_leaderboard_equals_the_one_dag_leaderboard(results, tmp_path):
    board = Path(paths.fill(paths.LEADERBOARD_DIR, str(results)))
    run(results, "leaderboard", "--cores", "1", "--allowed-rules", "leaderboard")
    one_dag = {name: (board / name).read_text() for name in TABLES}
    shutil.rmtree(board)
    shutil.rmtree(paths.fill(paths.LEADERBOARD_BUILD_DIR, str(results)))

    sharded = ("shard_seeds=2",)
    names = list(grid.shards(AXES, 2))
    early = snakemake(
        "-n", "--configfile", "config/demo.yaml", "--config", SELECT, "calibration=",
        f"results_dir={results}", *sharded, check=False,
    )  # fmt: skip
    assert early.returncode != 0, "the merge must wait for the shards' tables"
    assert f"shards/{names[-1]}/leaderboard.csv" in early.stdout + early.stderr
    plan = planned_jobs(run(results, "-n", "--quiet", "rules", extra=(*sharded, f"shard={names[0]}")))
    # the shard's own cells (noop, seeds 1 and 2): their pages and its table; no agent run, as
    # each cell's verdict and scores are there
    assert (plan["audit_cell"], plan["shard_results"]) == (2, 1) and "agent_run" not in plan
    for name in names:
        shard = (*sharded, f"shard={name}")
        run(results, "shard_results", "--cores", "1", "--allowed-rules", "shard_results", extra=shard)
    table = (results / "shards" / "sft.seeds1-2" / "cells.csv").read_text()
    assert table.count("\nsft,") == 2 and "eval_error" in table  # the shard's own cells only

    merge_plan = planned_jobs(run(results, "-n", "--quiet", "rules", extra=sharded))
    assert "leaderboard" in merge_plan and not CELL_RULES & set(merge_plan)  # no cell's job
    run(results, "leaderboard", "--cores", "1", "--allowed-rules", "leaderboard", extra=sharded)
    assert {name: (board / name).read_text() for name in TABLES} == one_dag


def test_a_shard_not_in_the_grid_is_named(tmp_path):
    proc = snakemake(
        "-n", "--configfile", "config/demo.yaml", "--config", SELECT, "calibration=",
        f"results_dir={tmp_path}", "shard_seeds=2", "shard=noop.seeds1-3", check=False,
    )  # fmt: skip
    assert proc.returncode != 0
    assert "config key 'shard': 'noop.seeds1-3' is not a shard of this grid" in proc.stdout + proc.stderr
    assert "e.g. noop.seeds1-2" in proc.stdout + proc.stderr


def test_the_shard_lister_prints_the_names_snakemake_takes(capsys):
    assert shards_tool.main(["--configfile", DEMO, "--config", SELECT, "shard_seeds=2"]) == 0
    assert capsys.readouterr().out.split() == [
        "noop.seeds1-2",
        "noop.seeds3-3",
        "sft.seeds1-2",
        "sft.seeds3-3",
    ]
    assert shards_tool.main(["--configfile", DEMO]) == 2
    assert "'shard_seeds' is not set" in capsys.readouterr().err


def test_charts_render_past_altairs_row_limit(tmp_path):
    """The time chart has a row per run: a 100x sweep has 33,600 (altair refuses over 5,000)."""
    runs = pd.DataFrame({"agent": ["a", "b"] * 2501, "hours": [i % 10 for i in range(5002)]})
    chart = alt.Chart(runs).mark_boxplot(extent="min-max").encode(x="hours:Q", y="agent:N")
    svgs = charts.save_all({"time": chart}, tmp_path)
    assert "<svg" in svgs["time"] and (tmp_path / "time.png").read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(alt.MaxRowsError):  # the limit holds again outside the charts' writing
        chart.to_dict()
