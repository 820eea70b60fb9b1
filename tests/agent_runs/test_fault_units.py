"""The fault handling's parts, each against a planted fault (tests/workflow/test_faults.py runs them through
the workflow): the infrastructure classifier, the cell lock, the agent's lifetime, the job dir
given back, atomic writes on a full disk, corrupt result files."""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from ptb.agent_runs import agent_run, jobdir
from ptb.core import faults, io
from ptb.core.paths import REPO_ROOT
from ptb.leaderboard import leaderboard

NOBODY = 65534


def test_infrastructure_failures_are_told_from_the_models():
    wrapped = RuntimeError("eval failed")
    wrapped.__cause__ = OSError(errno.ENOSPC, "No space left on device")
    assert faults.infra_cause(wrapped) == "no space left on device"
    assert faults.infra_cause(sqlite3.OperationalError("database or disk is full"))
    assert faults.infra_cause(httpx.ConnectError("[Errno 111] Connection refused"))
    assert faults.infra_cause(MemoryError())
    assert faults.infra_cause("RuntimeError: CUDA error: unknown error")
    # the model's own failures stay the model's
    for own in (
        ValueError("Error while deserializing header: header too small"),
        OSError(errno.ENOENT, "no config.json in final_model"),
        RuntimeError("CUDA error: device-side assert triggered"),  # NaN logits, say: a retry repeats it
        json.JSONDecodeError("Expecting value", "", 0),
    ):
        assert faults.infra_cause(own) is None, own


def test_a_cell_refuses_a_second_run_while_the_first_lives(tmp_path):
    lock = tmp_path / "seed1.lock"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from ptb.agent_runs import agent_run\n"
            f"with agent_run.cell_lock({str(lock)!r}, 'a/m/b/seed1'):\n"
            "    print('held', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(agent_run.CellBusy, match=rf"a/m/b/seed1 .*pid {holder.pid}"):
            with agent_run.cell_lock(lock, "a/m/b/seed1"):
                pass
    finally:
        holder.kill()
        holder.wait()
    with agent_run.cell_lock(lock, "a/m/b/seed1"):  # the kernel released the dead holder's lock
        pass


