"""Dry-run planning time of the production grid and of a 10x grid (more seeds), each as a
ratio to the engine's own floor: a trivial 4-rule workflow with the same job count, timed
in the same run (so the ratio holds on a busy or a slow machine).

Run: .venv/bin/python benchmarks/plan_grid.py
Targets: production grid < 3 s, 10x grid < 15 s on 2 idle cores.
With slurm-client installed but no controller answering, put a stub `scontrol` that exits 1
first on PATH (the slurm executor plugin asks it at import: ~8 s per snakemake call).
"""

import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
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


def timed(cmd: list[str], cwd: Path) -> tuple[float, int]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=True)
    elapsed = time.perf_counter() - start
    total = next(line.split()[1] for line in proc.stdout.splitlines() if line.startswith("total"))
    return elapsed, int(total)


def best_of(runs: int, cmd: list[str], cwd: Path) -> tuple[float, int]:
    results = [timed(cmd, cwd) for _ in range(runs)]
    return min(t for t, _ in results), results[0][1]


def floor(jobs: int, tmp: Path, runs: int) -> float:
    """Planning time of a trivial workflow with the same number of jobs."""
    work = tmp / f"floor{jobs}"
    work.mkdir()
    (work / "Snakefile").write_text(FLOOR.format(n=jobs))
    return best_of(runs, [SNAKEMAKE, "-n", "--quiet", "rules", "--cores", "1"], work)[0]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for label, extra in (
            ("production grid (4x4x7x3)", []),
            ("10x grid (4x4x7x30)", ["grid={seeds: [" + ", ".join(str(s) for s in range(1, 31)) + "]}"]),
        ):
            cmd = [SNAKEMAKE, "-n", "--quiet", "rules", "--config", f"results_dir={tmp / 'results'}", *extra]
            took, jobs = best_of(3, cmd, REPO)
            base = floor(jobs, tmp, 3)
            print(
                f"{label}: {jobs} jobs planned, dry run {took:.2f} s (best of 3); "
                f"engine floor {base:.2f} s; ratio {took / base:.2f}"
            )


if __name__ == "__main__":
    main()
