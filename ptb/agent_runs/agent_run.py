"""Run one agent on one cell under a hard time budget and classify the outcome.

Outcome classes: ptb.core.outcomes.AGENT. The run never raises for an agent's failure: its
cell still reaches the leaderboard as a count. It raises for the infrastructure's
(ptb.core.faults.InfraFailure: the agent could not start, the GPU is gone, the job was killed),
after writing its logs and before agent.json, so the job fails and a plain re-run of the
workflow runs the cell again. `run_cell` is the whole agent_run stage (job dir, environment
contract, budget, trace, manifest); rules/agent.smk passes it every value it needs.

Lifetime: the agent dies with its job. A cell holds a lock for the life of its run, taken
before the job dir is touched, so a second run of the same cell (another snakemake after
`--unlock`, a second node) refuses instead of deleting the live run's files.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from ptb.agent_runs import box, canonical, jobdir, proxy, traces
from ptb.agent_runs import monitor as system_monitor
from ptb.core import faults, io, outcomes, provenance
from ptb.core.grid import Cell
from ptb.core.redaction import known_secrets, redact_tree, redact_value
from ptb.inputs import cache

PASSTHROUGH = ("PATH", "LANG", "LC_ALL", "TZ", "OMP_NUM_THREADS", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")


def agent_environment(agent: dict, fields: dict, home: Path, library: Path, environ=os.environ) -> dict:
    """A clean environment: pass-through basics, the entry's non-secret `environment:`, only
    this agent's own keys (`env:`), and the PTB_* contract (agents/README.md). The handed-out
    evaluate.py imports the ptb library from `library` (ptb.agent_runs.box.handout_library)."""
    env = {name: environ[name] for name in PASSTHROUGH if name in environ}
    env.update({name: str(value) for name, value in agent["environment"].items()})
    env.update({name: environ[name] for name in agent["env"] if name in environ})
    env["HOME"] = str(Path(home).absolute())  # the agent runs in its job dir: a relative HOME is not there
    env["PYTHONPATH"] = str(library)
    env.update({key: str(value) for key, value in fields.items()})
    return env


def _kill_group(proc: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass


# --- lifetime: the agent dies with its job -----------------------------------------------

PR_SET_PDEATHSIG = 1  # linux/prctl.h
_LIBC = ctypes.CDLL(None, use_errno=True)


def die_with_parent(sig: int = signal.SIGTERM) -> None:
    """Have the kernel send `sig` to this process when its parent dies (Linux prctl).

    The job's script process is a child of the snakemake process (its `bash -c` execs python),
    so a killed snakemake takes its agent runs down with it."""
    if _LIBC.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) != 0:  # pragma: no cover - Linux takes any signal
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")


# A second process, outside the agent's group, that kills the group when the runner dies by a
# signal it cannot catch (SIGKILL: the OOM killer, `kill -9`, a cancelled SLURM step):
# solve.sh's own children (the training process) would otherwise live on as orphans.
WATCHDOG = """
import os, signal, sys
group, runner = int(sys.argv[1]), int(sys.argv[2])
def reap(*_):
    try:
        os.killpg(group, signal.SIGKILL)
    except ProcessLookupError:
        pass
    os._exit(0)
signal.signal(signal.SIGTERM, reap)
if os.getppid() != runner:  # the runner died before the death signal was armed
    reap()
while True:
    signal.pause()
"""


def _preexec_die_with_parent(sig: int):
    def arm() -> None:  # pragma: no cover - runs in the child between fork and exec: no data saved
        _LIBC.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)

    return arm


class Interrupted(BaseException):
    """The runner got SIGTERM, SIGINT or SIGHUP (snakemake cancelled the job, Ctrl-C, a closed
    terminal): the agent's group is killed and the job fails, leaving no agent.json."""


