"""GPU-hours per agent and stage, from the snakemake `benchmark:` files of the jobs.

A job's benchmark file holds its wall time (`s`); a stage's GPU-hours are its jobs' wall hours
times the GPUs each job holds (the stage's `resources.<stage>.gpu`; a stage without GPU resources, the
audit page's job on the submit host, holds none: its wall hours count, no GPU-hours). Jobs that have not
run (or ran before the workflow wrote benchmark files) are simply not counted: `jobs` says how many were.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd

from ptb.core import paths
from ptb.core.grid import Cell

# the stages of a cell's jobs (their benchmark folders, as their logs'): those with GPU resources
# (stage_gpus names them), and the audit page's, a local job that holds none
GPU_STAGES = ("agent", "evaluate", "judge")
CPU_STAGES = ("audit",)
CELL_STAGES = GPU_STAGES + CPU_STAGES
BASELINE_AGENT = "baselines"  # the row the baseline evaluations count under
COLUMNS = ["agent", "stage", "jobs", "hours", "gpu_hours"]


def cell_jobs(results: str, cell: Cell) -> list[dict]:
    """The benchmark files of one cell's jobs: {agent, stage, tsv}."""
    return [
        {
            "agent": cell.agent,
            "stage": stage,
            "tsv": paths.fill(paths.job_benchmark(stage, paths.CELL_JOB), results, **cell.as_dict()),
        }
        for stage in CELL_STAGES
    ]


def baseline_jobs(results: str, model: str, variant: str, benchmark: str) -> list[dict]:
    """The benchmark file of a baseline evaluation, counted as the `baselines` row's evaluate stage."""
    fields = {"model": model, "variant": variant, "benchmark": benchmark}
    tsv = paths.fill(paths.job_benchmark("baseline", paths.BASELINE_JOB), results, **fields)
    return [{"agent": BASELINE_AGENT, "stage": "evaluate", "tsv": tsv}]


def table_rows(usage: pd.DataFrame, names: dict[str, str]) -> tuple[list[str], list[list[str]]]:
    """(head, rows) of the GPU-hours table: an agent per row, a GPU stage per column, and the total."""
    stages = [s for s in GPU_STAGES if s in set(usage["stage"])]
    head = ["agent", *(f"{s} GPU-h" for s in stages), "total GPU-h", "jobs timed"]
    body = []
    for agent, mine in usage[usage["stage"].isin(GPU_STAGES)].groupby("agent", sort=False):
        by_stage = dict(zip(mine["stage"], mine["gpu_hours"]))
        body.append(
            [
                names.get(agent, agent),
                *(f"{by_stage[s]:.2f}" if s in by_stage else "–" for s in stages),
                f"{mine['gpu_hours'].sum():.2f}",
                str(int(mine["jobs"].sum())),
            ]
        )
    return head, body


def wall_seconds(tsv: str | Path) -> float | None:
    """A job's wall seconds (its benchmark file's first row), or None if it has none (yet)."""
    try:
        with open(tsv, newline="") as handle:
            row = next(csv.DictReader(handle, delimiter="\t"), None)
    except FileNotFoundError:
        return None
    try:
        return float(row["s"]) if row else None
    except (KeyError, ValueError):
        return None


def usage(jobs: list[dict], stage_gpus: dict[str, int]) -> pd.DataFrame:
    """agent x stage: jobs counted, wall hours, GPU-hours (stage_gpus: GPU stage -> GPUs per job)."""
    rows = []
    for job in jobs:
        seconds = wall_seconds(job["tsv"])
        if seconds is not None:
            hours = seconds / 3600
            gpus = 0 if job["stage"] in CPU_STAGES else stage_gpus[job["stage"]]
            rows.append({**job, "jobs": 1, "hours": hours, "gpu_hours": hours * gpus})
    if not rows:
        return pd.DataFrame(columns=COLUMNS)
    table = pd.DataFrame(rows).groupby(["agent", "stage"], as_index=False, sort=False)
    return table[["jobs", "hours", "gpu_hours"]].sum()[COLUMNS]
