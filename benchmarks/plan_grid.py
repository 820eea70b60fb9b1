"""Dry-run planning time of the production grid and of a 10x grid (more seeds), each as a
ratio to the engine's own floor: a trivial 4-rule workflow with the same job count, timed
in the same run (so the ratio holds on a busy or a slow machine). Wall time and CPU time
(user + sys of the snakemake process) both: on a shared machine the CPU time moves less.

Run: .venv/bin/python benchmarks/plan_grid.py [--runs 3] [--shaped] [--profile 25] [--sweep]
Targets (issue 31), in one run with the floor: production <= 1.25x, 10x <= 1.4x.
--shaped: also the plain floor with the engine patches the workflow installs (ptb/core/plan_speed.py,
  so the ratio to the plain floor says how much of the cut is the engine's), and the floor of each
  plan's shape: the same job count, each job with a log and a benchmark file and the plan's mean
  inputs and outputs per job (the files snakemake resolves, checks and prints per job). The
  ratio to it is the workflow's own cost (config, rule files, input functions, resources); the
  rest of the ratio to the plain floor is what snakemake spends on the files this workflow
  declares per job.
--profile N: the dry run of the production grid under cProfile: its top N entries by
  cumulative time, then the workflow's own functions (rules/, ptb/).
--sweep: a 100x grid (300 seeds, ~136k jobs) as shards (docs/sweeps.md): the plan time of
  one shard (target < 60 s), of the merge, and the merge job's work (the leaderboard over
  every cell of a synthetic results tree, benchmarks/leaderboard_rebuild.py's).
Every run reads bytecode from a cache of the benchmark's own (cache_bytecode), as a user's plans do.
With slurm-client installed but no controller answering, put a stub `scontrol` that exits 1
first on PATH (the slurm executor plugin asks it at import: ~8 s per snakemake call).
"""

from __future__ import annotations

import argparse
import hashlib
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
# the floor with the engine patches this workflow installs (ptb/core/plan_speed.py): what its
# plan would cost with no workflow of its own, on a patched engine
PATCHED = f"""\
import sys
sys.path.insert(0, {str(REPO)!r})
from ptb.core import plan_speed
plan_speed.install()
"""
SHAPED_GROUPS = 4  # a wildcard shared by the files of several jobs, as a cell's {model} is


