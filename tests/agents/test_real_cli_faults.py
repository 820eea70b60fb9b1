"""The real CLIs through the faults they meet in the wild, each in its box behind the run's
credential proxy (ptb.agent_runs.agent_run.run_cell, as rules/agent.smk calls it), against the
scripted server's fault modes (tests/scripted_llm.py). Each run has a short budget and small
failure thresholds (provider_failures, per run): a run that loops on provider errors must be
stopped by the proxy long before its budget, naming the provider's status; all runs go side by
side, so the module costs about one budget. Skipped without the CLIs (test_real_clis.py).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from scripted_llm import ScriptedLLM
from test_real_clis import CLI_BIN, ENTRY, KEYS, _missing, entry

from ptb.agent_runs import agent_run, box
from ptb.core import faults, outcomes
from ptb.core.grid import Cell

if _missing():  # the same rule as test_real_clis: CI (PTB_REQUIRE_AGENT_CLIS=1) fails there instead
    pytest.skip(_missing(), allow_module_level=True)
if not box.bwrap_available():
    pytest.skip("bubblewrap is not installed", allow_module_level=True)

BUDGET_S = 120  # an upper bound only: every fault here must end its run well before it
# small thresholds: three identical errors stop a run, the backoff doubles from 0.5 s to 2 s
FAILURES = {
    "auth": 1,
    "outage_seconds": 20,
    "rate_limit_seconds": 8,
    "identical_errors": 3,
    "backoff_seconds": 0.5,
    "backoff_max_seconds": 2,
}
LONG_COMMAND = "sleep 35; echo step 1 loss 0.25"
# name: (cli, ScriptedLLM arguments, entry extras)
CASES = {
    "opencode-disconnect": ("opencode", {"fault": "disconnect"}, {}),
    "opencode-context": ("opencode", {"fault": "context_length"}, {}),
    "claude-401": ("claude", {"fail_status": 401}, {}),
    "claude-429": ("claude", {"fail_status": 429}, {}),
    "codex-context": ("codex", {"fault": "context_length"}, {}),
    "gemini-malformed": ("gemini", {"fault": "malformed"}, {}),
    "gemini-slow": ("gemini", {"fault": "slow", "slow_seconds": 0.5}, {}),
    # not a provider fault: a command that outlasts Codex's 30 s return (a training on a busy node)
    "codex-long-command": ("codex", {"commands": [LONG_COMMAND]}, {}),
    # the CLI itself sends another model than configured (it aliases gemini-3-pro-preview)
    "gemini-aliased": ("gemini", {}, {"llm": "gemini-3-pro-preview"}),
    # PostTrainBench's re-prompt loop: resume while a minute or more of the budget is left
    "codex-reprompt": ("codex", {}, {"options": {"reprompt": True, "reprompt_min_minutes": 1}}),
}


def run_one(root: Path, name: str, agent: dict) -> dict:
    """run_cell for one cell; returns agent.json, or {"infra": message} when the job fails as
    infrastructure (no agent.json: snakemake would retry it)."""

    run = root / "runs" / name
    settings = {
        "cell_config": {
            "agent": {
                "llm": None,
                "effort": None,
                "base_url": None,
                "env": [],
                "options": {},
                "environment": {},
                "box_read_only": [],
                **agent,
            },
            "model": {"family": "qwen3", "base": {"source": "tiny_qwen3"}},
            "budget": {"hours": BUDGET_S / 3600, "grace_seconds": 3, "max_cost_usd": None},
            "container": "none",
            "isolation": "bwrap",
            "prices": {},
            "provider_failures": FAILURES,
        },
        "secret_names": sorted(KEYS),
        "image": None,
        "view": str(root / "view"),
    }
    started = time.monotonic()
    try:
        result = agent_run.run_cell(
            Cell(name, "tiny-qwen3", "gsm8k", 1),
            settings=settings,
            base_manifest=str(root / "base.json"),
            view=str(root / "view"),
            image_digest=None,
            gpus=0,
            agent_json=str(run / "agent.json"),
            manifest_json=str(run / "manifest.json"),
            handout_json=str(run / "handout.json"),
            log=logging.getLogger(f"fault.{name}"),
        )
    except faults.InfraFailure as failure:
        result = {"infra": str(failure)}
    result["took"] = time.monotonic() - started
    result["run_dir"] = str(run)
    return result


@contextlib.contextmanager
def cli_cell(root: Path):
    """A base model and view under root, the keys and the CLIs in this process's environment
    (run_cell reads them there), restored afterwards."""
    base = root / "base_model"
    base.mkdir()
    (base / "config.json").write_text("{}")
    (root / "base.json").write_text(json.dumps({"path": str(base), "source": "tiny_qwen3"}))
    (root / "view" / "hub").mkdir(parents=True)
    saved = {name: os.environ.get(name) for name in [*KEYS, "PATH"]}
    os.environ.update(KEYS)
    # the CLIs, and this Python before any shim the box cannot run (solve.sh calls python3)
    os.environ["PATH"] = f"{CLI_BIN}:{Path(sys.executable).parent}:{os.environ['PATH']}"
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def run_side_by_side(root: Path, agents: dict[str, dict]) -> dict[str, dict]:
    with ThreadPoolExecutor(len(agents)) as pool:
        futures = {name: pool.submit(run_one, root, name, agent) for name, agent in agents.items()}
        return {name: future.result() for name, future in futures.items()}


@pytest.fixture(scope="module")
def fault_runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("real-cli-faults")
    servers = {
        name: ScriptedLLM(
            server.get("commands", ["cat prompt.md"]), **{k: v for k, v in server.items() if k != "commands"}
        )
        for name, (_, server, _) in CASES.items()
    }
    with contextlib.ExitStack() as stack, cli_cell(root):
        for server in servers.values():
            stack.enter_context(server)
        agents = {name: entry(cli, servers[name].url, **extra) for name, (cli, _, extra) in CASES.items()}
        results = run_side_by_side(root, agents)
    (root / "results.json").write_text(json.dumps(results, indent=1, default=str))
    return results, {name: server.requests for name, server in servers.items()}


def model_requests(requests: list[dict], cli: str) -> list[dict]:
    model = ENTRY[cli]["llm"].split("/")[-1]
    return [r for r in requests if r.get("api") and model in json.dumps(r.get("body")) + r["path"]]


def api_records(result: dict) -> list[dict]:
    return [json.loads(line) for line in (Path(result["run_dir"]) / "api.jsonl").read_text().splitlines()]


def trace(result: dict) -> str:
    return (Path(result["run_dir"]) / "trace.md").read_text()


def stopped_early(result: dict) -> None:
    assert result["took"] < BUDGET_S - 30, f"not stopped early: {result['took']:.0f} s of {BUDGET_S}"
    assert "killed at the budget" not in json.dumps(result)


@pytest.mark.parametrize(
    "name, said",
    [
        ("claude-401", "provider failure: the provider rejected the key (HTTP 401: internal error)"),
        ("claude-429", "provider failure: the same error 3 times in a row (HTTP 429: overloaded, try later)"),
        (
            "opencode-disconnect",
            "provider failure: the same error 3 times in a row (HTTP 200, stream cut after",
        ),
        ("gemini-malformed", "the same error 3 times in a row (HTTP 200, a reply no wire format can read)"),
    ],
)
def test_provider_failures_stop_the_run_early_as_infrastructure_naming_the_status(fault_runs, name, said):
    """Before: a 401 or 429 retried until the budget, 'killed at the budget'; OpenCode sent 189
    requests in 95 s after a disconnect. Now the job fails as infrastructure (no agent.json:
    snakemake retries it) with the provider's status, after at most three requests."""
    results, requests = fault_runs
    result = results[name]
    assert said in result.get("infra", ""), result
    assert not (Path(result["run_dir"]) / "agent.json").exists()
    stopped_early(result)
    cli = CASES[name][0]
    sent = model_requests(requests[name], cli)
    assert 1 <= len(sent) <= FAILURES["identical_errors"], len(sent)
    waits = [
        r.get("backoff_seconds")
        for r in api_records(result)
        if r.get("status") != 429 or "run stopped" not in r.get("error", "")
    ]
    # the first request waits for nothing, each later one at least the first step; the wait doubles
    # per failure already recorded (a request sent while the previous reply is still streaming in
    # sees the same count: OpenCode overlaps them on a busy machine)
    assert waits[0] is None and all(w in (0.5, 1.0) for w in waits[1 : len(sent)]), waits
    assert waits[1 : len(sent)] == sorted(waits[1 : len(sent)]), "the proxy's backoff never shrinks"