@contextlib.contextmanager
def _interruptible():
    """Turn SIGTERM/SIGINT/SIGHUP into Interrupted while the agent runs (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, _frame):
        raise Interrupted(f"the agent run got {signal.Signals(signum).name}")

    caught = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
    before = {sig: signal.signal(sig, interrupt) for sig in caught}
    try:
        yield
    finally:
        for sig, handler in before.items():
            signal.signal(sig, handler)


def run_with_budget(
    command: list[str],
    *,
    cwd: Path,
    env: dict,
    log_path: Path,
    budget_s: float,
    grace_s: float,
    terminate=None,
    should_stop=None,
    heartbeat=None,
    heartbeat_s: float = 300,
) -> dict:
    """Run command in its own process group; SIGTERM at the budget, SIGKILL after the grace.

    The group is killed whenever this returns or raises, and by a watchdog if this process is
    killed outright; the group's leader also gets SIGKILL from the kernel if this process dies.
    terminate(pid, signal): how the budget's SIGTERM reaches the agent (default: its group; a
    bwrap box: every process in the box, ptb.agent_runs.box.terminate). should_stop(): polled
    each second, (kind, reason) to stop the run early as at the budget (the credential proxy's
    dollar cap or provider failure), recorded as `stopped`. heartbeat(elapsed_s): called every
    heartbeat_s while the agent runs, so that a 10-hour job's log says it is alive."""
    start = time.monotonic()
    with open(log_path, "wb") as log, _interruptible():
        proc = subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=_preexec_die_with_parent(signal.SIGKILL),
        )
        watchdog = subprocess.Popen(
            [sys.executable, "-c", WATCHDOG, str(proc.pid), str(os.getpid())],
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=_preexec_die_with_parent(signal.SIGTERM),
        )
        timed_out, stopped = False, None
        try:
            if _wait_or_stop(proc, budget_s, should_stop, heartbeat, heartbeat_s) == "running":
                stopped = should_stop() if should_stop else None
                timed_out = stopped is None
                if terminate is None:
                    _kill_group(proc, signal.SIGTERM)
                else:
                    terminate(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=grace_s)
                except subprocess.TimeoutExpired:
                    _kill_group(proc, signal.SIGKILL)
                    proc.wait()
        finally:
            _kill_group(proc, signal.SIGKILL)  # no background process outlives the run
            proc.wait()
            watchdog.kill()
            watchdog.wait()
    return {
        "exit_code": proc.returncode,
        "timed_out": timed_out,
        "stopped": list(stopped) if stopped else None,
        "wall_seconds": round(time.monotonic() - start, 2),
    }


def _wait_or_stop(
    proc: subprocess.Popen, budget_s: float, should_stop, heartbeat=None, heartbeat_s: float = 300
) -> str:
    """Wait for proc until the budget ends or should_stop() answers: "exited" or "running"."""
    start = time.monotonic()
    deadline, beat = start + budget_s, start + heartbeat_s
    while (left := deadline - time.monotonic()) > 0:
        try:
            proc.wait(timeout=min(left, 1.0))
            return "exited"
        except subprocess.TimeoutExpired:
            if should_stop is not None and should_stop():
                return "running"
            if heartbeat is not None and time.monotonic() >= beat:
                beat += heartbeat_s
                heartbeat(time.monotonic() - start)
    return "exited" if proc.poll() is not None else "running"


# --- one run per cell --------------------------------------------------------------------


class CellBusy(RuntimeError):
    """Another live process is running this cell's agent."""


@contextlib.contextmanager
def cell_lock(lock_path: str | Path, cell_key: str):
    """Hold the cell's lock (an flock on a file beside its run dir) for the life of the block.

    The kernel drops the lock when the holder dies, however it dies: no stale lock to clean up.
    The file keeps the last holder's host and pid, for the refusal message."""
    lock_path = Path(lock_path)
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            raise CellBusy(
                f"cell {cell_key} is being run by another process ({holder}; lock {lock_path}): "
                "not touching its job dir. Wait for it, or stop it, then run the workflow again."
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"host {socket.gethostname()} pid {os.getpid()} since {time.strftime('%FT%T%z')}\n")
        handle.flush()
        yield


def check_gpus(gpus: int) -> None:
    """A job given GPUs must see them (`nvidia-smi -L`) before an agent spends its budget."""
    if not gpus or shutil.which("nvidia-smi") is None:
        return
    try:
        probe = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise faults.InfraFailure(f"GPU check failed: nvidia-smi -L: {error}") from error
    if probe.returncode != 0 or "GPU" not in probe.stdout:
        said = (probe.stderr or probe.stdout).strip()[:300]
        raise faults.InfraFailure(f"GPU check failed: nvidia-smi -L exited {probe.returncode}: {said}")


