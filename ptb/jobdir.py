"""The job directory handed to an agent: prompt, read-only evaluation files, timer."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

from ptb import io, tasks
from ptb.chat_templates import template_path
from ptb.paths import REPO_ROOT

PROMPT_TEMPLATE = REPO_ROOT / "agents" / "prompt.md"
HANDOUT_FILES = ("evaluate.py", "task.py", "task.yaml", "benchmark.txt")

TIMER = """#!/usr/bin/env bash
# Prints the time left in this run's budget.
left=$(( {deadline} - $(date +%s) ))
if [ "$left" -le 0 ]; then echo "Time is up."; exit 0; fi
printf 'Time left: %dh %02dm %02ds\\n' $((left/3600)) $((left%3600/60)) $((left%60))
"""


def render_prompt(
    *, model_id: str, family: str, benchmark: str, hours: float, base_model_path: str, gpu_info: str
) -> str:
    return PROMPT_TEMPLATE.read_text().format(
        model=model_id,
        family=family,
        benchmark=tasks.task_dir(benchmark).joinpath("benchmark.txt").read_text().strip(),
        num_hours=f"{hours:g}",
        base_model_path=base_model_path,
        gpu_info=gpu_info,
    )


def _read_only(path: Path) -> None:
    path.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)


def prepare(job_dir: str | Path, *, benchmark: str, family: str, prompt: str, deadline: int) -> dict:
    """Create a fresh job dir; return the sha256 of every handed-out file (kept outside it)."""
    job_dir = Path(job_dir)
    if job_dir.exists():
        shutil.rmtree(job_dir)
    (job_dir / "templates").mkdir(parents=True)
    (job_dir / "prompt.md").write_text(prompt)
    timer = job_dir / "timer.sh"
    timer.write_text(TIMER.format(deadline=deadline))
    timer.chmod(0o555)
    handed = []
    for name in HANDOUT_FILES:
        source = tasks.task_dir(benchmark) / name
        if source.exists():
            shutil.copyfile(source, job_dir / name)
            handed.append(job_dir / name)
    template = job_dir / "templates" / f"{family}.jinja"
    shutil.copyfile(template_path(family, tools=bool(tasks.spec(benchmark).get("tool_calling"))), template)
    handed += [template, job_dir / "prompt.md", timer]
    for path in handed:
        _read_only(path)
    return {str(p.relative_to(job_dir)): io.sha256_file(p) for p in handed}


def allow_cleanup(job_dir: str | Path) -> None:
    """Make the handed-out read-only files removable again (before a re-run deletes the dir)."""
    for root, dirs, files in os.walk(job_dir):
        for name in dirs + files:
            path = Path(root) / name
            if not path.is_symlink():
                path.chmod(path.stat().st_mode | stat.S_IWUSR)
