"""The embedded demo's time: wall clock of `snakemake --profile profiles/demo` in a fresh results
dir, and the jobs' own wall and CPU seconds from their snakemake benchmark files, per rule.

Run: .venv/bin/python benchmarks/demo_time.py [--keep DIR]
Target on 2 idle cores: under 10 minutes of workflow wall time (after `make setup`). On a shared
machine the wall time grows with the load (printed); the summed job CPU time is the steadier figure.
"""

from __future__ import annotations

import argparse
import collections
import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", help="results dir to use and keep (default: a temporary one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ptb-demo-") as scratch:
        results = Path(args.keep or scratch) / "results"
        env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
        load_before = os.getloadavg()[0]
        started = time.perf_counter()
        proc = subprocess.run(
            [SNAKEMAKE, "--profile", "profiles/demo", "--config", f"results_dir={results}"],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
        )
        wall = time.perf_counter() - started
        load_after = os.getloadavg()  # 1, 5, 15 min: the 15-minute figure spans most of the run
        if proc.returncode != 0:
            print(proc.stderr[-3000:], file=sys.stderr)
            return 1
        totals = job_times(results)
        print(f"{'stage':<14}{'jobs':>6}{'wall s':>10}{'cpu s':>10}")
        for stage, (jobs, job_wall, cpu) in sorted(totals.items(), key=lambda kv: -kv[1][2]):
            print(f"{stage:<14}{jobs:>6}{job_wall:>10.1f}{cpu:>10.1f}")
        cpu_total = sum(t[2] for t in totals.values())
        print(
            f"demo wall time: {wall / 60:.1f} min; job CPU time: {cpu_total / 60:.1f} min",
            f"({os.cpu_count()} cores)",
        )
        # the demo alone keeps the load near the core count; above it, other work shared the cores
        shared = max(load_before, load_after[1]) > os.cpu_count() + 0.5
        print(
            f"load average: {load_before:.1f} at the start; {load_after[0]:.1f} / {load_after[1]:.1f} / "
            f"{load_after[2]:.1f} (1 / 5 / 15 min) at the end: "
            + (
                "other work shared the cores, so the wall time overstates the demo's"
                if shared
                else "the cores were the demo's own"
            )
        )
        board = results / "leaderboard" / "leaderboard.md"
        print(board.read_text() if board.exists() else "no leaderboard")
    return 0


if __name__ == "__main__":
    sys.exit(main())
