"""The embedded demo's time: wall clock of `snakemake --profile profiles/demo` in a fresh results
dir, and the jobs' own wall and CPU seconds from their snakemake benchmark files, per rule; the
leaderboard, the reference SFT's steps, and its GSM8K gain over the no-op on SmolLM2 (the items
each gets right, exact McNemar p).

Run: .venv/bin/python benchmarks/demo_time.py [--keep DIR] [--busy-core | --busy-only]
`--busy-core` runs the demo twice, on its own cores and then beside one busy core (a CPU-bound
loop in another process, as on a shared machine), and compares the two rankings; `--busy-only`
runs the second alone. Targets: under 10 minutes of workflow wall time on 2 idle cores (after
`make setup`), and the same ranking (SFT above No-op beyond the noise) with one core busy. On a
shared machine the wall time grows with the load (printed); the summed job CPU time is steadier.
"""

from __future__ import annotations

import argparse
import collections
import csv
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
SFT_DONE = re.compile(r"sft: trained (\d+) of (\d+) steps")


def job_times(results: Path) -> dict[str, list[float]]:
    """stage -> [jobs, wall s, cpu s] summed over the benchmark files under results/benchmarks."""
    totals: dict[str, list[float]] = collections.defaultdict(lambda: [0, 0.0, 0.0])
    for tsv in sorted((results / "benchmarks").rglob("*.tsv")):
        stage = tsv.relative_to(results / "benchmarks").parts[0]
        with open(tsv, newline="") as handle:
            row = next(csv.DictReader(handle, delimiter="\t"), None)
        if row:
            totals[stage][0] += 1
            totals[stage][1] += float(row["s"])
            totals[stage][2] += float(row["cpu_time"] or 0)
    return dict(totals)


def mcnemar_p(only_a: int, only_b: int) -> float:
    """Exact two-sided McNemar p: the discordant items split as a fair coin would split them."""
    n = only_a + only_b
    tail = sum(math.comb(n, k) for k in range(min(only_a, only_b) + 1)) / 2**n
    return min(1.0, 2 * tail)


def gsm8k_items(results: Path, agent: str) -> dict[str, bool]:
    """item id -> right, for the agent's SmolLM2 GSM8K evaluation (its inspect log)."""
    from inspect_ai.log import read_eval_log  # noqa: PLC0415 (heavy)

    cell = results / "eval" / agent / "smollm2-135m" / "gsm8k" / "seed1"
    log_file = Path(json.loads((cell / "metrics.json").read_text())["log_file"])
    log = read_eval_log(str(log_file if log_file.is_absolute() else cell / log_file))
    return {str(s.id): next(iter(s.scores.values())).value == "C" for s in log.samples}


def sft_runs(results: Path) -> list[str]:
    """One line per reference SFT run: steps done of those planned, wall time, outcome."""
    lines = []
    for found in sorted((results / "runs" / "sft").glob("*/*/seed*/agent.json")):
        run, agent = found.parent, json.loads(found.read_text())
        done = SFT_DONE.search((run / "agent.log").read_text(errors="replace"))
        steps = f"{done[1]} of {done[2]} steps" if done else "no step count"
        where = "/".join(run.relative_to(results / "runs" / "sft").parts)
        lines.append(f"{where}: {steps}, {agent['wall_seconds']:.0f} s, {agent['outcome']}")
    return lines


def run_demo(results: Path, busy_core: bool) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    # the other work of a shared machine: one process that keeps one core busy throughout
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if busy_core else None
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    try:
        proc = subprocess.run(
            [SNAKEMAKE, "--profile", "profiles/demo", "--config", f"results_dir={results}"],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
        )
    finally:
        if busy:
            busy.kill()
            busy.wait()
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        print(proc.stderr[-3000:], file=sys.stderr)
        raise SystemExit(1)
    with open(results / "leaderboard" / "leaderboard.csv", newline="") as handle:
        board = list(csv.DictReader(handle))
    sft, noop = gsm8k_items(results, "sft"), gsm8k_items(results, "noop")
    return {
        "wall": wall,
        "load": (load_before, *os.getloadavg()),
        "totals": job_times(results),
        "board": board,
        "sft_runs": sft_runs(results),
        "gsm8k": {
            "items": len(sft),
            "sft": sum(sft.values()),
            "noop": sum(noop.values()),
            "sft_only": sum(sft[i] and not noop[i] for i in sft),
            "noop_only": sum(noop[i] and not sft[i] for i in sft),
        },
    }


def ranking(run: dict) -> list[str]:
    return [row["agent"] for row in run["board"]]


def report(title: str, run: dict) -> None:
    print(f"== {title}")
    print(f"{'stage':<14}{'jobs':>6}{'wall s':>10}{'cpu s':>10}")
    for stage, (jobs, job_wall, cpu) in sorted(run["totals"].items(), key=lambda kv: -kv[1][2]):
        print(f"{stage:<14}{jobs:>6}{job_wall:>10.1f}{cpu:>10.1f}")
    cpu_total = sum(t[2] for t in run["totals"].values())
    print(
        f"demo wall time: {run['wall'] / 60:.1f} min; job CPU time: {cpu_total / 60:.1f} min",
        f"({os.cpu_count()} cores)",
    )
    before, *after = run["load"]
    print(
        f"load average: {before:.1f} at the start; {after[0]:.1f} / {after[1]:.1f} / {after[2]:.1f}",
        "(1 / 5 / 15 min) at the end",
    )
    print("reference SFT runs (budget: config/demo.yaml):")
    for line in run["sft_runs"]:
        print(f"  {line}")
    g = run["gsm8k"]
    p = mcnemar_p(g["sft_only"], g["noop_only"])
    print(
        f"SmolLM2 GSM8K, {g['items']} items: SFT {g['sft']} right, No-op {g['noop']}; only SFT right on "
        f"{g['sft_only']}, only No-op on {g['noop_only']} (exact McNemar p = {p:.3g})"
    )
    print("leaderboard (rank, agent, avg, gsm8k, humaneval):")
    for row in run["board"]:
        scores = [row.get(k) or "" for k in ("avg", "gsm8k", "humaneval")]
        print(f"  {row['rank'] or '-':>2} {row['agent']:<28}" + "".join(f"{s[:6]:>9}" for s in scores))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", help="folder for the results dirs, kept (default: a temporary one)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--busy-core", action="store_true", help="run it alone, then beside one busy core")
    mode.add_argument("--busy-only", action="store_true", help="run it beside one busy core only")
    args = parser.parse_args()
    plan = [("own cores", False)] * (not args.busy_only) + [("beside one busy core", True)] * (
        args.busy_core or args.busy_only
    )
    with tempfile.TemporaryDirectory(prefix="ptb-demo-") as scratch:
        runs = {}
        for title, busy in plan:
            results = Path(args.keep or scratch) / ("results-busy" if busy else "results")
            runs[title] = run_demo(results, busy)
            report(title, runs[title])
    if len(runs) == 2:
        alone, beside = runs.values()
        same = ranking(alone) == ranking(beside)
        print(f"ranking {'the same' if same else 'DIFFERS'} with one core busy:", " > ".join(ranking(beside)))
        return 0 if same else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
