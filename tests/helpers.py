"""Helpers for tests that run snakemake in the repo against a temporary results dir."""

from __future__ import annotations

import os
import re
import shutil
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


def _not_copied(directory: str, names: list[str]) -> set[str]:
    """What a checkout copy leaves out: results, caches, every hidden top-level entry (.git, .venv)."""
    top = Path(directory) == REPO
    return {
        n
        for n in names
        if n in ("__pycache__", "results") or n.endswith(".pyc") or (top and n.startswith("."))
    }


def copy_checkout(work: Path) -> Path:
    """The repository's files copied to work (name it `work` or `repo`: pyproject's coverage
    [paths] map a copy's ptb/ back); run its code with PYTHONPATH=work (the venv's editable
    install points at the repo)."""
    shutil.copytree(REPO, work, ignore=_not_copied, symlinks=True)
    return work


def checkout_env(work: Path) -> dict:
    """The environment to run a checkout copy's commands in: its own ptb, the venv's tools first."""
    bindir = str(Path(sys.executable).parent)  # snakemake, ptb-status, new-task, inspect, python
    return {
        **os.environ,
        "PYTHONPATH": str(work),
        "PATH": f"{bindir}:{os.environ.get('PATH', '')}",
        "OMP_NUM_THREADS": "1",
        "HF_HUB_OFFLINE": "1",
    }


def bash_blocks(markdown: str) -> list[str]:
    """The ```bash blocks of a markdown text."""
    return re.findall(r"^```bash\n(.*?)^```", markdown, re.DOTALL | re.MULTILINE)