def _spread(total: int, parts: int = 4) -> list[int]:
    return [total // parts + (r < total % parts) for r in range(parts)]


def shaped_floor(jobs: int, inputs: float, outputs: float, logs: bool = True) -> str:
    """About `jobs` jobs with `inputs` and `outputs` per job on average (counting `all`'s inputs,
    as a plan's mean does) and (logs) a log and a benchmark file each: a 4-rule chain whose
    first output feeds the next rule, the rest of a job's inputs files shared by the jobs of
    a group (made by a rule of their own, as the model caches are)."""
    shared_jobs = SHAPED_GROUPS * max(1, round(inputs))  # about: the most shared inputs of a rule
    per_group = max(1, (jobs - shared_jobs - 1) // (4 * SHAPED_GROUPS))
    chain = 4 * SHAPED_GROUPS * per_group
    total = chain + shared_jobs + 1
    # what the chain's jobs declare: the plan's totals less `all`'s inputs and the shared outputs
    chain_inputs = (inputs * total - SHAPED_GROUPS * per_group) / chain
    chain_outputs = (outputs * total - shared_jobs) / chain
    shared = _spread(max(0, round(4 * chain_inputs) - 3))  # rules b, c and d take a chained input
    outs = _spread(max(4, round(4 * chain_outputs)))
    files = ["    log: '{d}/{w}.log'", "    benchmark: '{d}/{w}.tsv'"] if logs else []
    lines = [
        "rule all:",
        f"    input: expand('d/{{g}}/{{i}}.0', g=range({SHAPED_GROUPS}), i=range({per_group}))",
        "rule shared:",
        "    output: 's/{g}/{k}.txt'",
        *(f.format(d=kind, w="s/{g}/{k}") for f, kind in zip(files, ("logs", "benchmarks"))),
        "    shell: 'touch {output}'",
    ]
    for r, name in enumerate("abcd"):
        ins = [f"'{'abcd'[r - 1]}/{{g}}/{{i}}.0'"] if r else []
        ins += [f"'s/{{g}}/{k}.txt'" for k in range(shared[r])]
        lines += [
            f"rule {name}:",
            *([f"    input: {', '.join(ins)}"] if ins else []),
            "    output: " + ", ".join(f"'{name}/{{g}}/{{i}}.{o}'" for o in range(outs[r])),
            *(f.format(d=kind, w=f"{name}/{{g}}/{{i}}") for f, kind in zip(files, ("logs", "benchmarks"))),
            "    shell: 'touch {output}'",
        ]
    return "\n".join(lines) + "\n"


def plan_shape(plan: list[str], cwd: Path = REPO) -> tuple[float, float]:
    """Mean declared inputs and outputs per job of a plan (run with its listing)."""
    return listing_shape(subprocess.run(plan, cwd=cwd, capture_output=True, text=True).stdout)


def listing_shape(listing: str) -> tuple[float, float]:
    """Mean declared inputs and outputs per job of a `snakemake -n` listing."""
    jobs = inputs = outputs = 0
    for line in listing.splitlines():
        jobs += line.startswith(("rule ", "localrule "))
        if line.startswith("    input: "):
            inputs += len(line.split(", "))
        elif line.startswith("    output: "):
            outputs += len(line.split(", "))
    return inputs / jobs, outputs / jobs


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
    return interleaved(runs, {"": (cmd, cwd)})[""]


def interleaved(
    runs: int, commands: dict[str, tuple[list[str], Path]]
) -> dict[str, tuple[float, float, int]]:
    """Best (wall, CPU) and job count of each command, run in turn `runs` times: a machine that
    slows down for a while slows each of them alike."""
    results = {label: [] for label in commands}
    for _ in range(runs):
        for label, (cmd, cwd) in commands.items():
            results[label].append(timed(cmd, cwd))
    return {label: (min(r[0] for r in rs), min(r[1] for r in rs), rs[0][2]) for label, rs in results.items()}


def floor_cmd(
    tmp: Path, jobs: int, snakefile: str | None = None, quiet: bool = True
) -> tuple[list[str], Path]:
    """The dry run of a trivial workflow with the same number of jobs (`snakefile`: another one,
    of that size), in a folder of its own; quiet as plan_cmd's."""
    work = tmp / f"floor{jobs}-{hashlib.sha256((snakefile or '').encode()).hexdigest()[:8]}"
    work.mkdir(exist_ok=True)
    (work / "Snakefile").write_text(snakefile or FLOOR.format(n=jobs))
    listing = ["--quiet", "rules"] if quiet else []
    return [SNAKEMAKE, "-n", *listing, "--cores", "1"], work


def plan_cmd(results: Path, *config: str, quiet: bool = True) -> list[str]:
    """A dry run; quiet: the table of rules only (what is timed), else every job's listing too."""
    listing = ["--quiet", "rules"] if quiet else []
    return [SNAKEMAKE, "-n", *listing, "--config", f"results_dir={results}", *config]


def grids(tmp: Path, runs: int, shaped: bool) -> None:
    for label, extra in (
        ("production grid (4x4x7x3)", []),
        ("10x grid (4x4x7x30)", [f"grid={{seeds: {seeds(30)}}}"]),
    ):
        plan = plan_cmd(tmp / "results", *extra)
        jobs = timed(plan, REPO)[2]
        commands = {"plan": (plan, REPO), "floor": floor_cmd(tmp, jobs)}
        shapes = {}  # the shaped floors' Snakefiles
        if shaped:
            inputs, outputs = plan_shape(plan_cmd(tmp / "results", *extra, quiet=False))
            its_shape = f"its shape ({inputs:.2f} inputs, {outputs:.2f} outputs, a log and a benchmark file)"
            shapes[its_shape] = shaped_floor(jobs, inputs, outputs)
            shapes["its job count, on the engine as this workflow patches it (ptb/core/plan_speed.py)"] = (
                PATCHED + FLOOR.format(n=jobs)
            )
            if not extra:  # what each kind of file costs, on the production plan's shape
                shapes["its inputs and outputs only"] = shaped_floor(jobs, inputs, outputs, False)
                shapes["a log and a benchmark file, one input, one output"] = shaped_floor(jobs, 1.0, 1.0)
        commands.update({part: floor_cmd(tmp, jobs, snakefile) for part, snakefile in shapes.items()})
        timings = interleaved(runs, commands)
        wall, cpu, _ = timings.pop("plan")
        base_wall, base_cpu, _ = timings.pop("floor")
        print(
            f"{label}: {jobs} jobs planned, dry run {wall:.2f} s wall / {cpu:.2f} s CPU (best of {runs}); "
            f"engine floor {base_wall:.2f} s / {base_cpu:.2f} s; "
            f"ratio {wall / base_wall:.2f} wall, {cpu / base_cpu:.2f} CPU; load {os.getloadavg()[0]:.1f}",
            flush=True,
        )
        for part, (part_wall, part_cpu, part_jobs) in timings.items():
            ins, outs = plan_shape(*floor_cmd(tmp, jobs, shapes[part], quiet=False))
            print(
                f"  floor of {part}: {part_jobs} jobs, {ins:.2f} inputs and {outs:.2f} outputs per job; "
                f"{part_wall:.2f} s / {part_cpu:.2f} s CPU, {part_cpu / base_cpu:.2f}x the floor; "
                f"the plan's ratio to it {cpu / part_cpu:.2f} CPU",
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


def cache_bytecode(tmp: Path) -> None:
    """Every timed run reads its modules' bytecode from a cache, as a user's repeated plans do,
    also where the environment says not to write it (PYTHONDONTWRITEBYTECODE: the workflow's
    own ~30 modules were compiled in every plan, the engine's, installed compiled, never): a
    cache of the benchmark's own, so the checkout is left as it was."""
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ["PYTHONPYCACHEPREFIX"] = str(tmp / "bytecode")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="best of this many runs")
    parser.add_argument("--shaped", action="store_true", help="also the floor of the plan's shape")
    parser.add_argument("--profile", type=int, metavar="N", help="print the top N profile entries")
    parser.add_argument("--sweep", action="store_true", help="time the sharded 100x sweep")
    parser.add_argument("--no-grids", action="store_true", help="skip the production and 10x ratios")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        cache_bytecode(tmp)
        if not args.no_grids:
            grids(tmp, args.runs, args.shaped)
        if args.profile:
            profile(tmp, args.profile)
        if args.sweep:
            sweep(tmp, args.runs)


if __name__ == "__main__":
    main()
