"""API agent runs through the workflow and the run's credential proxy (ptb.agent_runs.proxy): the
key stays outside the box, the provider's usage and cost land in agent.json, the dollar cap is
an outcome of its own, and a provider failure fails the job as infrastructure, which snakemake
retries (resources.agent.retries), never an agent outcome scored as the base model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from helpers import snakemake
from scripted_llm import USAGE_IN, USAGE_OUT, ScriptedLLM

from ptb.core import outcomes

KEY = "sk-test-proxy-" + "5a4b3c2d1e0f" * 3
PRICE = {"input": 3.0, "output": 15.0}
FIND_KEY = "tests/agents/find_key.py"  # the box search the real CLIs run too
ONE_CALL = (USAGE_IN * PRICE["input"] + USAGE_OUT * PRICE["output"]) / 1e6


def caller(url: str, **options) -> dict:
    """The scripted agent's call_api behaviour against `url`, searching its box for the key."""
    return {
        "scaffold": "scripted",
        "llm": "claude-x",
        "base_url": url,
        "env": ["PTB_TEST_API_KEY"],
        "box_read_only": [FIND_KEY],
        "options": {"behavior": "call_api", "search": FIND_KEY, "find": [KEY[:9], KEY[9:]], **options},
    }


@pytest.fixture(scope="module")
def api_runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("api-runs")
    with (
        ScriptedLLM([]) as good,
        ScriptedLLM([]) as capped,
        ScriptedLLM([], fail_status=401) as rejected,
        ScriptedLLM([], fail_status=503) as down,
        ScriptedLLM([], fail_status=429) as limited,
    ):
        agents = {
            "api-ok": caller(good.url, calls=3),
            "api-capped": caller(capped.url, calls=100, pause=0.2),
            "api-401": caller(rejected.url, calls=100, pause=0.2),
            "api-outage": caller(down.url, calls=100, pause=0.2),
            "api-429": caller(limited.url, calls=100, pause=0.2),
        }
        overrides = {
            "results_dir": str(root / "results"),
            "budget": {"hours": 60 / 3600, "grace_seconds": 2},
            "agents": agents,
            "prices": {"claude-x": PRICE},
            "provider_failures": {"outage_seconds": 1, "rate_limit_seconds": 1},
            "grid": {"agents": list(agents), "models": ["tiny-qwen3"], "benchmarks": ["gsm8k"], "seeds": [1]},
        }
        extra = root / "test.yaml"
        extra.write_text(yaml.safe_dump(overrides))
        capped_extra = root / "capped.yaml"
        capped_extra.write_text(yaml.safe_dump({"budget": {"max_cost_usd": 1.5 * ONE_CALL}}))
        common = ("--profile", "profiles/demo", "--configfile", "workflow_config.yaml", "config/demo.yaml")
        target = "{root}/results/runs/{agent}/tiny-qwen3/gsm8k/seed1/agent.json"
        failing = snakemake(
            *common,
            str(extra),
            "--keep-going",
            "--cores",
            "2",
            *(target.format(root=root, agent=a) for a in agents if a != "api-capped"),
            env={"PTB_TEST_API_KEY": KEY},
            check=False,
        )
        snakemake(
            *common,
            str(extra),
            str(capped_extra),
            "--cores",
            "1",
            target.format(root=root, agent="api-capped"),
            env={"PTB_TEST_API_KEY": KEY},
        )
    servers = {"ok": good, "capped": capped, "401": rejected, "outage": down, "429": limited}
    return root / "results", failing, servers


def run_dir(results: Path, agent: str) -> Path:
    return results / "runs" / agent / "tiny-qwen3" / "gsm8k" / "seed1"


def test_the_provider_gets_the_key_the_box_never_holds(api_runs):
    results, _, servers = api_runs
    agent = json.loads((run_dir(results, "api-ok") / "agent.json").read_text())
    assert agent["outcome"] == outcomes.OK, agent
    log = (run_dir(results, "api-ok") / "agent.log").read_text()
    assert "key search: [0]" in log, log
    assert "my token: ptb-run-" in log, "the agent held a run token"
    sent = [{k.lower(): v for k, v in r["headers"].items()}["x-api-key"] for r in servers["ok"].requests]
    assert sent == [KEY] * 3, "the proxy put the real key in"
    for path in results.rglob("*"):
        if path.is_file() and not path.is_symlink():
            assert KEY.encode() not in path.read_bytes(), path


def test_tokens_cost_and_models_come_from_the_provider(api_runs):
    results, _, _ = api_runs
    agent = json.loads((run_dir(results, "api-ok") / "agent.json").read_text())
    api = agent["api"]
    assert api["tokens"] == {"input": 3 * USAGE_IN, "cached": 0, "cache_write": 0, "output": 3 * USAGE_OUT}
    assert api["cost_usd"] == pytest.approx(3 * ONE_CALL)
    assert api["models_requested"] == api["models_served"] == {"claude-x": 3}
    assert api["served_other_model"] == []
    record = [
        json.loads(line) for line in (run_dir(results, "api-ok") / "api.jsonl").read_text().splitlines()
    ]
    assert [r["status"] for r in record] == [200, 200, 200]
    assert all(
        {k.lower(): v for k, v in r["request"]["headers"].items()}["x-api-key"] == "[run token]"
        for r in record
    )


def test_the_dollar_cap_ends_the_run_with_its_own_outcome(api_runs):
    results, _, servers = api_runs
    agent = json.loads((run_dir(results, "api-capped") / "agent.json").read_text())
    assert agent["outcome"] == outcomes.COST_LIMIT, agent
    assert "passed the cap" in agent["reason"] and agent["api"]["cost_usd"] == pytest.approx(2 * ONE_CALL)
    assert len(servers["capped"].requests) == 2, "nothing was forwarded past the cap"


@pytest.mark.parametrize(
    "agent, server, said",
    [
        ("api-401", "401", "the provider rejected the key (HTTP 401"),
        ("api-outage", "outage", "an outage for"),
        ("api-429", "429", "a sustained rate limit (429) for"),
    ],
)
def test_a_provider_failure_fails_the_job_as_infrastructure_and_it_is_retried(api_runs, agent, server, said):
    results, failing, servers = api_runs
    assert failing.returncode != 0
    assert not (run_dir(results, agent) / "agent.json").exists(), "no agent outcome to score"
    assert "Shell command: None" not in failing.stdout + failing.stderr, "no empty command lines per job"
    log = (results / "logs" / "agent" / agent / "tiny-qwen3" / "gsm8k" / "seed1.log").read_text()
    assert said in log and "InfraFailure" in log, log[-2000:]
    said_by_snakemake = failing.stdout + failing.stderr
    assert said_by_snakemake.count("Trying to restart job") == 3, (
        "each retried once (resources.agent.retries)"
    )
    if server == "401":
        assert len(servers["401"].requests) == 2, "one request per attempt: the first 401 stops the run"
