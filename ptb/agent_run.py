"""Run one agent on one cell under a hard time budget and classify the outcome.

Outcome classes: ok, timeout, no_model, agent_error, infra_error. The run never
raises for an agent's failure: its cell still reaches the leaderboard as a count.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

from ptb import io, traces
from ptb.paths import REPO_ROOT
from ptb.redaction import redact_tree

PASSTHROUGH = ("PATH", "LANG", "LC_ALL", "TZ", "OMP_NUM_THREADS", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")


def agent_environment(agent: dict, fields: dict, home: Path, environ=os.environ) -> dict:
    """A clean environment: pass-through basics, the PTB_* contract, and only this agent's own keys."""
    env = {name: environ[name] for name in PASSTHROUGH if name in environ}
    env.update({name: environ[name] for name in agent.get("env", []) if name in environ})
    env["HOME"] = str(home)
    # the handed-out evaluate.py imports the ptb library (installed in the agent image in production)
    env["PYTHONPATH"] = str(REPO_ROOT)
    env.update({key: str(value) for key, value in fields.items()})
    return env


def _kill_group(proc: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass


def run_with_budget(
    command: list[str], *, cwd: Path, env: dict, log_path: Path, budget_s: float, grace_s: float
) -> dict:
    """Run command in its own process group; SIGTERM at the budget, SIGKILL after the grace."""
    start = time.monotonic()
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        timed_out = False
        try:
            proc.wait(timeout=budget_s)
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill_group(proc, signal.SIGTERM)
            try:
                proc.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                _kill_group(proc, signal.SIGKILL)
                proc.wait()
        _kill_group(proc, signal.SIGKILL)  # no background process outlives the run
    return {
        "exit_code": proc.returncode,
        "timed_out": timed_out,
        "wall_seconds": round(time.monotonic() - start, 2),
    }


def classify(result: dict, has_model: bool) -> tuple[str, str]:
    if result["timed_out"]:
        return "timeout", f"killed at the budget after {result['wall_seconds']} s"
    if result["exit_code"] != 0:
        return "agent_error", f"solve.sh exited with code {result['exit_code']}"
    if not has_model:
        return "no_model", "solve.sh finished but left no final_model/config.json"
    return "ok", "final_model collected"


def run_agent(
    *,
    scaffold: str,
    job_dir: Path,
    run_dir: Path,
    env: dict,
    budget_s: float,
    grace_s: float,
    secrets: dict[str, str],
    container: list[str] | None = None,
) -> dict:
    """Run agents/<scaffold>/solve.sh in job_dir; write the trace; return agent.json's content."""
    solve = REPO_ROOT / "agents" / scaffold / "solve.sh"
    raw_log = run_dir / "agent.log"
    home = Path(env["HOME"])
    home.mkdir(parents=True, exist_ok=True)
    try:
        result = run_with_budget(
            (container or []) + ["bash", str(solve)],
            cwd=job_dir,
            env=env,
            log_path=raw_log,
            budget_s=budget_s,
            grace_s=grace_s,
        )
    except OSError as error:
        return {
            "outcome": "infra_error",
            "reason": f"could not start the agent: {error}",
            "exit_code": None,
            "wall_seconds": 0.0,
            "has_model": False,
        }
    has_model = (job_dir / "final_model" / "config.json").exists()
    outcome, reason = classify(result, has_model)
    if traces.has_parser(scaffold):
        io.write_text_atomic(
            run_dir / "trace.md", traces.render(scaffold, raw_log.read_text(errors="replace"))
        )
    # the record (file, offset, variable, encoding; never a value) lets the judge report the leak
    redactions = redact_tree(run_dir, secrets)
    return {
        "outcome": outcome,
        "reason": reason,
        "has_model": has_model,
        **result,
        "redactions": redactions,
        "redacted_files": sorted({r["file"] for r in redactions}),
        "budget_seconds": budget_s,
        "grace_seconds": grace_s,
    }


def describe(agent_json: dict) -> str:
    return json.dumps({k: agent_json[k] for k in ("outcome", "reason", "exit_code", "wall_seconds")})
