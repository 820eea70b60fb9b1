"""Dry-run planning time of the production grid and of a 10x grid (more seeds).

Run: .venv/bin/python benchmarks/plan_grid.py
Targets: production grid < 3 s, 10x grid < 15 s on 2 cores.
"""

import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))


def plan(extra_config: list[str], results: str) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run(
        [SNAKEMAKE, "-n", "--quiet", "rules", "--config", f"results_dir={results}", *extra_config],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    elapsed = time.perf_counter() - start
    total = next(line.split()[1] for line in proc.stdout.splitlines() if line.startswith("total"))
    return elapsed, total


def main() -> None:
    with tempfile.TemporaryDirectory() as results:
        for label, extra in (
            ("production grid (4x4x7x3)", []),
            ("10x grid (4x4x7x30)", ["grid={seeds: [" + ", ".join(str(s) for s in range(1, 31)) + "]}"]),
        ):
            runs = [plan(extra, results) for _ in range(3)]
            best = min(t for t, _ in runs)
            print(f"{label}: {runs[0][1]} jobs planned, dry run {best:.2f} s (best of 3)")


if __name__ == "__main__":
    main()
