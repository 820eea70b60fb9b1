"""Helpers for tests that run snakemake in the repo against a temporary results dir."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures"
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))


def snakemake(
    *args: str, results: Path | None = None, check: bool = True, env: dict | None = None, timeout: int = 1800
) -> subprocess.CompletedProcess:
    """Run snakemake from the repo root; `results` redirects results_dir."""
    cmd = [SNAKEMAKE, *args]
    if results is not None:
        cmd += ["--config", f"results_dir={results}"]
    proc = subprocess.run(
        cmd, cwd=REPO, capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})}
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"snakemake {' '.join(args)} failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-6000:]}"
        )
    return proc


def planned_jobs(proc: subprocess.CompletedProcess) -> dict[str, int]:
    """Rule -> job count from the table `snakemake -n --quiet rules` prints."""
    counts = {}
    for line in (proc.stdout + proc.stderr).splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit() and parts[0] not in ("total",):
            counts[parts[0]] = int(parts[1])
    return counts


def dry_run_jobs(text: str) -> list[dict]:
    """The job blocks of `snakemake -n`: rule plus each `key: value` line."""
    jobs = []
    for line in text.splitlines():
        match = re.match(r"^(?:local)?rule (\w+):$", line)
        if match:
            jobs.append({"rule": match.group(1)})
        elif jobs and re.match(r"^    \w+: ", line):
            key, _, value = line.strip().partition(": ")
            jobs[-1][key] = value
    return jobs
