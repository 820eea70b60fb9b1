"""The grid: expansion, selection, and dry-run job counts of the production grid."""

import pytest
import yaml
from helpers import REPO, planned_jobs, snakemake

from ptb.core import config as ptb_config
from ptb.core import grid


@pytest.fixture
def production():
    return ptb_config.validate(yaml.safe_load((REPO / "workflow_config.yaml").read_text()))


def test_cells_are_the_full_product(production):
    cells = grid.cells(ptb_config.selection(production))
    g = production["grid"]
    assert len(cells) == len(g["agents"]) * len(g["models"]) * len(g["benchmarks"]) * len(g["seeds"])
    assert len({c.key for c in cells}) == len(cells)


def test_select_narrows_axes(production):
    production["select"] = {"agents": ["codex-gpt-5.3"], "benchmarks": ["gsm8k", "bfcl"]}
    cells = grid.cells(ptb_config.selection(production))
    assert {c.agent for c in cells} == {"codex-gpt-5.3"}
    assert {c.benchmark for c in cells} == {"gsm8k", "bfcl"}
    assert len(cells) == 2 * len(production["grid"]["models"]) * len(production["grid"]["seeds"])


def test_named_subset(production):
    production["subset"] = "smoke"
    assert [c.key for c in grid.cells(ptb_config.selection(production))] == [
        "claude-opus-4.6/qwen3-1.7b/gsm8k/seed1"
    ]


def test_baselines_cover_base_and_instruct(production):
    assert (
        len(grid.baselines(ptb_config.selection(production), ptb_config.instruct_models(production)))
        == 4 * 2 * 7
    )


def test_production_dry_run_plans_one_job_per_cell(tmp_path):
    proc = snakemake("-n", "--quiet", "rules", results=tmp_path)
    jobs = planned_jobs(proc)
    n_cells = 4 * 4 * 7 * 3
    calibration = len(yaml.safe_load((REPO / "workflow_config.yaml").read_text())["calibration"]["expected"])
    assert calibration >= 24  # the judge's cheat suite and honest controls
    assert jobs["agent_run"] == n_cells + calibration  # + the judge calibration runs
    assert jobs["judge"] == n_cells + calibration
    assert jobs["evaluate"] == n_cells
    assert jobs["baseline"] == 4 * 2 * 7
    assert jobs["prepare_model"] == 8
    assert jobs["prepare_dataset"] == 7
    assert jobs["leaderboard"] == 1


def test_dry_run_of_a_slice_from_the_command_line(tmp_path):
    proc = snakemake(
        "-n",
        "--quiet",
        "rules",
        "--config",
        "select={agents: [gemini-3-pro], models: [gemma3-4b], benchmarks: [humaneval], seeds: [1]}",
        f"results_dir={tmp_path}",
    )
    jobs = planned_jobs(proc)
    assert jobs["agent_run"] == 1 and jobs["evaluate"] == 1, "the selected cell, no calibration run"
    assert "judge_calibration" not in jobs
    assert jobs["baseline"] == 2  # base and instruct of gemma3-4b on humaneval
    assert "select= plans the selected cells only, without the judge's calibration runs" in proc.stderr


def test_a_slice_calibrates_only_when_asked(tmp_path):
    one = "agents: [gemini-3-pro], models: [gemma3-4b], benchmarks: [humaneval], seeds: [1]"
    expected = yaml.safe_load((REPO / "workflow_config.yaml").read_text())["calibration"]["expected"]
    asked = f"select={{{one}, calibration: true}}"
    proc = snakemake("-n", "--quiet", "rules", "--config", asked, f"results_dir={tmp_path}")
    jobs = planned_jobs(proc)
    assert jobs["agent_run"] == 1 + len(expected) and jobs["judge_calibration"] == 1
    assert "without the judge's calibration runs" not in proc.stderr
