"""The four real agent CLIs through the workflow's agent_run rule, against a scripted model server.

`make agent-clis` installs the pinned CLIs into .agent-clis/; without them (or without Node)
these tests skip, and with PTB_REQUIRE_AGENT_CLIS=1 (CI) they fail instead. Each CLI runs in
its box (bubblewrap) and talks to the run's credential proxy, which forwards to the agent
entry's `base_url` with a fake key of the CLI's own. Two snakemake runs: one where every CLI
reads the prompt, searches its box for its key and really trains the tiny model, and one of
faults (500, 429, a server that never answers, the budget killing a training the CLI started).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import time
from pathlib import Path

import pytest
import yaml
from helpers import REPO, snakemake
from scripted_llm import FINAL_TEXT, USAGE_IN, USAGE_OUT, ScriptedLLM

from ptb.core import outcomes

CLI_BIN = REPO / ".agent-clis" / "node_modules" / ".bin"
CLIS = ("claude", "codex", "gemini", "opencode")
# handed into the box with the handout library (box_read_only): the checkout is not in it
TRAIN_REL = "tests/agents/tiny_train.py"
TRAIN = f"{sys.executable} $PYTHONPATH/{TRAIN_REL}"
KEYS = {
    "ANTHROPIC_API_KEY": "sk-ant-test-" + "a1b2c3d4e5f6" * 3,
    "OPENAI_API_KEY": "sk-test-" + "0f1e2d3c4b5a" * 3,
    "GEMINI_API_KEY": "AIza-test-" + "9a8b7c6d5e4f" * 3,
}
# the CLI's own base-URL setting: Claude Code appends /v1/messages, the others take /v1 in it
ENDPOINT = {"claude": "", "codex": "/v1", "gemini": "", "opencode": "/v1"}
ENTRY = {
    "claude": {"llm": "claude-opus-4-6", "effort": "high", "env": ["ANTHROPIC_API_KEY"]},
    "codex": {"llm": "gpt-5.3-codex", "effort": "high", "env": ["OPENAI_API_KEY"]},
    "gemini": {"llm": "gemini-2.5-pro", "env": ["GEMINI_API_KEY"]},
    "opencode": {"llm": "anthropic/claude-sonnet-4-6", "env": ["ANTHROPIC_API_KEY"]},
}
PRICES = {
    "claude-opus-4-6": {"input": 5.0, "output": 25.0},
    "gpt-5.3-codex": {"input": 1.75, "output": 14.0},
    "gemini-2.5-pro": {"input": 1.25, "output": 10.0},
    "claude-sonnet-4-6": {"input": 3.0, "output": 15.0},
}


FIND_KEY_REL = "tests/agents/find_key.py"  # the box search, handed in like the training script


def key_search() -> str:
    """The command that searches the box for every real key (tests/agents/find_key.py), each
    key in two halves so that no argv holds one. Prints `key search: [0]` when nothing does."""
    halves = " ".join(f"'{key[: len(key) // 2]}' '{key[len(key) // 2 :]}'" for key in KEYS.values())
    return f"{sys.executable} $PYTHONPATH/{FIND_KEY_REL} {halves}"


OK_SCRIPT = ["cat prompt.md", key_search(), f"{TRAIN} --steps 2 --out final_model"]
# trains "forever", saving every step: the budget must kill it
LONG_TRAINING = f"{TRAIN} --steps 100000 --sleep 0.5 --out final_model"
# 45 s: on a loaded 2-core node (load 15, CPU 100%: the run's monitor.jsonl) the training took over 22 s
# to import torch and save its first step; 30 s left the budget kill nothing to collect
FAULT_BUDGET_S, FAULT_GRACE_S = 45, 3


def _missing() -> str | None:
    if not shutil.which("node"):
        return "node is not installed"
    absent = [c for c in CLIS if not (CLI_BIN / c).exists()]
    return (
        f"agent CLIs not installed in {CLI_BIN} ({', '.join(absent)}): run `make agent-clis`"
        if absent
        else None
    )


if _missing():
    if os.environ.get("PTB_REQUIRE_AGENT_CLIS") == "1":
        raise RuntimeError(f"PTB_REQUIRE_AGENT_CLIS=1 but {_missing()}")
    pytest.skip(_missing(), allow_module_level=True)


def entry(cli: str, url: str, **extra) -> dict:
    return {
        "scaffold": cli,
        **ENTRY[cli],
        "base_url": url + ENDPOINT[cli],
        "box_read_only": [TRAIN_REL, FIND_KEY_REL],
        **extra,
    }


def run_workflow(root: Path, agents: dict, budget_s: float, grace_s: float) -> Path:
    overrides = {
        "results_dir": str(root / "results"),
        "budget": {"hours": budget_s / 3600, "grace_seconds": grace_s},
        "agents": agents,
        "prices": PRICES,
        "grid": {"agents": list(agents), "models": ["tiny-qwen3"], "benchmarks": ["gsm8k"], "seeds": [1]},
    }
    extra = root / "test.yaml"
    extra.write_text(yaml.safe_dump(overrides))
    targets = [f"{root}/results/runs/{a}/tiny-qwen3/gsm8k/seed1/agent.json" for a in agents]
    # this Python before any shim the box cannot run (a pyenv shim needs ~/.pyenv): solve.sh calls python3
    env = {**KEYS, "PATH": f"{CLI_BIN}:{Path(sys.executable).parent}:{os.environ['PATH']}"}
    snakemake(
        *(
            "--profile",
            "profiles/demo",
            "--configfile",
            "workflow_config.yaml",
            "config/demo.yaml",
            str(extra),
        ),
        *("--cores", str(len(agents) + 1), *targets),
        env=env,
        timeout=600,
    )
    return root / "results" / "runs"


@pytest.fixture(scope="module")
def ok_runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("real-clis")
    with ScriptedLLM(OK_SCRIPT) as llm:
        runs = run_workflow(root, {cli: entry(cli, llm.url) for cli in CLIS}, budget_s=600, grace_s=5)
    (root / "requests.json").write_text(json.dumps(llm.requests, indent=1))  # for reading a failure
    return runs, llm.requests


@pytest.fixture(scope="module")
def fault_runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("real-clis-faults")
    with (
        ScriptedLLM(["cat prompt.md"], fail_status=500) as failing,
        ScriptedLLM(["cat prompt.md"], fail_status=429) as limited,
        ScriptedLLM(["cat prompt.md"], hang=True) as silent,
        ScriptedLLM(["cat prompt.md", LONG_TRAINING]) as slow,
    ):
        agents = {
            # the CLI's own retry count, as a non-secret variable of the entry
            "claude-500": entry("claude", failing.url, environment={"CLAUDE_CODE_MAX_RETRIES": 1}),
            "gemini-429": entry("gemini", limited.url),
            "opencode-hang": entry("opencode", silent.url),
            "claude-budget": entry("claude", slow.url),
            "codex-budget": entry("codex", slow.url),
        }
        runs = run_workflow(root, agents, budget_s=FAULT_BUDGET_S, grace_s=FAULT_GRACE_S)
    return runs, {"500": failing.requests, "429": limited.requests, "hang": silent.requests}


def cell(runs: Path, agent: str) -> Path:
    return runs / agent / "tiny-qwen3" / "gsm8k" / "seed1"


def agent_json(runs: Path, agent: str) -> dict:
    return json.loads((cell(runs, agent) / "agent.json").read_text())


def requests_of(requests: list[dict], cli: str) -> list[dict]:
    """The scripted turns (shell tool offered) that this CLI sent, told apart by model name."""
    model = ENTRY[cli]["llm"].split("/")[-1]
    return [r for r in requests if r.get("shell_tool") and model in json.dumps(r["body"]) + r["path"]]


def no_key_anywhere(root: Path) -> None:
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            data = path.read_bytes()
            for name, key in KEYS.items():
                assert key.encode() not in data, f"{name} leaked into {path}"


@pytest.mark.parametrize("cli", CLIS)
def test_real_cli_trains_the_model_and_leaves_a_readable_trace(ok_runs, cli):
    runs, requests = ok_runs
    result = agent_json(runs, cli)
    assert result["outcome"] == outcomes.OK, result
    mine = requests_of(requests, cli)
    assert len(mine) >= 3, f"{cli}: expected 3 scripted turns or more, got {len(mine)}"
    # the model name, the prompt (verbatim), a system prompt and the tool results reached the server
    prompt = (cell(runs, cli) / "job" / "prompt.md").read_text()
    assert prompt.strip() in mine[0]["user_text"], f"{cli}: prompt did not reach the model intact"
    assert mine[0]["system"].strip(), f"{cli}: no system prompt"
    outputs = mine[-1]["tool_outputs"]  # a CLI may run two commands of one turn side by side
    assert prompt.strip() in outputs[0], "the output of `cat prompt.md` went back"
    searches = [o for o in outputs if "key search: [" in o]
    assert searches and all("key search: [0]" in o for o in searches), f"{cli}: a key was found in its box"
    assert any("step 1 loss" in o for o in outputs), "the training's output went back"
    # the trace is read from the CLI's real event stream
    trace = (cell(runs, cli) / "trace.md").read_text()
    for text in ("cat prompt.md", "tiny_train.py", "step 1 loss", FINAL_TEXT):
        assert text in trace, f"{cli}: {text!r} missing from trace.md"
    assert re.search(r"## `\d\d:\d\d:\d\d` Result", trace), f"{cli}: no timed result"  # the line clock
    assert re.search(r"tokens|\"input\": \d+", trace), f"{cli}: no token counts"
    if cli in ("claude", "opencode"):  # the streams with a cost
        assert "- cost: $" in trace


def billed_of(requests: list[dict], cli: str) -> list[dict]:
    """Every model request this CLI made (the server bills each USAGE_IN in, USAGE_OUT out)."""
    model = ENTRY[cli]["llm"].split("/")[-1]
    return [
        r
        for r in requests
        if r.get("api")
        and not r["path"].split("?")[0].endswith("count_tokens")
        and model in json.dumps(r["body"]) + r["path"]
    ]


@pytest.mark.parametrize("cli", CLIS)
def test_tokens_cost_and_model_are_what_the_server_billed(ok_runs, cli):
    """The same accounting for all four CLIs, from the provider's usage fields (the proxy's
    record), whatever each CLI prints of its own."""
    runs, requests = ok_runs
    api = agent_json(runs, cli)["api"]
    billed = len(billed_of(requests, cli))
    model = ENTRY[cli]["llm"].split("/")[-1]
    assert billed >= 3 and api["requests"] >= billed
    assert api["tokens"]["input"] + api["tokens"]["cached"] == USAGE_IN * billed, api
    assert api["tokens"]["output"] == USAGE_OUT * billed, api
    price = PRICES[model]
    assert api["cost_usd"] == pytest.approx(
        billed * (USAGE_IN * price["input"] + USAGE_OUT * price["output"]) / 1e6
    )
    assert api["models_served"] == {model: billed} and api["served_other_model"] == []
    assert api["upstream"].startswith("http://127.0.0.1:"), "the entry's base_url, behind the proxy"
    header = f"model configured: `{ENTRY[cli]['llm']}`; served: {model} ({billed} replies)"
    assert header in (cell(runs, cli) / "trace.md").read_text(), "the trace names the model served"
    watched = agent_json(runs, cli)["monitor"]  # the machine beside the run (no GPU here)
    assert watched["samples"] >= 2 and watched["memory_used_mib"]["max"] > 0
    assert (cell(runs, cli) / "monitor.jsonl").exists() and (cell(runs, cli) / "agent.log.times").exists()


def test_real_clis_send_model_effort_and_their_own_key_only(ok_runs):
    _, requests = ok_runs
    claude, codex = requests_of(requests, "claude"), requests_of(requests, "codex")
    gemini, opencode = requests_of(requests, "gemini"), requests_of(requests, "opencode")
    assert {r["body"]["model"] for r in claude} == {"claude-opus-4-6"}
    assert {r["body"]["output_config"]["effort"] for r in claude} == {"high"}
    assert {r["body"]["model"] for r in codex} == {"gpt-5.3-codex"}
    assert {r["effort"] for r in codex} == {"high"}
    assert all("/models/gemini-2.5-pro:" in r["path"] for r in gemini)
    assert {r["body"]["model"] for r in opencode} == {"claude-sonnet-4-6"}
    headers = {
        cli: [{k.lower(): v for k, v in r["headers"].items()} for r in rs]
        for cli, rs in (("claude", claude), ("codex", codex), ("gemini", gemini), ("opencode", opencode))
    }
    assert {h["x-api-key"] for h in headers["claude"] + headers["opencode"]} == {KEYS["ANTHROPIC_API_KEY"]}
    assert {h["authorization"] for h in headers["codex"]} == {f"Bearer {KEYS['OPENAI_API_KEY']}"}
    assert {h["x-goog-api-key"] for h in headers["gemini"]} == {KEYS["GEMINI_API_KEY"]}
    for cli, rs in (("codex", codex), ("gemini", gemini)):
        sent = json.dumps([r["headers"] for r in rs] + [r["body"] for r in rs])
        assert KEYS["ANTHROPIC_API_KEY"] not in sent, f"{cli} saw another agent's key"


def test_real_clis_models_load_and_no_key_in_any_output(ok_runs):
    from transformers import AutoModelForCausalLM  # noqa: PLC0415

    runs, _ = ok_runs
    for cli in CLIS:
        model = AutoModelForCausalLM.from_pretrained(cell(runs, cli) / "job" / "final_model")
        assert model.config.model_type == "qwen3"
    no_key_anywhere(runs.parent)


def test_server_error_ends_the_cli_with_an_agent_error_and_its_reason(fault_runs):
    runs, requests = fault_runs
    result = agent_json(runs, "claude-500")
    assert result["outcome"] == outcomes.AGENT_ERROR and result["exit_code"] != 0
    assert "500" in result["reason"], result["reason"]
    assert len([r for r in requests["500"] if r.get("shell_tool")]) == 2, (
        "CLAUDE_CODE_MAX_RETRIES=1: two tries"
    )


def test_rate_limit_and_silent_server_end_at_the_budget(fault_runs):
    runs, requests = fault_runs
    for agent, seen in (("gemini-429", requests["429"]), ("opencode-hang", requests["hang"])):
        result = agent_json(runs, agent)
        assert result["outcome"] == outcomes.TIMEOUT, (agent, result)
        assert FAULT_BUDGET_S <= result["wall_seconds"] <= FAULT_BUDGET_S + FAULT_GRACE_S + 5
        assert not result["has_model"] and seen, agent


@pytest.mark.parametrize("agent", ["claude-budget", "codex-budget"])
def test_budget_kills_the_cli_and_its_training_and_collects_the_model(fault_runs, agent):
    runs, _ = fault_runs
    result = agent_json(runs, agent)
    assert result["outcome"] == outcomes.TIMEOUT, result
    assert result["has_model"], "the checkpoint saved before the kill is collected"
    weights = cell(runs, agent) / "job" / "final_model" / "model.safetensors"
    saved = weights.stat().st_mtime_ns
    time.sleep(1.5)  # the training saves every 0.5 s while it lives
    assert weights.stat().st_mtime_ns == saved, "the training outlived the budget"
    # the killed command's output is not in the trace: both CLIs report a command when it ends
    assert "tiny_train.py" in (cell(runs, agent) / "trace.md").read_text()
    no_key_anywhere(runs.parent)


def test_the_key_search_finds_a_key_where_one_is(tmp_path):
    """The search the CLIs run in their box, on the host: it finds a key in its environment and
    in a file, and nothing without them (its own command line holds only halves)."""
    import subprocess  # noqa: PLC0415

    home = tmp_path / "home"
    home.mkdir()
    clean = {"PATH": os.environ["PATH"], "HOME": str(home)}

    def search(env: dict) -> str:
        env = {**env, "PYTHONPATH": str(REPO), "FIND_KEY_PLACES": f".:{home}:{tmp_path / 'tmp'}"}
        return subprocess.run(
            ["bash", "-c", key_search()], cwd=tmp_path, env=env, capture_output=True, text=True, check=True
        ).stdout.strip()

    (tmp_path / "tmp").mkdir()
    assert search(clean) == "key search: [0]"
    assert search({**clean, "OPENAI_API_KEY": KEYS["OPENAI_API_KEY"]}) != "key search: [0]"
    (home / "notes.txt").write_text(KEYS["GEMINI_API_KEY"])
    assert search(clean) != "key search: [0]"
    (home / "notes.txt").chmod(0o444)  # read-only files stay searched: only read-only folders are pruned
    assert search(clean) != "key search: [0]"
