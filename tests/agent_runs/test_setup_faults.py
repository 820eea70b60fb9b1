"""Failures of the setup are the infrastructure's, never the agent's result (issue 32): a missing
solve.sh, CLI or key fails the job (InfraFailure: retried, no agent.json) instead of booking
`agent_error`; and the agent gets an absolute HOME that exists from its working directory."""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path

import pytest

from ptb.agent_runs import agent_run, box
from ptb.core import faults
from ptb.core.grid import Cell

CELL = Cell("scripted_env", "tiny", "gsm8k", 1)


def scripted(behavior: str, **entry) -> dict:
    return {
        "scaffold": "scripted",
        "llm": None,
        "effort": None,
        "base_url": None,
        "env": [],
        "options": {"behavior": behavior},
        "environment": {},
        "box_read_only": [],
        **entry,
    }


def run_cell(root: Path, agent: dict, isolation: str = "none") -> dict:
    """run_cell as rules/agent.smk calls it: the paths relative to the working dir (root)."""
    base = root / "base_model"
    base.mkdir(exist_ok=True)
    (base / "config.json").write_text("{}")
    (root / "base.json").write_text(json.dumps({"path": str(base), "source": "tiny_qwen3"}))
    (root / "view" / "hub").mkdir(parents=True, exist_ok=True)
    run = Path("results/runs") / CELL.key
    settings = {
        "cell_config": {
            "agent": agent,
            "model": {"family": "qwen3", "base": {"source": "tiny_qwen3"}},
            "budget": {"hours": 0.01, "grace_seconds": 2, "max_cost_usd": None},
            "container": "none",
            "isolation": isolation,
            "prices": {},
            "provider_failures": {"auth": 1, "outage_seconds": 300, "rate_limit_seconds": 600},
        },
        "secret_names": [],
        "image": None,
        "view": "view",
    }
    return agent_run.run_cell(
        CELL,
        settings=settings,
        base_manifest="base.json",
        view="view",
        image_digest=None,
        gpus=0,
        agent_json=str(run / "agent.json"),
        manifest_json=str(run / "manifest.json"),
        handout_json=str(run / "handout.json"),
        log=logging.getLogger("test"),
    )


@pytest.mark.parametrize(
    "isolation",
    ["none", pytest.param("bwrap", marks=pytest.mark.skipif(not box.bwrap_available(), reason="no bwrap"))],
)
def test_the_agent_gets_an_absolute_home_that_exists(tmp_path, monkeypatch, isolation):
    """The rule passes relative paths: HOME and the prompt were relative to the snakemake
    working dir, so from the job dir (the agent's working dir) they did not exist."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}:{os.environ['PATH']}")  # the box's python
    run_cell(tmp_path, scripted("leak_env"), isolation)
    dump = (tmp_path / "results/runs" / CELL.key / "job" / "env_dump.txt").read_text()
    env = dict(line.split("=", 1) for line in dump.splitlines() if "=" in line)
    for name in ("HOME", "PTB_PROMPT_FILE"):
        assert Path(env[name]).is_absolute(), f"{name}={env[name]}"
    if isolation == "none":  # in the box HOME is the run's home bound at the same absolute path
        assert Path(env["HOME"]) == (tmp_path / "results/runs" / CELL.key / "home")
    assert (tmp_path / "results/runs" / CELL.key / "home").is_dir()


def test_an_api_agent_without_its_key_fails_the_job_before_it_starts(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PTB_TEST_API_KEY", raising=False)
    agent = scripted("call_api", env=["PTB_TEST_API_KEY"], base_url="http://127.0.0.1:9")
    with pytest.raises(faults.InfraFailure, match="PTB_TEST_API_KEY unset"):
        run_cell(tmp_path, agent)
    assert not (tmp_path / "results/runs" / CELL.key / "job").exists(), "nothing touched"
    monkeypatch.setenv("PTB_TEST_API_KEY", "")  # set but empty: the provider would refuse it too
    assert agent_run.missing_keys(agent) == ["PTB_TEST_API_KEY"]
    assert agent_run.missing_keys({**agent, "base_url": None}) == [], "offline: no provider, no key needed"


def test_a_missing_solve_sh_or_cli_is_an_infrastructure_failure(tmp_path):
    """solve.sh missing from the handout, or its CLI missing (the scaffolds exit 127, as bash does
    for a command not found): the job fails, to be retried; no agent.json, never `agent_error`."""
    library = box.handout_library(tmp_path / "run" / "library", "claude")
    (tmp_path / "run" / "job").mkdir()
    common = dict(
        job_dir=tmp_path / "run" / "job",
        run_dir=tmp_path / "run",
        env={"HOME": str(tmp_path / "run" / "home"), "PATH": "/usr/bin:/bin"},  # no `claude` on it
        budget_s=30,
        grace_s=2,
        secrets={},
        library=library,
    )
    with pytest.raises(faults.InfraFailure, match="no solve.sh for scaffold 'absent'"):
        agent_run.run_agent(scaffold="absent", **common)
    with pytest.raises(faults.InfraFailure, match="exited 127"):
        agent_run.run_agent(scaffold="claude", **common)
    assert "the Claude Code CLI ('claude') is not on PATH" in (tmp_path / "run" / "agent.log").read_text()
    # a CLI that fails on its own (any other status) stays the agent's result
    failing = library / "agents" / "failing"
    failing.mkdir()
    (failing / "solve.sh").write_text("echo 'model refused'; exit 3\n")
    assert agent_run.run_agent(scaffold="failing", **common)["outcome"] == "agent_error"
