"""ptb-status: the config is loaded as the workflow loads it, and each cell's state is read from disk.

The --configfile / --config convention (ptb.tools.cli_config) is shared with compare-reference.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from ptb.core import config as ptb_config
from ptb.core import grid, paths
from ptb.core.paths import REPO_ROOT
from ptb.tools import cli_config, status

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


def load(configfiles: list[str], overrides: list[str]) -> dict:
    return ptb_config.load(configfiles, cli_config.parse_overrides(overrides))


def test_config_files_merge_like_snakemake():
    config = load([DEMO], ["subset=", "calibration=", "benchmarks={humaneval: {display_name: HE}}"])
    assert config["calibration"] is None and config["subset"] is None
    assert config["results_dir"] == "results/demo" and config["grid"]["agents"] == ["noop", "sft"]
    assert config["benchmarks"]["gsm8k"]["display_name"] == "GSM8K"  # nested keys merge, not replace
    demo = yaml.safe_load(Path(DEMO).read_text())["benchmarks"]
    assert config["benchmarks"]["gsm8k"]["limit"] == demo["gsm8k"]["limit"]
    demo_limit = demo["humaneval"]["limit"]
    humaneval = {"display_name": "HE", "data": "local", "limit": demo_limit, "task_args": {}}
    assert config["benchmarks"]["humaneval"] == humaneval
    # workflow_config.yaml comes first even when not named, as the Snakefile's configfile does
    assert load([CONFIG, DEMO], []) == load([DEMO], [])


def test_config_values_parse_as_snakemake_parses_them():
    parsed = cli_config.parse_overrides(
        ["num=3", "frac=0.5", "flag=True", "text='quoted'", "nested={a: [1, x]}", "empty="]
    )
    assert parsed == {
        "num": 3,
        "frac": 0.5,
        "flag": True,
        "text": "quoted",
        "nested": {"a": ["1", "x"]},  # snakemake keeps nested scalars as strings; validation types them
        "empty": None,
    }
    assert cli_config.parse_overrides(["ab={b: 1}", "ab={c: 2}"]) == {"ab": {"b": "1", "c": "2"}}  # merged
    # snakemake's own rules: KEY=VALUE, and a key of two or more identifier characters
    for bad in ("novalue", "1abc=2", "x=1"):
        with pytest.raises(ptb_config.ConfigError, match="--config"):
            cli_config.parse_overrides([bad])


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
    # sft: one interrupted (job dir, no agent.json, no live run), one failed (no model), two not started
    put(tmp_path, paths.JOB_DIR, None, **dict(cell, agent="sft", seed=1))
    c = dict(cell, agent="sft", benchmark="humaneval", seed=1)
    put(tmp_path, paths.AGENT_JSON, {"outcome": "no_model", "has_model": False}, **c)
    put(tmp_path, paths.VERDICT, clean, **c)
    put(tmp_path, paths.METRICS, {"outcome": "no_model"}, **c)

    sweep = ptb_config.sweep(load([DEMO], [f"results_dir={tmp_path}", SELECT]))
    counts, cells = status.summarise(sweep.results, sweep.cells)
    assert counts["noop"] == {
        "done": 1,
        "running": 0,
        "interrupted": 0,
        "pending": 1,
        "failed": 1,
        "disqualified": 1,
        "corrupt": 0,
        "not started": 0,
    }
    assert counts["sft"] == {
        "done": 0,
        "running": 0,
        "interrupted": 1,
        "pending": 0,
        "failed": 1,
        "disqualified": 0,
        "corrupt": 0,
        "not started": 2,
    }
    assert [c.key for c in cells["interrupted"]] == ["sft/tiny-qwen3/gsm8k/seed1"]

    assert (
        status.main(["--configfile", DEMO, "--config", f"results_dir={tmp_path}", SELECT, "--list", "failed"])
        == 0
    )
    out = capsys.readouterr().out
    lines = out.splitlines()
    header = next(line for line in lines if line.startswith("agent"))
    assert header.split()[:5] == ["agent", "done", "running", "interrupted", "pending"]
    assert next(line for line in lines if line.startswith("total")).split() == [
        "total",
        "1",  # done
        "0",  # running
        "1",  # interrupted
        "1",  # pending
        "2",  # failed
        "1",  # disqualified
        "0",  # corrupt
        "2",  # not started
        "8",
    ]
    assert "noop/tiny-qwen3/gsm8k/seed2" in out and "sft/tiny-qwen3/humaneval/seed1" in out


def test_a_bad_config_is_reported_not_raised(capsys, tmp_path):
    assert status.main(["--config", "select={agents: [nobody]}"]) == 2
    assert "nobody" in capsys.readouterr().err
    assert status.main(["--config", "results_dir"]) == 2
    assert "--config" in capsys.readouterr().err
    assert status.main(["--configfile", str(tmp_path / "absent.yaml")]) == 2
    assert "absent.yaml" in capsys.readouterr().err


def test_summarise_takes_plain_cells(tmp_path):
    cell = grid.Cell("noop", "tiny-qwen3", "gsm8k", 1)
    put(tmp_path, paths.AGENT_JSON, {"outcome": "ok", "has_model": True}, **cell.as_dict())
    counts, cells = status.summarise(str(tmp_path), [cell, grid.Cell("sft", "tiny-qwen3", "gsm8k", 1)])
    assert counts["noop"]["pending"] == 1 and counts["sft"]["not started"] == 1
    assert cells["pending"] == [cell]
