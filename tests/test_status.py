"""ptb-status: the config is loaded as the workflow loads it, and each cell's state is read from disk."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from ptb import paths, status
from ptb.paths import REPO_ROOT

CONFIG = str(REPO_ROOT / "workflow_config.yaml")
DEMO = str(REPO_ROOT / "config" / "demo.yaml")
SELECT = "select={agents: [noop, sft], models: [tiny-qwen3], benchmarks: [gsm8k, humaneval], seeds: [1, 2]}"


def put(results: Path, template: str, data: dict | None, **cell) -> None:
    path = Path(paths.fill(template, str(results), **cell))
    path.parent.mkdir(parents=True, exist_ok=True)
    if data is None:
        path.mkdir(exist_ok=True)
    else:
        path.write_text(json.dumps(data))


def test_config_files_merge_like_snakemake():
    config = status.load_config(
        [CONFIG, DEMO], ["subset=", "calibration=", "benchmarks={humaneval: {display_name: HE}}"]
    )
    assert config["calibration"] is None and config["subset"] is None
    assert config["results_dir"] == "results/demo" and config["grid"]["agents"] == ["noop", "sft"]
    assert config["benchmarks"]["gsm8k"]["display_name"] == "GSM8K"  # nested keys merge, not replace
    assert config["benchmarks"]["gsm8k"]["limit"] == 20
    demo_limit = yaml.safe_load(Path(DEMO).read_text())["benchmarks"]["humaneval"]["limit"]
    humaneval = {"display_name": "HE", "data": "local", "limit": demo_limit, "task_args": {}}
    assert config["benchmarks"]["humaneval"] == humaneval
    assert status.parse_value("{a: [1, x]}") == {"a": ["1", "x"]}  # snakemake keeps nested scalars as strings
    assert (
        status.parse_value("3") == 3
        and status.parse_value("0.5") == 0.5
        and status.parse_value("True") is True
    )


def test_counts_each_state_per_agent(tmp_path, capsys):
    ok_agent = {"outcome": "ok", "has_model": True}
    clean, ok_metrics = {"outcome": "clean", "disqualified": False}, {"outcome": "ok", "score": 0.3}
    cell = dict(model="tiny-qwen3", benchmark="gsm8k")
    # noop: done, disqualified, failed (eval error), pending (no verdict yet)
    for (bench, seed), (verdict, metrics) in {
        ("gsm8k", 1): (clean, ok_metrics),
        ("humaneval", 1): ({"outcome": "disqualified", "disqualified": True}, ok_metrics),
        ("gsm8k", 2): (clean, {"outcome": "eval_error"}),
    }.items():
        c = dict(cell, agent="noop", seed=seed, benchmark=bench)
        put(tmp_path, paths.AGENT_JSON, ok_agent, **c)
        put(tmp_path, paths.VERDICT, verdict, **c)
        put(tmp_path, paths.METRICS, metrics, **c)
    put(tmp_path, paths.AGENT_JSON, ok_agent, **dict(cell, agent="noop", benchmark="humaneval", seed=2))
    # sft: one running (job dir, no agent.json), one failed (no model), two not started
    put(tmp_path, paths.JOB_DIR, None, **dict(cell, agent="sft", seed=1))
    c = dict(cell, agent="sft", benchmark="humaneval", seed=1)
    put(tmp_path, paths.AGENT_JSON, {"outcome": "no_model", "has_model": False}, **c)
    put(tmp_path, paths.VERDICT, clean, **c)
    put(tmp_path, paths.METRICS, {"outcome": "no_model"}, **c)

    config = status.load_config([CONFIG, DEMO], [f"results_dir={tmp_path}", SELECT])
    counts, cells = status.summarise(config)
    assert counts["noop"] == {
        "done": 1,
        "running": 0,
        "pending": 1,
        "failed": 1,
        "disqualified": 1,
        "not started": 0,
    }
    assert counts["sft"] == {
        "done": 0,
        "running": 1,
        "pending": 0,
        "failed": 1,
        "disqualified": 0,
        "not started": 2,
    }
    assert [c.key for c in cells["running"]] == ["sft/tiny-qwen3/gsm8k/seed1"]

    assert (
        status.main(
            ["--configfile", CONFIG, DEMO, "--config", f"results_dir={tmp_path}", SELECT, "--list", "failed"]
        )
        == 0
    )
    out = capsys.readouterr().out
    lines = out.splitlines()
    header = next(line for line in lines if line.startswith("agent"))
    assert header.split()[:4] == ["agent", "done", "running", "pending"]
    assert next(line for line in lines if line.startswith("total")).split() == [
        "total",
        "1",
        "1",
        "1",
        "2",
        "1",
        "2",
        "8",
    ]
    assert "noop/tiny-qwen3/gsm8k/seed2" in out and "sft/tiny-qwen3/humaneval/seed1" in out


def test_a_bad_config_is_reported_not_raised(capsys):
    assert status.main(["--configfile", CONFIG, "--config", "select={agents: [nobody]}"]) == 2
    assert "nobody" in capsys.readouterr().err
