"""Stopping a run (ptb.core.stops): the jobs of a stopped snakemake are cancelled with their process
trees, and a job left running by a killed snakemake (an orphan) is named by ptb-status and killed
by the next run. Real processes: a stand-in `snakemake` that starts a job script the way snakemake
does (`python .snakemake/scripts/tmpXXXX.<rule>.py` in the working directory)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from ptb.core import stops
from ptb.tools import status

# the job: ignores SIGTERM if told to, starts a grandchild, reports both pids, sleeps
JOB = """
import signal, subprocess, sys, time
if sys.argv[1:] == ["stubborn"]:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
print(child.pid, flush=True)
time.sleep(300)
"""
# the stand-in snakemake: starts the job in its working directory, passes its output on, sleeps
LAUNCHER = """
import subprocess, sys, time
job = subprocess.Popen([sys.executable, sys.argv[1], *sys.argv[2:]], stdout=subprocess.PIPE, text=True)
print(job.pid, job.stdout.readline().strip(), flush=True)
time.sleep(300)
"""


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def wait_for(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def start(tmp_path: Path, *job_args: str) -> tuple[subprocess.Popen, int, int, Path]:
    """(stand-in snakemake, job pid, grandchild pid, workdir)."""
    workdir = tmp_path / "wd"
    scripts = workdir / ".snakemake" / "scripts"
    scripts.mkdir(parents=True)
    (scripts / "tmpab12cd.judge.py").write_text(JOB)
    launcher = tmp_path / "bin" / "snakemake"
    launcher.parent.mkdir()
    launcher.write_text(LAUNCHER)
    proc = subprocess.Popen(
        [sys.executable, str(launcher), str(scripts / "tmpab12cd.judge.py"), *job_args],
        cwd=workdir,
        stdout=subprocess.PIPE,
        text=True,
    )
    job, grandchild = (int(x) for x in proc.stdout.readline().split())
    return proc, job, grandchild, workdir


def test_an_orphaned_job_is_named_by_ptb_status_and_killed_by_the_next_run(tmp_path):
    launcher, job, grandchild, workdir = start(tmp_path)
    try:
        assert stops.orphans(workdir) == [], "a job whose snakemake runs is no orphan"
        launcher.kill()  # kill -9 of snakemake
        launcher.wait()
        assert wait_for(lambda: stops.orphans(workdir) == [(job, "tmpab12cd.judge.py")], 5)
        advice = "\n".join(status.recovery(workdir))
        assert f"orphaned job: pid {job} runs tmpab12cd.judge.py" in advice and f"kill {job}" in advice
        assert stops.orphans(tmp_path) == [], "another working directory's jobs are not this run's"
        assert stops.kill_orphans(workdir, grace=5) == [(job, "tmpab12cd.judge.py")]
        assert wait_for(lambda: not alive(job) and not alive(grandchild), 5), "the job and its child die"
        assert stops.orphans(workdir) == []
    finally:
        for pid in (job, grandchild):
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_stopping_cancels_each_job_and_what_it_started_even_a_job_that_ignores_sigterm(tmp_path):
    launcher, job, grandchild, _ = start(tmp_path, "stubborn")
    try:
        started = time.monotonic()
        assert stops.stop_jobs(launcher.pid, grace=1) == [job]
        assert time.monotonic() - started < 5
        assert wait_for(lambda: not alive(job) and not alive(grandchild), 5), "SIGKILL after the grace"
        assert alive(launcher.pid), "only the jobs: the snakemake process handles its own exit"
    finally:
        launcher.kill()
        launcher.wait()
        for pid in (job, grandchild):
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