def test_claudes_retries_are_in_its_trace_with_their_times(fault_runs):
    results, _ = fault_runs
    text = trace(results["claude-429"])
    assert re.search(r"`\d\d:\d\d:\d\d` \*API retry 1/\d+: HTTP 429 rate_limit, next in [\d.]+ s\*", text), (
        text[-1500:]
    )
    assert "model configured: `claude-opus-4-6`; served: none seen" in text


def test_a_context_length_loop_ends_as_the_agents_error_naming_the_providers_words(fault_runs):
    """OpenCode compacted and re-sent 431 times on a persistent context-length error; the proxy
    now stops the third identical 400: the outcome is the agent's error, with the provider's words."""
    results, requests = fault_runs
    result = results["opencode-context"]
    assert result["outcome"] == outcomes.AGENT_ERROR, result
    assert result["reason"].startswith(
        "provider failure: the same error 3 times in a row (HTTP 400: prompt is too long: 212345 tokens"
    ), result["reason"]
    stopped_early(result)
    assert result["stopped"][0] == "provider_error" and not result["timed_out"]
    assert len(model_requests(requests["opencode-context"], "opencode")) == 3
    assert result["api"]["last_failure"].startswith("HTTP 400: prompt is too long")
    # Codex gives up by itself on the first one, and says so
    codex = results["codex-context"]
    assert codex["outcome"] == outcomes.AGENT_ERROR and codex["exit_code"] == 1
    assert "context window" in codex["reason"]


