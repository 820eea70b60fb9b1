"""Stopping a run: SIGINT and SIGTERM to snakemake cancel its running jobs, and jobs orphaned by a
killed snakemake are found (ptb-status) and killed by the next run (docs/faults.md).

snakemake 9 on its own does neither: SIGTERM only stops scheduling ("graceful": it waits for the
running jobs, an agent up to its budget), and SIGINT (`kill -INT`, not a terminal's Ctrl-C, which
reaches the whole process group) cancels through the local executor's `pool.shutdown()`, which
waits too. rules/workflow.smk's `onstart` calls `install`: on either signal the handler sends
SIGTERM to every running job (the job scripts are snakemake's children; the agent runner kills its
agent's group and writes no agent.json), SIGKILLs what is left of their process trees after
GRACE_SECONDS, then raises KeyboardInterrupt so the scheduler cancels as for Ctrl-C (the SLURM
executor plugin scancels its jobs) and the jobs are recorded as failed, never finished.

A job process is a python running a script snakemake wrote to `.snakemake/scripts/` (how
`script:` rules run); an orphan is one with no snakemake among its ancestors.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

GRACE_SECONDS = 10.0  # the agent runner's own cleanup (kill the group, reclaim the run dir) fits
SCRIPTS = "/.snakemake/scripts/"


def _say(text: str) -> None:
    print(f"ptb: {text}", file=sys.stderr, flush=True)


def _stat(pid: int) -> tuple[int, int] | None:
    """(parent pid, start time) of a live process, or None."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[1]), int(fields[19])) if fields[0] != "Z" else None


def _cmdline(pid: int) -> list[str]:
    try:
        return [os.fsdecode(p) for p in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0") if p]
    except OSError:
        return []


def _parents() -> dict[int, int]:
    found = {}
    for entry in Path("/proc").glob("[0-9]*"):
        stat = _stat(int(entry.name))
        if stat:
            found[int(entry.name)] = stat[0]
    return found


def descendants(pid: int, parents: dict[int, int] | None = None) -> list[int]:
    """Every live descendant of pid, parents before children."""
    parents = _parents() if parents is None else parents
    children: dict[int, list[int]] = {}
    for child, parent in parents.items():
        children.setdefault(parent, []).append(child)
    found, queue = [], list(children.get(pid, []))
    while queue:
        child = queue.pop(0)
        found.append(child)
        queue += children.get(child, [])
    return found


def is_snakemake(pid: int) -> bool:
    """`snakemake ...`, `python .../snakemake ...` or `python -m snakemake ...` (a SLURM job step)."""
    return any(Path(part).name == "snakemake" for part in _cmdline(pid)[:3])


def job_script(pid: int) -> str | None:
    """The rule's script a job process runs (`tmpXXXX.judge.py`), or None for other processes."""
    return next((Path(p).name for p in _cmdline(pid)[1:2] if SCRIPTS in p), None)


def orphans(workdir: str | Path = ".") -> list[tuple[int, str]]:
    """(pid, script) of job processes of workdir whose snakemake is gone (killed with -9)."""
    here, parents, found = Path(workdir).resolve(), _parents(), []
    for pid in sorted(parents):
        script = job_script(pid)
        if script is None:
            continue
        try:
            if Path(os.readlink(f"/proc/{pid}/cwd")) != here:
                continue
        except OSError:
            continue
        ancestor = parents.get(pid, 0)
        while ancestor > 1 and not is_snakemake(ancestor):
            ancestor = parents.get(ancestor, 0)
        if ancestor <= 1:
            found.append((pid, script))
    return found


def _signal_all(pids: list[int], starts: dict[int, int], sig: int) -> None:
    for pid in pids:
        stat = _stat(pid)
        if stat and stat[1] == starts.get(pid):  # the same process, not a reused pid
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass


def stop_jobs(root: int, grace: float = GRACE_SECONDS) -> list[int]:
    """SIGTERM the job processes under root (and its other children), wait up to grace for them,
    then SIGKILL whatever is left of the process tree they had; returns the jobs signalled."""
    tree = descendants(root)
    starts = {pid: stat[1] for pid in tree if (stat := _stat(pid))}
    jobs = [pid for pid in tree if _stat(pid) and _stat(pid)[0] == root]
    _signal_all(jobs, starts, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(_stat(p) and _stat(p)[1] == starts.get(p) for p in jobs):
        time.sleep(0.1)
    _signal_all(tree, starts, signal.SIGKILL)  # grandchildren a job did not take down with it
    return jobs


def kill_orphans(workdir: str | Path = ".", grace: float = GRACE_SECONDS) -> list[tuple[int, str]]:
    """SIGTERM, then after grace SIGKILL, each orphan of workdir and its process tree."""
    found = orphans(workdir)
    for pid, script in found:
        _say(f"killing pid {pid} ({script}): a job left running by a killed snakemake")
        tree = [pid, *descendants(pid)]
        starts = {p: stat[1] for p in tree if (stat := _stat(p))}
        _signal_all([pid], starts, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and _stat(pid):
            time.sleep(0.1)
        _signal_all(tree, starts, signal.SIGKILL)
    return found


def install(workdir: str | Path = ".") -> None:
    """In the snakemake process (rules/workflow.smk's onstart): kill the orphans of a killed run,
    then make SIGINT and SIGTERM cancel the running jobs."""
    kill_orphans(workdir)
    me, stopping = os.getpid(), []

    def stop(signum, _frame):
        if stopping or os.getpid() != me:
            return  # a second signal while stopping, or a forked child
        stopping.append(signum)
        name = signal.Signals(signum).name
        _say(f"{name}: cancelling the running jobs (docs/faults.md)")
        jobs = stop_jobs(me)
        _say(f"{name}: {len(jobs)} running jobs cancelled; the next run runs them again")
        raise KeyboardInterrupt(name)

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, stop)