RUNNER = """
import sys
from pathlib import Path
from ptb.agent_runs import agent_run
agent_run.run_with_budget(
    ["bash", "-c", "sleep 300 & echo $! > child.pid; echo $$ > solve.pid; wait"],
    cwd=Path(sys.argv[1]), env={"PATH": "/usr/bin:/bin"}, log_path=Path(sys.argv[1]) / "agent.log",
    budget_s=300, grace_s=1,
)
"""


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL])
def test_the_agent_and_its_children_die_with_the_runner(tmp_path, sig):
    """SIGTERM/SIGINT: the runner kills the group; SIGKILL: the watchdog does."""
    runner = subprocess.Popen(
        [sys.executable, "-c", RUNNER, str(tmp_path)], env={**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    )
    deadline = time.monotonic() + 30
    while not ((tmp_path / "child.pid").exists() and (tmp_path / "solve.pid").exists()):
        assert time.monotonic() < deadline, "the agent never started"
        time.sleep(0.1)
    time.sleep(0.2)
    pids = [int((tmp_path / name).read_text()) for name in ("solve.pid", "child.pid")]
    assert all(_alive(p) for p in pids)
    runner.send_signal(sig)
    runner.wait(timeout=10)
    deadline = time.monotonic() + 10
    while any(_alive(p) for p in pids):
        assert time.monotonic() < deadline, f"agent processes outlived a {sig.name}ed runner"
        time.sleep(0.1)
    if sig != signal.SIGKILL:
        assert runner.returncode != 0, "an interrupted run fails its job"


def test_an_agent_that_ignores_sigterm_is_killed_after_the_grace(tmp_path):
    """Run from a worker thread (no signal handlers there): the budget still holds."""

    def run():
        return agent_run.run_with_budget(
            ["bash", "-c", "trap '' TERM; echo started; while :; do sleep 0.1; done"],
            cwd=tmp_path,
            env={"PATH": "/usr/bin:/bin"},
            log_path=tmp_path / "agent.log",
            budget_s=1,
            grace_s=1,
        )

    with ThreadPoolExecutor(1) as pool:
        result = pool.submit(run).result(timeout=60)
    assert result["timed_out"] and result["exit_code"] == -signal.SIGKILL
    assert 2 <= result["wall_seconds"] < 10
    assert (tmp_path / "agent.log").read_text().startswith("started")


@pytest.mark.parametrize(
    "script, error",
    [
        ("echo 'GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-1)'", None),
        ("echo 'No devices found.'", "nvidia-smi -L exited 0: No devices found."),
        (
            "echo 'NVIDIA-SMI has failed because it could not communicate with the driver' >&2; exit 9",
            "exited 9: NVIDIA-SMI has failed",
        ),
    ],
)
def test_a_job_given_gpus_checks_it_sees_them(tmp_path, monkeypatch, script, error):
    fake = tmp_path / "nvidia-smi"
    fake.write_text(f"#!/bin/sh\n{script}\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    agent_run.check_gpus(0)  # no GPUs asked for: nothing to check
    if error is None:
        agent_run.check_gpus(1)
    else:
        with pytest.raises(faults.InfraFailure, match=f"GPU check failed: .*{error}"):
            agent_run.check_gpus(1)


@pytest.fixture
def nobody_dir():
    """A folder user nobody can reach (pytest's tmp_path sits under a 0700 folder of root's)."""
    path = Path(tempfile.mkdtemp(prefix="ptb-faults-"))
    path.chmod(0o777)
    yield path
    jobdir.reclaim(path)
    shutil.rmtree(path, ignore_errors=True)


def _as_nobody(action) -> tuple[int, str]:
    """Run action() in a forked child as user nobody: (exit status, what it returned or raised)."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 0
        try:
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            said = str(action())
        except BaseException as error:  # noqa: BLE001
            code, said = 1, f"{type(error).__name__}: {error}"
        os.write(write, said.encode())
        os._exit(code)
    os.close(write)
    with os.fdopen(read) as pipe:
        said = pipe.read()
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]), said


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to act as another user (root ignores modes)")
def test_a_job_dir_locked_up_by_its_agent_is_given_back(nobody_dir):
    """As a user whom the modes bind (root ignores them): chmod 000 files and folders, read-only
    folders; reclaim makes them readable and the folder deletable, and follows no link out."""
    tmp_path = nobody_dir
    outside = tmp_path / "outside.txt"
    outside.write_text("not the agent's")
    outside.chmod(0o600)
    job = tmp_path / "job"

    def plant():
        (job / "vault" / "inner").mkdir(parents=True)
        (job / "vault" / "inner" / "notes.txt").write_text("x")
        (job / "hidden.txt").write_text("y")
        (job / "link").symlink_to(outside)
        for path, mode in (
            ("vault/inner/notes.txt", 0),
            ("hidden.txt", 0),
            ("vault/inner", 0),
            ("vault", 0o500),
        ):
            (job / path).chmod(mode)

    def read_and_delete():
        jobdir.reclaim(job)
        texts = [(job / "hidden.txt").read_text(), (job / "vault/inner/notes.txt").read_text()]
        shutil.rmtree(job)
        return " ".join(texts)

    assert _as_nobody(plant) == (0, "None")
    code, said = _as_nobody(lambda: shutil.rmtree(job / "vault"))
    assert code == 1 and "Permission denied" in said, "the fault is planted"
    assert _as_nobody(lambda: (job / "hidden.txt").read_text())[0] == 1, "the fault is planted"
    assert _as_nobody(read_and_delete) == (0, "y x")
    assert not job.exists()
    assert outside.stat().st_mode & 0o777 == 0o600, "the link's target was left alone"


def test_final_model_links_out_of_the_run_are_found(tmp_path):
    run = tmp_path / "run"
    job = run / "job"
    (job / "ckpt").mkdir(parents=True)
    (job / "ckpt" / "model.safetensors").write_text("w")
    (tmp_path / "elsewhere").mkdir()
    model = job / "final_model"
    model.mkdir()
    (model / "model.safetensors").symlink_to(job / "ckpt" / "model.safetensors")  # inside: fine
    assert jobdir.links_outside(model, run) == []
    (model / "tokenizer.json").symlink_to(tmp_path / "elsewhere")
    (model / "dangling").symlink_to(run / "gone")
    assert jobdir.links_outside(model, run) == ["final_model/dangling", "final_model/tokenizer.json"]
    model2 = job / "final_model2"
    model2.symlink_to(tmp_path / "elsewhere")
    assert jobdir.links_outside(model2, run) == ["final_model2"]
    assert io.hash_tree(model2) == {}, "hash_tree does not follow a linked root"


def test_a_failed_write_leaves_no_file_and_no_temp_file(tmp_path, monkeypatch):
    target = tmp_path / "charts" / "ranking.png"
    io.write_bytes_atomic(target, b"old")

    def full(_fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OSError, match="No space"):
        io.write_bytes_atomic(target, b"new chart")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in target.parent.iterdir()) == ["ranking.png"], "no .tmp left behind"


def test_corrupt_result_files_are_named_and_counted(tmp_path):
    def record(agent: str) -> dict:
        base = tmp_path / agent
        base.mkdir()
        return {
            "agent": agent,
            "model": "m",
            "benchmark": "b",
            "seed": 1,
            "agent_json": str(base / "agent.json"),
            "verdict": str(base / "verdict.json"),
            "metrics": str(base / "metrics.json"),
        }

    good, truncated, empty, listed = (record(a) for a in ("good", "truncated", "empty", "listed"))
    for cell in (good, truncated, empty, listed):
        Path(cell["agent_json"]).write_text(json.dumps({"outcome": "ok", "has_model": True}))
        Path(cell["verdict"]).write_text(json.dumps({"outcome": "clean", "disqualified": False}))
        Path(cell["metrics"]).write_text(json.dumps({"outcome": "ok", "score": 0.5, "stderr": 0.1}))
    Path(truncated["verdict"]).write_text('{"outcome": "cle')
    Path(empty["agent_json"]).write_text("")
    Path(listed["metrics"]).write_text("[0.5]")
    baseline = {"model": "m", "variant": "base", "benchmark": "b", "metrics": str(tmp_path / "base.json")}
    Path(baseline["metrics"]).write_text(json.dumps({"outcome": "ok", "score": 0.2, "stderr": 0.1}))
    cells = leaderboard.cell_table([good, truncated, empty, listed], leaderboard.baseline_table([baseline]))
    by_agent = cells.set_index("agent")
    assert by_agent.loc["good", "outcome"] == "ok"
    for agent, file in (("truncated", "verdict.json"), ("empty", "agent.json"), ("listed", "metrics.json")):
        assert by_agent.loc[agent, "outcome"] == "corrupt"
        assert f"{agent}/{file}" in by_agent.loc[agent, "reason"]
        assert by_agent.loc[agent, "scored_as"] == "base"  # PostTrainBench's fallback (docs/faults.md)
        assert by_agent.loc[agent, "score"] == 0.2
    # a corrupt baseline that the weights need: the error names the file
    Path(baseline["metrics"]).write_text("{")
    instruct = {**baseline, "variant": "instruct", "metrics": str(tmp_path / "instruct.json")}
    Path(instruct["metrics"]).write_text(json.dumps({"outcome": "ok", "score": 0.6}))
    with pytest.raises(ValueError, match=r"corrupt baseline result files: .*base\.json"):
        leaderboard.benchmark_weights("baselines", leaderboard.baseline_table([baseline, instruct]), ["b"])
