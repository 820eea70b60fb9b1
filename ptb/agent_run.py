"""Run one agent on one cell under a hard time budget and classify the outcome.

Outcome classes: ptb.outcomes.AGENT. The run never raises for an agent's failure: its
cell still reaches the leaderboard as a count. `run_cell` is the whole agent_run stage
(job dir, environment contract, budget, trace, manifest); rules/agent.smk passes it
every value it needs.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

from ptb import containers, io, jobdir, outcomes, provenance, traces
from ptb.grid import Cell
from ptb.paths import REPO_ROOT
from ptb.redaction import known_secrets, redact_tree, redact_value

PASSTHROUGH = ("PATH", "LANG", "LC_ALL", "TZ", "OMP_NUM_THREADS", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")


def agent_environment(agent: dict, fields: dict, home: Path, environ=os.environ) -> dict:
    """A clean environment: pass-through basics, the entry's non-secret `environment:`, only
    this agent's own keys (`env:`), and the PTB_* contract (agents/README.md)."""
    env = {name: environ[name] for name in PASSTHROUGH if name in environ}
    env.update({name: str(value) for name, value in agent["environment"].items()})
    env.update({name: environ[name] for name in agent["env"] if name in environ})
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


def classify(result: dict, has_model: bool, last_error: str | None = None) -> tuple[str, str]:
    """The outcome and its reason; the CLI's last error message (from its trace) ends the reason."""
    said = f"; last error: {last_error}" if last_error else ""
    if result["timed_out"]:
        return outcomes.TIMEOUT, f"killed at the budget after {result['wall_seconds']} s{said}"
    if result["exit_code"] != 0:
        return outcomes.AGENT_ERROR, f"solve.sh exited with code {result['exit_code']}{said}"
    if not has_model:
        return outcomes.NO_MODEL, f"solve.sh finished but left no final_model/config.json{said}"
    return outcomes.OK, "final_model collected"


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
            "outcome": outcomes.INFRA_ERROR,
            "reason": f"could not start the agent: {error}",
            "exit_code": None,
            "wall_seconds": 0.0,
            "has_model": False,
        }
    has_model = (job_dir / "final_model" / "config.json").exists()
    last_error = None
    if traces.has_parser(scaffold):
        raw = raw_log.read_text(errors="replace")
        io.write_text_atomic(run_dir / "trace.md", traces.render(scaffold, raw))
        last_error = traces.last_error(scaffold, raw)
        # the reason lands in agent.json, which is written after redaction
        last_error = redact_value(last_error, secrets) if last_error else None
    outcome, reason = classify(result, has_model, last_error)
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


def run_cell(
    cell: Cell,
    *,
    settings: dict,
    base_manifest: str | Path,
    view: str | Path,
    image_digest: str | Path | None,
    gpus: int,
    agent_json: str | Path,
    manifest_json: str | Path,
    handout_json: str | Path,
    log,
) -> dict:
    """The agent_run stage for one cell: hand out the job dir, run the agent, write the results.

    settings (from rules/agent.smk): `cell_config` (ptb.config.cell_config: the agent entry,
    the model, the budget, ...), `secret_names` (every agent's key variables, redacted from
    every output), `image` (the agent image or None) and `view` (the agent's HF_HOME view).
    """
    resolved = settings["cell_config"]
    agent, model, budget = resolved["agent"], resolved["model"], resolved["budget"]
    run_dir = Path(agent_json).parent
    job_dir = run_dir / "job"
    base = io.read_json(base_manifest)
    budget_s = budget["hours"] * 3600
    deadline = int(time.time() + budget_s)
    if job_dir.exists():
        jobdir.allow_cleanup(job_dir)
    prompt = jobdir.render_prompt(
        model_id=model["base"].get("hf_id", cell.model),
        family=model["family"],
        benchmark=cell.benchmark,
        hours=budget["hours"],
        base_model_path=base["path"],
        gpu_info=f"{gpus} GPU(s)" if gpus else "CPU only (no GPU)",
    )
    handout = jobdir.prepare(
        job_dir, benchmark=cell.benchmark, family=model["family"], prompt=prompt, deadline=deadline
    )
    io.write_json(handout_json, handout)
    env = agent_environment(
        agent,
        {
            "PTB_PROMPT_FILE": job_dir / "prompt.md",
            "PTB_BASE_MODEL": base["path"],
            "PTB_MODEL": cell.model,
            "PTB_BENCHMARK": cell.benchmark,
            "PTB_AGENT_LLM": agent["llm"] or "",
            "PTB_AGENT_EFFORT": agent["effort"] or "",
            "PTB_AGENT_BASE_URL": agent["base_url"] or "",
            "PTB_AGENT_OPTIONS": json.dumps(agent["options"]),
            "PTB_AGENT_CACHE": Path(view).resolve().parent,
            "PTB_DEADLINE": deadline,
            "PTB_SEED": cell.seed,
        },
        home=run_dir / "home",
    )
    # the agent's HF_HOME (its base model only), its GPUs, and with containers the apptainer wrapper
    container, env = containers.agent_command(
        env,
        image=settings["image"],
        view=Path(settings["view"]),
        job_dir=job_dir,
        run_dir=run_dir,
        read_only=[base["path"], env["PTB_AGENT_CACHE"]],
    )
    log.info("running agent %s on %s (budget %.0f s)", cell.agent, cell.key, budget_s)
    result = run_agent(
        scaffold=agent["scaffold"],
        job_dir=job_dir,
        run_dir=run_dir,
        env=env,
        budget_s=budget_s,
        grace_s=budget["grace_seconds"],
        secrets=known_secrets(settings["secret_names"]),
        container=container,
    )
    result["final_model"] = str(job_dir / "final_model") if result["has_model"] else None
    log.info("outcome: %s", describe(result))
    manifest = {
        "cell": cell.as_dict(),
        "config": resolved,
        "software": provenance.software(),
        "images": {"agent": io.read_json(image_digest)} if image_digest else {},  # what solve.sh ran in
        "base_model": {k: base.get(k) for k in ("source", "hf_id", "revision", "files")},
        "prompt_sha256": handout["prompt.md"],
        "handout": handout,
        "final_model_files": io.hash_tree(job_dir / "final_model"),
        "outcome": result["outcome"],
        "started_deadline": deadline,
    }
    io.write_json(manifest_json, manifest)
    io.write_json(agent_json, result)
    return result