# solve.sh's exit status when its CLI is not on PATH (bash's own for a command not found):
# the setup's failure, so the job fails and is retried instead of booking `agent_error`
CLI_MISSING = 127


def missing_keys(agent: dict, environ=os.environ) -> list[str]:
    """The key variables (`env:`) of an API agent that are unset or empty here: its provider
    would refuse every request, so the run does not start (an infrastructure failure)."""
    if proxy.upstream_for(agent["scaffold"], agent["llm"], agent["base_url"]) is None:
        return []  # an offline scaffold with a key (the judge's leak cheats) talks to no provider
    return [name for name in agent["env"] if not environ.get(name)]


def classify(
    result: dict,
    has_model: bool,
    last_error: str | None = None,
    *,
    ended_in_error: str | None = None,
    exit_meaning: str | None = None,
) -> tuple[str, str]:
    """The outcome and its reason; the CLI's last error message (from its trace) ends the reason.
    ended_in_error: the error the CLI's session ended in (a CLI that exits 0 after a stream
    error has not succeeded); exit_meaning: what its exit code means (traces.exit_meaning)."""
    said = f"; last error: {last_error}" if last_error else ""
    stopped = (result.get("stopped") or [None])[0]
    if stopped == "cost_limit":
        return outcomes.COST_LIMIT, f"{result['stopped'][1]}: stopped after {result['wall_seconds']} s{said}"
    if stopped == "provider_error":  # the proxy stopped a loop on one client error (a 400)
        return outcomes.AGENT_ERROR, f"{result['stopped'][1]}: stopped after {result['wall_seconds']} s{said}"
    if result["timed_out"]:
        return outcomes.TIMEOUT, f"killed at the budget after {result['wall_seconds']} s{said}"
    if result["exit_code"] != 0:
        meaning = f" ({exit_meaning})" if exit_meaning else ""
        return outcomes.AGENT_ERROR, f"solve.sh exited with code {result['exit_code']}{meaning}{said}"
    if ended_in_error:
        return outcomes.AGENT_ERROR, f"solve.sh exited 0 but the CLI's session ended in: {ended_in_error}"
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
    library: Path,
    container: list[str] | None = None,
    isolation: str = "none",
    api: proxy.CredentialProxy | None = None,
    log=None,
) -> dict:
    """Run the library's agents/<scaffold>/solve.sh in job_dir (in its box: `container`, the
    prefix ptb.agent_runs.box.agent_command gives); write the trace; return agent.json's content."""
    solve = Path(library) / "agents" / scaffold / "solve.sh"
    if not solve.is_file():  # the setup's fault (the config loader checks the checkout's copy)
        raise faults.InfraFailure(f"no solve.sh for scaffold {scaffold!r} in the handout library {library}")
    raw_log = run_dir / "agent.log"
    home = Path(env["HOME"])
    home.mkdir(parents=True, exist_ok=True)
    # the machine's use (monitor.jsonl) and each log line's time (agent.log.times), from outside the box
    watch = system_monitor.Monitor(run_dir, raw_log, interval_s=max(1.0, min(60.0, budget_s / 30)))
    try:
        with watch:
            result = run_with_budget(
                (container or []) + ["bash", str(solve)],
                cwd=job_dir,
                env=env,
                log_path=raw_log,
                budget_s=budget_s,
                grace_s=grace_s,
                terminate=box.terminate if isolation == "bwrap" else None,
                should_stop=api.stop_reason if api else None,
                heartbeat=_heartbeat(log, raw_log, budget_s, api) if log else None,
                heartbeat_s=max(30.0, min(300.0, budget_s / 10)),  # the demo's 6 minutes: every 36 s
            )
    except OSError as error:  # not the agent's doing: fail the job (no agent.json), to be re-run
        raise faults.InfraFailure(f"could not start the agent: {error}") from error
    if api is not None and not result["stopped"] and api.stop_reason():
        result["stopped"] = list(api.stop_reason())  # the CLI quit on the proxy's refusal before its poll
    jobdir.reclaim(run_dir)  # what the agent made unreadable must not stop the judge or the hashes
    escaped = jobdir.links_outside(job_dir / "final_model", run_dir)
    has_model = not escaped and canonical.has_model(job_dir / "final_model")
    jobdir.freeze(job_dir / "final_model")  # read-only from here: what is judged is what was left
    last_error = ended = None
    if traces.has_parser(scaffold):
        raw = raw_log.read_text(errors="replace")
        times = traces.read_times(watch.clock)
        trace = traces.render(scaffold, raw, api=api.summary() if api else None, times=times)
        io.write_text_atomic(run_dir / "trace.md", trace)
        # the reasons land in agent.json, which is written after redaction
        last_error, ended = (
            redact_value(text, secrets) if text else None
            for text in (traces.last_error(scaffold, raw), traces.ended_in_error(scaffold, raw))
        )
    outcome, reason = classify(
        result,
        has_model,
        last_error,
        ended_in_error=ended,
        exit_meaning=traces.exit_meaning(scaffold, result["exit_code"]),
    )
    if escaped:
        reason += f"; final_model links outside the run (not collected): {', '.join(escaped[:5])}"
    # the record (file, offset, variable, encoding; never a value) lets the judge report the leak
    redactions = redact_tree(run_dir, secrets)
    stopped = result.get("stopped") or [None, None]
    if stopped[0] == "infra":  # the provider's failure, not the agent's: the job fails, to be retried
        raise faults.InfraFailure(f"{stopped[1]} (the record: {run_dir / 'api.jsonl'})")
    if result["exit_code"] == CLI_MISSING and not result["timed_out"] and not has_model:
        raise faults.InfraFailure(
            f"solve.sh exited {CLI_MISSING}: its CLI (or solve.sh itself) was not found, a setup "
            f"failure, not the agent's (agents/README.md); see {raw_log}"
        )
    return {
        "outcome": outcome,
        "reason": reason,
        "has_model": has_model,
        **result,
        "redactions": redactions,
        "redacted_files": sorted({r["file"] for r in redactions}),
        "budget_seconds": budget_s,
        "grace_seconds": grace_s,
        **({"api": api.summary()} if api else {}),
        "monitor": watch.summary(),
    }