def test_a_slow_stream_is_no_failure_and_the_run_is_monitored_and_timed(fault_runs):
    results, _ = fault_runs
    result = results["gemini-slow"]
    assert result["outcome"] == outcomes.NO_MODEL and result["exit_code"] == 0, result
    assert result["api"]["failures_in_a_row"] == 0 and set(result["api"]["statuses"]) == {"200"}
    assert result["monitor"]["samples"] >= 2 and result["monitor"]["memory_used_mib"]["max"] > 0
    assert (Path(result["run_dir"]) / "monitor.jsonl").exists()
    text = trace(result)
    assert "model configured: `gemini-2.5-pro`; served: gemini-2.5-pro (" in text
    assert text.count("`") > 10 and re.search(r"## `\d\d:\d\d:\d\d` Result: success", text)


def test_codex_waits_for_a_command_that_outlasts_its_30_second_return(fault_runs):
    """Codex's exec_command hands back after 30 s with the process still running; a process still
    running when codex exits is killed (the training left behind, the run ending no_model). The
    scripted model waits on it as a model does (write_stdin, nothing written), and the wait
    (background_terminal_max_timeout, 10 h in solve.sh) outlasts the command."""
    results, requests = fault_runs
    result = results["codex-long-command"]
    assert result["outcome"] == outcomes.NO_MODEL and result["exit_code"] == 0, result
    turns = model_requests(requests["codex-long-command"], "codex")
    assert any("Process running with session ID" in o for r in turns for o in r.get("tool_outputs") or [])
    assert any("step 1 loss 0.25" in o for o in turns[-1]["tool_outputs"]), "the command's end went back"
    assert "step 1 loss 0.25" in trace(result)


def test_codex_is_reprompted_in_its_own_session_while_time_remains(fault_runs):
    results, requests = fault_runs
    result = results["codex-reprompt"]
    assert result["outcome"] == outcomes.NO_MODEL and result["exit_code"] == 0, result
    turns = model_requests(requests["codex-reprompt"], "codex")
    resumed = [r for r in turns if "Please continue improving your result" in r["user_text"]]
    assert resumed, "no continuation prompt reached the model"
    first = resumed[0]
    assert re.search(
        r"You still have 0h [12]m remaining\. Please continue improving your result and maximize",
        first["user_text"],
    )
    assert "We want to train" in first["user_text"], "the same session, resumed: the task prompt is in it"
    # the loop ends once less than a minute is left: solve.sh exits, well before the budget
    assert BUDGET_S - 75 < result["wall_seconds"] < BUDGET_S - 30, result["wall_seconds"]


def test_a_model_served_other_than_configured_is_named_in_the_record_and_the_trace(fault_runs):
    """Gemini CLI 0.61 sends gemini-3-pro-preview as gemini-3.1-pro-preview; its own stream
    still names the configured model. The proxy's record and the trace header say what was served."""
    results, _ = fault_runs
    result = results["gemini-aliased"]
    api = result["api"]
    assert api["model_configured"] == "gemini-3-pro-preview"
    assert set(api["models_requested"]) == {"gemini-3.1-pro-preview"}, api["models_requested"]
    assert api["served_other_model"] == ["gemini-3.1-pro-preview"]
    header = trace(result).split("\n\n")[2]
    assert header.startswith("model configured: `gemini-3-pro-preview`; served: gemini-3.1-pro-preview (")
    assert "**not the configured model** (gemini-3.1-pro-preview)" in header


def test_fault_runs_report(fault_runs):  # a readable summary when one of the others fails
    results, requests = fault_runs
    for name, result in results.items():
        print(
            name,
            round(result["took"]),
            result.get("outcome"),
            (result.get("reason") or result.get("infra", ""))[:300],
            len(requests[name]),
        )
