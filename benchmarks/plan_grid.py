"""Dry-run planning time of the production grid and of a 10x grid (more seeds), each as a
ratio to the engine's own floor: a trivial 4-rule workflow with the same job count, timed
in the same run (so the ratio holds on a busy or a slow machine). Wall time and CPU time
(user + sys of the snakemake process) both: on a shared machine the CPU time moves less.

Run: .venv/bin/python benchmarks/plan_grid.py [--runs 3] [--profile 25] [--sweep]
Targets (issue 31), in one run with the floor: production <= 1.25x, 10x <= 1.4x.
--profile N: the dry run of the production grid under cProfile: its top N entries by
  cumulative time, then the workflow's own functions (rules/, ptb/).
--sweep: a 100x grid (300 seeds, ~136k jobs) as shards (docs/sweeps.md): the plan time of
  one shard (target < 60 s), of the merge, and the merge job's work (the leaderboard over
  every cell of a synthetic results tree, benchmarks/leaderboard_rebuild.py's).
With slurm-client installed but no controller answering, put a stub `scontrol` that exits 1
first on PATH (the slurm executor plugin asks it at import: ~8 s per snakemake call).
"""

from __future__ import annotations

import argparse
import os
import pstats
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from leaderboard_rebuild import synthesize, write_leaderboard  # noqa: E402

from ptb.core import config as ptb_config  # noqa: E402
from ptb.core import grid, paths  # noqa: E402

FLOOR = """\
N = {n}
rule all:
    input: expand("d/{{i}}.txt", i=range(N // 4 + N % 4))
rule a:
    output: "a/{{i}}.txt"
    shell: "touch {{output}}"
rule b:
    input: "a/{{i}}.txt"
    output: "b/{{i}}.txt"
    shell: "touch {{output}}"
rule c:
    input: "b/{{i}}.txt"
    output: "c/{{i}}.txt"
    shell: "touch {{output}}"
rule d:
    input: "c/{{i}}.txt"
    output: "d/{{i}}.txt"
    shell: "touch {{output}}"
"""
PRODUCTION_AGENTS = 4  # the production grid's agents: a shard is one of them


def seeds(n: int) -> str:
    return "[" + ", ".join(str(s) for s in range(1, n + 1)) + "]"


def timed(cmd: list[str], cwd: Path) -> tuple[float, float, int]:
    """(wall s, CPU s, jobs planned) of one dry run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    total = next(line.split()[1] for line in proc.stdout.splitlines() if line.startswith("total"))
    return wall, cpu, int(total)


def best_of(runs: int, cmd: list[str], cwd: Path) -> tuple[float, float, int]:
    results = [timed(cmd, cwd) for _ in range(runs)]
    return min(r[0] for r in results), min(r[1] for r in results), results[0][2]


def floor(jobs: int, tmp: Path, runs: int) -> tuple[float, float]:
    """Planning time (wall, CPU) of a trivial workflow with the same number of jobs."""
    work = tmp / f"floor{jobs}"
    work.mkdir(exist_ok=True)
    (work / "Snakefile").write_text(FLOOR.format(n=jobs))
    wall, cpu, _ = best_of(runs, [SNAKEMAKE, "-n", "--quiet", "rules", "--cores", "1"], work)
    return wall, cpu


def plan_cmd(results: Path, *config: str) -> list[str]:
    return [SNAKEMAKE, "-n", "--quiet", "rules", "--config", f"results_dir={results}", *config]


def grids(tmp: Path, runs: int) -> None:
    for label, extra in (
        ("production grid (4x4x7x3)", []),
        ("10x grid (4x4x7x30)", [f"grid={{seeds: {seeds(30)}}}"]),
    ):
        wall, cpu, jobs = best_of(runs, plan_cmd(tmp / "results", *extra), REPO)
        base_wall, base_cpu = floor(jobs, tmp, runs)
        print(
            f"{label}: {jobs} jobs planned, dry run {wall:.2f} s wall / {cpu:.2f} s CPU (best of {runs}); "
            f"engine floor {base_wall:.2f} s / {base_cpu:.2f} s; "
            f"ratio {wall / base_wall:.2f} wall, {cpu / base_cpu:.2f} CPU; load {os.getloadavg()[0]:.1f}",
            flush=True,
        )


def profile(tmp: Path, top: int) -> None:
    out = tmp / "plan.prof"
    cmd = [sys.executable, "-m", "cProfile", "-o", str(out), *plan_cmd(tmp / "results")]
    subprocess.run(cmd, cwd=REPO, capture_output=True, check=True)
    stats = pstats.Stats(str(out))
    print(f"\nproduction dry run under cProfile: top {top} by cumulative time")
    stats.sort_stats("cumulative").print_stats(top)
    print("the workflow's own functions (rules/, ptb/):")
    stats.print_stats(rf"{REPO}/(rules|ptb|Snakefile)", top)


def sweep(tmp: Path, runs: int, total_seeds: int = 300, per_shard: int = 30) -> None:
    """The 100x grid as shards of one agent x `per_shard` seeds: one shard's plan, the merge's."""
    results = tmp / "sweep"
    grid_seeds = f"grid={{seeds: {seeds(total_seeds)}}}"
    sharded = (grid_seeds, f"shard_seeds={per_shard}")
    config = ptb_config.load(
        overrides={"results_dir": str(results), "grid": {"seeds": list(range(1, total_seeds + 1))}}
    )
    shards = grid.shards(ptb_config.selection(config), per_shard)
    first = next(iter(shards))
    wall, cpu, jobs = best_of(runs, plan_cmd(results, *sharded, f"shard={first}"), REPO)
    print(
        f"\n100x grid ({total_seeds} seeds) as {len(shards)} shards of one agent x {per_shard} seeds: "
        f"one shard ({first}) {jobs} jobs, dry run {wall:.2f} s wall / {cpu:.2f} s CPU "
        f"(best of {runs}; target < 60 s); load {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    for name in shards:  # the merge plans once every shard's table is there
        table = Path(paths.fill(paths.SHARD_TABLE, str(results), shard=name))
        table.parent.mkdir(parents=True, exist_ok=True)
        table.touch()
    wall, cpu, jobs = best_of(runs, plan_cmd(results, *sharded), REPO)
    print(f"merge: {jobs} jobs, dry run {wall:.2f} s wall / {cpu:.2f} s CPU (best of {runs})", flush=True)
    started = time.perf_counter()
    synthesize(config, random.Random(1))
    written = time.perf_counter() - started
    cells = len(grid.cells(ptb_config.selection(config)))
    started = time.perf_counter()
    write_leaderboard(config, tmp / "merged")
    print(
        f"merge job's work: the leaderboard over {cells} cells {time.perf_counter() - started:.1f} s "
        f"(synthetic tree written in {written:.0f} s); load {os.getloadavg()[0]:.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="best of this many runs")
    parser.add_argument("--profile", type=int, metavar="N", help="print the top N profile entries")
    parser.add_argument("--sweep", action="store_true", help="time the sharded 100x sweep")
    parser.add_argument("--no-grids", action="store_true", help="skip the production and 10x ratios")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if not args.no_grids:
            grids(tmp, args.runs)
        if args.profile:
            profile(tmp, args.profile)
        if args.sweep:
            sweep(tmp, args.runs)


if __name__ == "__main__":
    main()
