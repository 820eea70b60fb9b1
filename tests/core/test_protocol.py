"""The evaluation protocol: config key, published weights, and where it is recorded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ptb.core import config as ptb_config
from ptb.core import protocol, result_files, tasks
from ptb.core.grid import Cell
from ptb.leaderboard import leaderboard

FACTORS = json.loads((Path(__file__).parents[1] / "fixtures" / "reference" / "factors.json").read_text())
PRODUCTION = ptb_config.load()


def test_default_protocol_is_posttrainbench_v1_with_its_published_weights():
    assert PRODUCTION["protocol"] == protocol.DEFAULT == "posttrainbench-v1"
    assert PRODUCTION["leaderboard"]["weights"] == "published"
    benchmarks = ptb_config.selection(PRODUCTION)["benchmarks"]
    assert sorted(benchmarks) == sorted(FACTORS)
    weights = leaderboard.benchmark_weights(PRODUCTION["leaderboard"]["weights"], None, benchmarks)
    assert weights.keys() == FACTORS.keys()
    for bench, factor in FACTORS.items():
        assert abs(weights[bench] - factor) < 1e-9, bench


def test_published_weights_of_a_subset_keep_their_ratios():
    weights = protocol.published_weights(["gsm8k", "aime2025"])
    assert sum(weights.values()) == pytest.approx(1.0)
    assert weights["aime2025"] / weights["gsm8k"] == pytest.approx(FACTORS["aime2025"] / FACTORS["gsm8k"])
    with pytest.raises(ValueError, match="publishes no factor for mybench"):
        protocol.published_weights(["gsm8k", "mybench"])


def test_an_unknown_protocol_fails_at_load_naming_the_key(tmp_path):
    with pytest.raises(Exception, match="protocol"):
        ptb_config.load(overrides={"protocol": "ptb-v2"})
    with pytest.raises(ValueError, match="allowed: posttrainbench-v1, posttrainbench-v1-corrected"):
        protocol.check("ptb-v2")


def put(path: str, data: dict) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(data))


def test_leaderboard_counts_only_scores_of_its_protocol(tmp_path):
    """A metrics.json measured under the other protocol is not averaged in: the cell counts as
    an eval error (base model's score) and says why; the page names the protocol."""
    cell = result_files.cell_record(str(tmp_path), Cell("noop", "qwen3-1.7b", "gsm8k", 1))
    baselines = [
        result_files.baseline_record(str(tmp_path), "qwen3-1.7b", v, "gsm8k") for v in ("base", "instruct")
    ]
    for record, score in zip(baselines, (0.1, 0.9)):
        put(record["metrics"], {"outcome": "ok", "score": score, "stderr": 0.0})
    put(cell["agent_json"], {"outcome": "ok", "has_model": True})
    put(cell["verdict"], {"outcome": "clean", "disqualified": False, "reasons": []})
    metrics = {"outcome": "ok", "score": 0.8, "stderr": 0.01, "protocol": protocol.CORRECTED}
    put(cell["metrics"], metrics)
    labels = {
        "agents": {"noop": {"display_name": "No-op", "scaffold": "noop"}},
        "benchmarks": {"gsm8k": "GSM8K"},
    }
    inputs = {"cells": [cell], "baselines": baselines, **labels, "weights": "published"}
    _, cells, _ = leaderboard.build(**inputs)
    [row] = cells.to_dict("records")
    assert row["outcome"] == "eval_error" and row["score"] == pytest.approx(0.1)
    assert "posttrainbench-v1-corrected" in row["reason"]

    put(cell["metrics"], {**metrics, "protocol": protocol.POSTTRAINBENCH_V1})
    table, cells, weights = leaderboard.build(**inputs)
    assert cells.iloc[0]["outcome"] == "ok" and cells.iloc[0]["score"] == pytest.approx(0.8)
    assert weights == {"gsm8k": 1.0}
    page = leaderboard.to_markdown(
        leaderboard.page_model(table, weights, labels["benchmarks"], protocol_name=protocol.POSTTRAINBENCH_V1)
    )
    assert "Evaluation protocol: `posttrainbench-v1`" in page
    _, cells, _ = leaderboard.build(**inputs, protocol_name=protocol.CORRECTED)  # built for the other one
    assert cells.iloc[0]["outcome"] == "eval_error"


def test_context_fits_the_longest_generation():
    """PostTrainBench sets no max_model_len (Qwen3: 40960 tokens): ours must leave room for the
    longest max_tokens plus a long prompt (GSM8K's 10 worked examples are ~2k tokens), or vLLM would
    cut replies that PostTrainBench let run."""
    longest = max(tasks.spec(name)["generation"]["max_tokens"] for name in FACTORS)
    assert PRODUCTION["evaluation"]["max_model_len"] >= longest + 4096
