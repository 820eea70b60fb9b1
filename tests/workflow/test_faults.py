"""Faults planted in the real workflow (demo profile, tiny-qwen3, scripted agents): each failure is
named, the model's failures become outcomes, the infrastructure's fail the job, and one step
recovers. docs/faults.md is the table of them.

One module fixture drives one workflow through a sequence of faults (snakemake calls are the
cost: ~4 s each here with the stub `scontrol`, far more without it), in a working directory of
its own (symlinks to the checkout) so that its .snakemake/ locks, and the `snakemake --unlock`
it runs, never touch the checkout's.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from helpers import REPO, SNAKEMAKE, planned_jobs
from snakemake.persistence.file import FilePersistence

from ptb.core import paths
from ptb.core.grid import Cell
from ptb.tools import status

CELL = {"model": "tiny-qwen3", "benchmark": "gsm8k", "seed": 1}
AGENTS = {
    "fine": {"behavior": "submit_copy"},  # evaluated, not copied from the evaluation store
    "empty": {"behavior": "empty_model"},
    "linker": {"behavior": "link_out"},
    "locker": {"behavior": "lock_up", "files": 3000},
}


def run_file(results: Path, template: str, agent: str) -> Path:
    return Path(paths.fill(template, str(results), agent=agent, **CELL))


def read(results: Path, template: str, agent: str) -> dict:
    return json.loads(run_file(results, template, agent).read_text())


def host_pids_with_home(home: Path) -> list[int]:
    """Host pids of the processes whose environment has HOME=home (an agent's, in its box)."""
    wanted = f"HOME={home}".encode()
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if wanted in (entry / "environ").read_bytes().split(b"\0"):
                found.append(int(entry.name))
        except OSError:
            continue
    return sorted(found)


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def full_filesystem(where: Path) -> bool:
    """Mount a 256 KiB tmpfs over `where` and fill it; False where mounting is not allowed."""
    where.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(where)], capture_output=True
    )
    if mounted.returncode != 0:
        return False
    try:
        with open(where / "filler", "wb") as filler:
            while True:
                filler.write(b"\0" * 4096)
                filler.flush()
    except OSError:  # ENOSPC: full
        pass
    return True


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    root = tmp_path_factory.mktemp("faults")
    workdir = root / "wd"
    workdir.mkdir()
    for entry in REPO.iterdir():
        if entry.name not in (".snakemake", ".git", "results"):
            (workdir / entry.name).symlink_to(entry)
    stub = root / "bin"
    stub.mkdir()
    # the slurm executor plugin asks `scontrol` on import, ~8 s per snakemake call without a controller
    (stub / "scontrol").write_text("#!/bin/sh\nexit 1\n")
    (stub / "scontrol").chmod(0o755)
    results = root / "results"
    overrides = {
        "results_dir": str(results),
        "budget": {"hours": 0.05, "grace_seconds": 2},
        "agents": {
            name: {"scaffold": "scripted", "options": options}
            for name, options in {**AGENTS, "orphan": {"behavior": "orphan"}}.items()
        },
        "grid": {"agents": list(AGENTS), "models": ["tiny-qwen3"], "benchmarks": ["gsm8k"], "seeds": [1]},
        "benchmarks": {"gsm8k": {"limit": 3}},
        "calibration": None,
    }
    extra = root / "faults.yaml"
    extra.write_text(yaml.safe_dump(overrides))
    env = {
        **os.environ,
        "PATH": f"{stub}:{os.environ['PATH']}",
        "PYTHONPATH": str(REPO),
    }
    base_cmd = [SNAKEMAKE, "--profile", "profiles/demo", "--configfile", str(extra), "--cores", "2"]

    def snakemake(*args, extra_env=None, check=True, **popen):
        proc = subprocess.run(
            [*base_cmd, *args],
            cwd=workdir,
            env={**env, **(extra_env or {})},
            capture_output=True,
            text=True,
            timeout=600,
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"snakemake {args} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}")
        return proc

    seen: dict = {"results": results, "workdir": workdir, "root": root}
    leaderboard = Path(paths.fill(paths.LEADERBOARD_DIR, str(results))) / "leaderboard.csv"  # published
    board_target = Path(paths.fill(paths.LEADERBOARD_BUILD_DIR, str(results))) / "leaderboard.csv"

    # 1. the whole grid: every planted agent ends in a named outcome, the board is built
    # (the leaderboard as target: the audit pages are not what is tested here)
    start = time.monotonic()
    snakemake(str(board_target))
    seen["first_run_s"] = time.monotonic() - start
    seen["board_first"] = leaderboard.read_text()

    # 2. a full disk during one evaluation, and a corrupt result file of another cell
    run_file(results, paths.METRICS, "fine").unlink()
    # else the evaluation store hands a stored result back: the fine cell serves the base model's
    # weights, as other cells do, so every entry goes (the other cells keep their metrics.json)
    shutil.rmtree(paths.fill(paths.EVAL_STORE, str(results)))
    seen["empty_metrics"] = read(results, paths.METRICS, "empty")
    run_file(results, paths.METRICS, "empty").write_text('{"outcome": "eval_err')
    # the disk holding the cell's inspect logs is full (a mount over that folder only)
    full = Path(paths.fill(paths.EVAL_LOGS, str(results), agent="fine", **CELL))
    seen["disk_full_planted"] = full_filesystem(full)
    if seen["disk_full_planted"]:
        try:
            proc = snakemake(str(board_target), check=False)
        finally:
            subprocess.run(["umount", str(full)], check=False)
        seen["disk_full"] = proc
        seen["disk_full_metrics_exists"] = run_file(results, paths.METRICS, "fine").exists()
        seen["board_after_disk_full"] = leaderboard.read_text()
        # read now: snakemake deletes a job's log when it runs the job again
        seen["eval_log"] = (results / "logs" / "evaluate" / "fine/tiny-qwen3/gsm8k/seed1.log").read_text()

    # 3. recovery is the same command again
    snakemake(str(board_target))
    seen["board_recovered"] = leaderboard.read_text()
    seen["status_out"] = subprocess.run(
        [sys.executable, "-m", "ptb.tools.status", "--configfile", "config/demo.yaml", str(extra)],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
    )

    # 4. a second run of a live cell refuses; a killed snakemake takes its agent down with it
    orphan_json = run_file(results, paths.AGENT_JSON, "orphan")
    home = run_file(results, paths.AGENT_HOME, "orphan")
    live = subprocess.Popen(
        [*base_cmd, str(orphan_json)],
        cwd=workdir,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_for(lambda: (home / "child.pid").exists() and (home / "solve.pid").exists(), 120, "the agent")
        # the pids it wrote are its box's own (a PID namespace): find solve.sh and its child here
        seen["agent_pids"] = host_pids_with_home(home)
        assert len(seen["agent_pids"]) >= 2, seen["agent_pids"]
        prompt = run_file(results, paths.JOB_DIR, "orphan") / "prompt.md"
        seen["prompt_mtime"] = prompt.stat().st_mtime
        seen["second_run"] = snakemake("--nolock", str(orphan_json), check=False)
        seen["second_log"] = (results / "logs" / "agent" / "orphan/tiny-qwen3/gsm8k/seed1.log").read_text()
        seen["after_second"] = {
            "agents_alive": [alive(p) for p in seen["agent_pids"]],
            "prompt_mtime": prompt.stat().st_mtime,
        }
        seen["state_live"] = status.cell_state(str(results), Cell("orphan", **CELL))
        os.kill(live.pid, signal.SIGKILL)  # the snakemake process itself, as an OOM killer would
        live.wait()
        start = time.monotonic()
        wait_for(lambda: not any(alive(p) for p in seen["agent_pids"]), 30, "the agent to die")
        seen["agent_death_s"] = time.monotonic() - start
    finally:
        if live.poll() is None:
            os.killpg(live.pid, signal.SIGKILL)
    time.sleep(1)  # the runner's own exit
    seen["state_killed"] = status.cell_state(str(results), Cell("orphan", **CELL))
    seen["recovery"] = status.recovery(workdir)
    seen["blocked"] = snakemake(str(orphan_json), check=False)

    # 5. the commands ptb-status printed recover it
    snakemake("--unlock")
    snakemake(str(orphan_json))
    seen["orphan_after_recovery"] = json.loads(orphan_json.read_text())

    # 6. kill -INT and kill -TERM to snakemake (what a person and a scheduler send) cancel the agent
    # run: its processes die, nothing is recorded, and the next run plans the cell again
    seen["stops"] = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        # the orphan agent waits (a live run) only on the first run of its HOME
        (home / "ran_once").unlink(missing_ok=True)
        stopped = subprocess.Popen(
            [*base_cmd, str(orphan_json), "--forcerun", str(orphan_json)],
            cwd=workdir,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        try:
            wait_for(lambda: len(host_pids_with_home(home)) >= 2, 120, "the agent")
            pids = host_pids_with_home(home)
            start = time.monotonic()
            os.kill(stopped.pid, sig)
            _, stderr = stopped.communicate(timeout=120)  # the budget is 180 s: not waited for
            took = time.monotonic() - start
            wait_for(lambda: not any(alive(p) for p in pids), 15, "the agent to die")
        finally:
            if stopped.poll() is None:
                os.killpg(stopped.pid, signal.SIGKILL)
        plan = snakemake(str(orphan_json), "-n", "--quiet", "rules", check=False)
        seen["stops"][sig.name] = {
            "seconds": took,
            "returncode": stopped.returncode,
            "stderr": stderr,
            "agent_json": orphan_json.exists(),
            "locks": status.snakemake_locks(workdir),
            "plan": planned_jobs(plan),
            "plan_out": plan.stdout + plan.stderr,
        }
    return seen


def test_model_failures_are_outcomes_and_the_board_is_built(sweep):
    results = sweep["results"]
    assert read(results, paths.AGENT_JSON, "fine")["outcome"] == "ok"
    header, *rows = [line.split(",") for line in sweep["board_first"].splitlines()]
    empty = dict(zip(header, next(r for r in rows if r[header.index("agent_id")] == "empty")))
    # zero-byte config and weights: no loader reads them, so no canonical model is served
    # (rules/served.smk): no_model, scored as the base model; nothing to judge, no disqualification
    assert empty["no_model"] == "1", sweep["board_first"]
    served = read(results, paths.SERVED_JSON, "empty")
    assert served["model"] is None and "does not load" in served["reason"]
    assert read(results, paths.VERDICT, "empty")["outcome"] == "clean"


def test_a_final_model_linking_out_of_the_run_is_not_collected(sweep):
    results = sweep["results"]
    run = read(results, paths.AGENT_JSON, "linker")
    assert run["outcome"] == "no_model" and not run["has_model"] and run["final_model"] is None
    assert "links outside the run" in run["reason"]
    assert read(results, paths.MANIFEST, "linker")["final_model_files"] == {}
    assert read(results, paths.METRICS, "linker")["outcome"] == "no_model"
    identity = next(
        c for c in read(results, paths.VERDICT, "linker")["checks"] if c["name"] == "model_identity"
    )
    assert identity["summary"] == "no model to check", "the judge does not follow the link out"


def test_zero_byte_weights_are_no_model_to_serve(sweep):
    empty = sweep["empty_metrics"]
    assert empty["outcome"] == "no_model" and "final_model does not load" in empty["reason"]


def test_unreadable_files_and_many_files_do_not_stop_the_run(sweep):
    results = sweep["results"]
    for agent in ("locker",):
        assert read(results, paths.AGENT_JSON, agent)["outcome"] == "ok"
        assert read(results, paths.VERDICT, agent)["outcome"] == "clean", agent
        assert read(results, paths.METRICS, agent)["outcome"] == "ok"
    job = run_file(results, paths.JOB_DIR, "locker")
    assert (job / "vault" / "inner").stat().st_mode & 0o700 == 0o700, "the runner gave the folders back"
    assert read(results, paths.AGENT_JSON, "fine")["final_model"] == "job/final_model", (
        "relative to the run dir"
    )


def test_a_full_disk_fails_the_evaluation_and_keeps_the_board(sweep):
    if not sweep["disk_full_planted"]:
        pytest.skip("cannot mount a tmpfs here (needs root): the full disk is not planted")
    proc = sweep["disk_full"]
    assert proc.returncode != 0, ("a full disk must fail the job, not finish it", sweep["eval_log"][-3000:])
    assert not sweep["disk_full_metrics_exists"], "no metrics.json: nothing to score as the base model"
    log = sweep["eval_log"]
    assert "InfraFailure" in log and ("disk is full" in log or "no space left" in log.lower())
    assert log.count("InfraFailure") >= 2, "evaluate is retried (resources.evaluate.retries)"
    assert sweep["board_after_disk_full"] == sweep["board_first"], "the previous board stays"


def test_a_corrupt_result_file_is_a_counted_outcome_named_by_ptb_status(sweep):
    board = sweep["board_recovered"]
    header, *rows = [line.split(",") for line in board.splitlines()]
    empty = dict(zip(header, next(r for r in rows if r[header.index("agent_id")] == "empty")))
    assert empty["corrupt"] == "1" and empty["eval_error"] == "0"
    fine = dict(zip(header, next(r for r in rows if r[header.index("agent_id")] == "fine")))
    assert fine["ok"] == "1", "the disk-full cell recovered with a plain re-run"
    out = sweep["status_out"]
    assert out.returncode == 0, out.stderr
    assert "corrupt (1)" in out.stdout
    assert "empty/tiny-qwen3/gsm8k/seed1: " in out.stdout
    assert "eval/empty/tiny-qwen3/gsm8k/seed1/metrics.json: not valid JSON" in out.stdout


def test_a_second_run_of_a_live_cell_refuses_without_touching_it(sweep):
    assert sweep["second_run"].returncode != 0
    assert all(sweep["after_second"]["agents_alive"]), "the live run (its box, solve.sh, its child) untouched"
    assert sweep["after_second"]["prompt_mtime"] == sweep["prompt_mtime"], "the live job dir is untouched"
    assert "is being run by another process" in sweep["second_log"]
    assert sweep["state_live"] == "running"


def test_a_killed_snakemake_takes_its_agent_down_and_recovery_is_printed(sweep):
    assert sweep["agent_death_s"] < 10, "solve.sh and its background child die with the job"
    assert sweep["state_killed"] == "interrupted"
    recovery = "\n".join(sweep["recovery"])
    assert "snakemake --unlock" in recovery and "stale snakemake lock" in recovery
    # (no incomplete marker is left here: the refused second run cleared the cell's markers when
    # it failed; test_incomplete_outputs_are_read_as_snakemake_writes_them covers them)
    blocked = sweep["blocked"]
    assert blocked.returncode != 0 and "lock" in (blocked.stdout + blocked.stderr).lower()
    assert sweep["orphan_after_recovery"]["outcome"] == "ok"


@pytest.mark.parametrize("name", ["SIGINT", "SIGTERM"])
def test_a_stop_signal_to_snakemake_cancels_the_agent_and_records_nothing(sweep, name):
    stop = sweep["stops"][name]
    assert stop["seconds"] < 60, f"snakemake waited for the agent's budget after {name}"
    assert stop["returncode"] != 0 and "cancelling the running jobs" in stop["stderr"], stop["stderr"][-3000:]
    assert not stop["agent_json"], "a cancelled run records no outcome"
    assert stop["locks"] == [], "a stopped snakemake releases its lock: no --unlock needed"
    assert stop["plan"].get("agent_run") == 1, ("the next run runs the cell again", stop["plan_out"][-3000:])


def test_incomplete_outputs_are_read_as_snakemake_writes_them(tmp_path):
    """Markers named by snakemake's own FilePersistence._record_path (long paths split in folders)."""
    outputs = [
        "results/runs/sft/tiny-qwen3/gsm8k/seed1/agent.json",
        str(tmp_path / ("deep/" * 40) / "metrics.json"),  # base64 longer than a file name
    ]
    persistence = SimpleNamespace(_fetch_max_len=lambda subject: 255)
    for output in outputs:
        marker = Path(
            FilePersistence._record_path(persistence, str(tmp_path / ".snakemake/incomplete"), output)
        )
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text("{}")
    assert status.incomplete_outputs(tmp_path) == sorted(outputs)
    (tmp_path / ".snakemake/locks").mkdir()
    (tmp_path / ".snakemake/locks/0.output.lock").write_text(outputs[0])
    advice = "\n".join(status.recovery(tmp_path))
    assert "snakemake --unlock" in advice and outputs[0] in advice and "--rerun-incomplete" in advice
