"""The scheduler's cost over a real run, with and without the engine patches the workflow
installs (ptb/core/plan_speed.py, the cyclic collector's settings among them): a chain workflow
of N trivial shell jobs run locally (--cores 2), each variant in turn. Prints the run's wall
time, the scheduler process's CPU time and peak RSS (sampled from /proc every 0.2 s), and what
the collector still had to free when the run ended (cycles a rarer scan left behind).

Run: .venv/bin/python benchmarks/scheduler_run.py [--jobs 4000] [--runs 1]
With slurm-client installed but no controller answering, put a stub `scontrol` that exits 1
first on PATH (as for plan_grid.py).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from plan_grid import FLOOR, PATCHED, SNAKEMAKE, cache_bytecode  # noqa: E402

# at the end of a successful run: the garbage still pending, then freed by one full collection
AT_END = """
onsuccess:
    import gc, sys
    pending, tracked, frozen = gc.collect(), len(gc.get_objects()), gc.get_freeze_count()
    print(f"pending garbage: {pending} objects; tracked {tracked}, frozen {frozen}", file=sys.stderr)
"""
VARIANTS = {"plain engine": "", "patched engine (as the workflow runs)": PATCHED}


def _proc_stats(pid: int) -> tuple[float, int]:
    """(CPU s, RSS MB) of a running process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    rss = next(
        line for line in Path(f"/proc/{pid}/status").read_text().splitlines() if line.startswith("VmRSS")
    )
    return cpu, int(rss.split()[1]) // 1024


def run_once(work: Path) -> tuple[float, float, int, str]:
    """(wall s, scheduler CPU s, peak RSS MB, the pending-garbage line) of one full run."""
    for made in ("a", "b", "c", "d", ".snakemake"):
        shutil.rmtree(work / made, ignore_errors=True)
    log = work / "stderr.log"  # a file, not a pipe: a pipe nobody reads while it runs can fill
    start = time.perf_counter()
    with log.open("w") as stderr:
        proc = subprocess.Popen(
            [SNAKEMAKE, "--cores", "2", "--quiet", "all"], cwd=work, stdout=subprocess.DEVNULL, stderr=stderr
        )
    cpu = peak = 0
    while proc.poll() is None:
        try:
            cpu, rss = _proc_stats(proc.pid)
            peak = max(peak, rss)
        except (FileNotFoundError, ProcessLookupError, StopIteration):
            pass  # between exit and reaping
        time.sleep(0.2)
    wall = time.perf_counter() - start
    stderr = log.read_text()
    if proc.returncode != 0:
        raise SystemExit(f"the run in {work} failed:\n{stderr[-3000:]}")
    pending = re.search(r"pending garbage: .*", stderr)
    return wall, cpu, peak, pending.group(0) if pending else "(no line)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=4000, help="jobs in the run")
    parser.add_argument("--runs", type=int, default=1, help="runs of each variant, in turn")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        cache_bytecode(tmp)
        works = {}
        for i, (label, head) in enumerate(VARIANTS.items()):
            works[label] = tmp / f"v{i}"
            works[label].mkdir()
            (works[label] / "Snakefile").write_text(head + FLOOR.format(n=args.jobs) + AT_END)
        results = {label: [] for label in VARIANTS}
        for _ in range(args.runs):
            for label, work in works.items():
                results[label].append(run_once(work))
        for label, runs in results.items():
            wall, cpu, peak, pending = min(runs)
            print(
                f"{label}: {args.jobs} jobs, {wall:.1f} s wall, scheduler {cpu:.1f} s CPU, "
                f"peak {peak} MB; {pending}; load {os.getloadavg()[0]:.2f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
