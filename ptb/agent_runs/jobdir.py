"""The job directory handed to an agent: prompt, read-only evaluation files, timer."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

from ptb.core import io, tasks
from ptb.core.chat_templates import template_path
from ptb.core.paths import REPO_ROOT

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


def links_outside(folder: str | Path, run_dir: str | Path) -> list[str]:
    """The symlinks at or under `folder` whose target does not exist or lies outside run_dir
    (what the agent could write: its job dir, HOME and scratch). A final_model/ that points at
    another model on the machine is not the agent's to submit, and nothing that reads it
    (hashes, judge, evaluation) may be led out of the run."""
    folder, inside = Path(folder), Path(run_dir).resolve()
    if not folder.is_symlink() and not folder.is_dir():
        return []
    candidates = [folder] if folder.is_symlink() else []
    if not folder.is_symlink():
        for root, dirs, files in os.walk(folder):  # never follows a link
            candidates += [Path(root) / name for name in dirs + files if (Path(root) / name).is_symlink()]
    return sorted(
        str(link.relative_to(folder.parent))
        for link in candidates
        if not (target := link.resolve()).exists() or not target.is_relative_to(inside)
    )


def reclaim(job_dir: str | Path) -> None:
    """Give the workflow's user back every folder (rwx) and file (r) of a job dir: an agent may
    have left them unreadable (chmod 000) or undeletable (a read-only folder). Run after the
    agent, so the judge and the hashes read everything, and before a re-run deletes the dir.
    Symlinks are left alone (chmod would follow them out of the job dir)."""
    job_dir = Path(job_dir)
    if not job_dir.is_dir() or job_dir.is_symlink():
        return
    _change_mode(job_dir, add=stat.S_IRWXU)
    for root, dirs, files in os.walk(job_dir):  # top-down: a folder is opened before its walk
        for name in dirs:
            _change_mode(Path(root) / name, add=stat.S_IRWXU)
        for name in files:
            _change_mode(Path(root) / name, add=stat.S_IRUSR)


def _change_mode(path: Path, add: int = 0, drop: int = 0) -> None:
    """Add and take off permission bits of path, unless it is a symlink (chmod would follow it)."""
    mode = path.lstat().st_mode
    new = (stat.S_IMODE(mode) | add) & ~drop
    if not stat.S_ISLNK(mode) and new != stat.S_IMODE(mode):
        path.chmod(new)


def freeze(folder: str | Path) -> None:
    """Take the write bits off a collected folder (final_model/) and everything in it, links
    left alone: after its run the agent's processes are gone with the box's PID namespace, and
    nothing of the runner's writes there again. `reclaim` gives the bits back before a re-run."""
    folder = Path(folder)
    if not folder.is_dir() or folder.is_symlink():
        return
    writable = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH
    for root, dirs, files in os.walk(folder, topdown=False):  # a folder after what it holds
        for name in dirs + files:
            _change_mode(Path(root) / name, drop=writable)
    _change_mode(folder, drop=writable)
