"""Agent runs through the real rule: outcome classes, the time budget, and secrets."""

import json
import subprocess
import time
from pathlib import Path

import pytest
import yaml
from helpers import snakemake

FAKE_KEY = "sk-test-" + "9f8e7d6c5b4a" * 3
BUDGET_S = 6
GRACE_S = 2


def scripted(behavior: str, **extra) -> dict:
    return {"scaffold": "scripted", "options": {"behavior": behavior}, **extra}


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Path:
    """Run one cell per scripted behaviour on the tiny model; agent stage only.

    (The SFT agent's `ok` run with changed weights is checked by the demo test.)"""
    root = tmp_path_factory.mktemp("agent-runs")
    overrides = {
        "results_dir": str(root / "results"),
        "budget": {"hours": BUDGET_S / 3600, "grace_seconds": GRACE_S},
        "agents": {
            "sleeper": scripted("sleep"),
            "crasher": scripted("crash"),
            "empty": scripted("no_model"),
            "leaker": scripted("leak_env", env=["PTB_TEST_API_KEY"]),
        },
        "grid": {
            "agents": ["sleeper", "crasher", "empty", "leaker"],
            "models": ["tiny-qwen3"],
            "benchmarks": ["gsm8k"],
            "seeds": [1],
        },
    }
    extra = root / "test.yaml"
    extra.write_text(yaml.safe_dump(overrides))
    targets = [
        f"{root}/results/runs/{a}/tiny-qwen3/gsm8k/seed1/agent.json" for a in overrides["grid"]["agents"]
    ]
    start = time.monotonic()
    snakemake(
        "--profile",
        "profiles/demo",
        "--configfile",
        "workflow_config.yaml",
        "config/demo.yaml",
        str(extra),
        "--cores",
        "2",
        *targets,
        env={"PTB_TEST_API_KEY": FAKE_KEY, "OTHER_API_KEY": "sk-other-0123456789"},
    )
    (root / "elapsed").write_text(str(time.monotonic() - start))
    return root / "results" / "runs"


def agent_json(runs: Path, agent: str) -> dict:
    return json.loads((runs / agent / "tiny-qwen3" / "gsm8k" / "seed1" / "agent.json").read_text())


def test_sleeping_agent_times_out_within_budget_and_grace(runs):
    result = agent_json(runs, "sleeper")
    assert result["outcome"] == "timeout"
    assert BUDGET_S <= result["wall_seconds"] <= BUDGET_S + GRACE_S + 3
    assert result["has_model"], "what final_model/ held at the kill is still collected"


def test_crashing_agent_is_an_agent_error_with_its_log(runs):
    result = agent_json(runs, "crasher")
    assert result["outcome"] == "agent_error" and result["exit_code"] == 3
    log = (runs / "crasher" / "tiny-qwen3" / "gsm8k" / "seed1" / "agent.log").read_text()
    assert "something went wrong" in log


def test_agent_without_model_is_no_model(runs):
    assert agent_json(runs, "empty")["outcome"] == "no_model"


def test_job_dir_holds_the_handout(runs):
    job = runs / "empty" / "tiny-qwen3" / "gsm8k" / "seed1" / "job"
    assert {"prompt.md", "evaluate.py", "timer.sh", "task.yaml"} <= {p.name for p in job.iterdir()}
    timer = subprocess.run(["bash", str(job / "timer.sh")], capture_output=True, text=True).stdout
    assert timer.startswith(("Time left", "Time is up"))
    handout = json.loads((job.parent / "handout.json").read_text())
    assert "prompt.md" in handout and "evaluate.py" in handout
    assert not (job / "test.jsonl").exists()


def test_key_reaches_only_its_agent_and_appears_in_no_output(runs):
    leaker = runs / "leaker" / "tiny-qwen3" / "gsm8k" / "seed1"
    dump = (leaker / "job" / "env_dump.txt").read_text()
    assert "PTB_TEST_API_KEY=" in dump, "the agent's own key is passed through"
    assert "OTHER_API_KEY" not in dump, "another key never reaches the agent"
    for path in runs.parent.rglob("*"):
        if path.is_file():
            assert FAKE_KEY.encode() not in path.read_bytes(), f"key leaked into {path}"
    assert agent_json(runs, "leaker")["redacted_files"]