def _heartbeat(log, raw_log: Path, budget_s: float, api):
    """The job log's line every few minutes: time used, the agent's output so far (its size
    and age, never its text: it may hold what the redaction has not yet removed), its tokens."""

    def beat(elapsed: float) -> None:
        try:
            stat = raw_log.stat()
            output = f"agent.log {stat.st_size:,} bytes, last written {time.time() - stat.st_mtime:.0f} s ago"
        except OSError:
            output = "no agent.log yet"
        tokens = ""
        if api is not None:
            summary = api.summary()
            tokens = f"; {sum(summary['tokens'].values()):,} tokens in {summary['requests']} requests"
        log.info("agent running: %.0f of %.0f s; %s%s", elapsed, budget_s, output, tokens)

    return beat


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

    settings (from rules/agent.smk): `cell_config` (ptb.core.config.cell_config: the agent entry,
    the model, the budget, ...), `secret_names` (every agent's key variables, redacted from
    every output), `image` (the agent image or None) and `view` (the agent's HF_HOME view).
    """
    die_with_parent()
    # absolute: the agent runs in its job dir, where the run's relative paths (HOME, the prompt) are not
    run_dir = Path(agent_json).parent.absolute()
    # the lock sits beside the run dir (ptb.core.paths.RUN_LOCK): taken before anything in it is touched
    with cell_lock(run_dir.with_name(run_dir.name + ".lock"), cell.key):
        return _run_locked_cell(
            cell,
            settings=settings,
            base_manifest=base_manifest,
            view=view,
            image_digest=image_digest,
            gpus=gpus,
            run_dir=run_dir,
            agent_json=agent_json,
            manifest_json=manifest_json,
            handout_json=handout_json,
            log=log,
        )


def _run_locked_cell(
    cell: Cell,
    *,
    settings,
    base_manifest,
    view,
    image_digest,
    gpus,
    run_dir: Path,
    agent_json,
    manifest_json,
    handout_json,
    log,
) -> dict:
    resolved = settings["cell_config"]
    agent, model, budget = resolved["agent"], resolved["model"], resolved["budget"]
    job_dir = run_dir / "job"
    base = {**io.read_json(base_manifest), "path": cache.model_path(base_manifest)}  # absolute
    # before anything is touched: a host without bubblewrap refuses (or runs unboxed if told so)
    isolation = box.isolation_for(resolved["container"], resolved["isolation"])
    check_gpus(gpus)
    unset = missing_keys(agent)
    if unset:
        raise faults.InfraFailure(
            f"agent {cell.agent}: key variable(s) {', '.join(unset)} unset (agents.{cell.agent}.env)"
        )
    budget_s = budget["hours"] * 3600
    deadline = int(time.time() + budget_s)
    jobdir.reclaim(job_dir)  # a previous run's agent may have left it undeletable
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
    library = box.handout_library(run_dir / "library", agent["scaffold"], tuple(agent["box_read_only"]))
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
        library=library,
    )
    # an API agent's CLI talks to the run's credential proxy, with a token in place of each key;
    # an offline scaffold with a key (the judge's leak cheats, tests) talks to no provider and
    # gets the key itself, so the secret check stays calibrated on real leaks
    upstream = proxy.upstream_for(agent["scaffold"], agent["llm"], agent["base_url"])
    api = None
    if agent["env"] and upstream is not None:
        api = proxy.CredentialProxy(
            upstream=upstream,
            keys={name: os.environ.get(name, "") for name in agent["env"]},
            record=run_dir / "api.jsonl",
            prices=resolved["prices"],
            expected_model=agent["llm"],
            max_cost_usd=budget["max_cost_usd"],
            failures=resolved["provider_failures"],
        )
    with api or contextlib.nullcontext():  # the proxy serves for the run's life only
        if api is not None:
            env.update(api.agent_env)  # tokens in place of the keys, the proxy as the base URL
        # the agent's HF_HOME (its base model only), its GPUs, and the box's wrapper
        container, env = box.agent_command(
            env,
            isolation=isolation,
            image=settings["image"],
            view=Path(settings["view"]).absolute(),  # the rule's param is relative to the workdir
            job_dir=job_dir,
            run_dir=run_dir,
            library=library,
            read_only=[base["path"], env["PTB_AGENT_CACHE"]],
        )
        log.info("running agent %s on %s (budget %.0f s, box: %s)", cell.agent, cell.key, budget_s, isolation)
        result = run_agent(
            scaffold=agent["scaffold"],
            job_dir=job_dir,
            run_dir=run_dir,
            env=env,
            budget_s=budget_s,
            grace_s=budget["grace_seconds"],
            secrets=known_secrets(settings["secret_names"]),
            library=library,
            container=container,
            isolation=isolation,
            api=api,
            log=log,
        )
        result["isolation"] = isolation
        # relative to the run dir (the folder of agent.json): a results tree read from elsewhere, or
        # moved, still names its own model (ptb.evaluation.evaluation.evaluate_job resolves it there)
        result["final_model"] = (
            str((job_dir / "final_model").relative_to(run_dir)) if result["has_model"] else None
        )
        log.info("outcome: %s", describe(result))
        manifest = {
            "cell": cell.as_dict(),
            "config": resolved,
            "software": provenance.software(),
            "images": {"agent": io.read_json(image_digest)} if image_digest else {},  # what solve.sh ran in
            "base_model": {k: base.get(k) for k in ("source", "hf_id", "revision", "files")},
            "prompt_sha256": handout["prompt.md"],
            "handout": handout,
            "isolation": isolation,
            "box_read_only": agent["box_read_only"],
            "handout_library": io.hash_tree(library),
            "final_model_files": io.hash_tree(job_dir / "final_model"),
            "outcome": result["outcome"],
            "started_deadline": deadline,
        }
        # all three outputs at the end: a run that dies early leaves none behind for the next one
        io.write_json(handout_json, handout)
        io.write_json(manifest_json, manifest)
        io.write_json(agent_json, result)
        return result
