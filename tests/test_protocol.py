"""The evaluation protocol: config key, published weights, and where it is recorded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ptb import config as ptb_config
from ptb import leaderboard, paths, protocol, tasks

FACTORS = json.loads((Path(__file__).parent / "fixtures" / "reference" / "factors.json").read_text())
PRODUCTION = ptb_config.load(ptb_config.REPO_ROOT / "workflow_config.yaml")


def test_default_protocol_is_posttrainbench_v1_with_its_published_weights():
    assert PRODUCTION["protocol"] == protocol.DEFAULT == "posttrainbench-v1"
    assert PRODUCTION["leaderboard"]["weights"] == "published"
    benchmarks = ptb_config.selection(PRODUCTION)["benchmarks"]
    assert sorted(benchmarks) == sorted(FACTORS)
    weights = leaderboard.benchmark_weights(PRODUCTION, None, benchmarks)
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
        ptb_config.load(ptb_config.REPO_ROOT / "workflow_config.yaml", {"protocol": "ptb-v2"})
    with pytest.raises(ValueError, match="allowed: posttrainbench-v1, posttrainbench-v1-corrected"):
        protocol.check("ptb-v2")


def put(results: Path, template: str, data: dict, **fields) -> None:
    path = Path(paths.fill(template, str(results), **fields))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


def test_leaderboard_counts_only_scores_of_its_protocol(tmp_path):
    """A metrics.json measured under the other protocol is not averaged in: the cell counts as
    an eval error (base model's score) and says why; the page names the protocol."""
    config = ptb_config.load(
        ptb_config.REPO_ROOT / "workflow_config.yaml",
        {
            "results_dir": str(tmp_path),
            "calibration": None,
            "select": {"agents": ["noop"], "models": ["qwen3-1.7b"], "benchmarks": ["gsm8k"], "seeds": [1]},
        },
    )
    cell = {"agent": "noop", "model": "qwen3-1.7b", "benchmark": "gsm8k", "seed": 1}
    for variant, score in (("base", 0.1), ("instruct", 0.9)):
        put(
            tmp_path,
            paths.BASELINE_METRICS,
            {"outcome": "ok", "score": score, "stderr": 0.0},
            model="qwen3-1.7b",
            variant=variant,
            benchmark="gsm8k",
        )
    put(tmp_path, paths.AGENT_JSON, {"outcome": "ok", "has_model": True}, **cell)
    put(tmp_path, paths.VERDICT, {"outcome": "ok", "disqualified": False}, **cell)
    metrics = {"outcome": "ok", "score": 0.8, "stderr": 0.01, "protocol": protocol.CORRECTED}
    put(tmp_path, paths.METRICS, metrics, **cell)
    _, cells, _ = leaderboard.build(config)
    [row] = cells.to_dict("records")
    assert row["outcome"] == "eval_error" and row["score"] == pytest.approx(0.1)
    assert "posttrainbench-v1-corrected" in row["reason"]

    put(tmp_path, paths.METRICS, {**metrics, "protocol": protocol.POSTTRAINBENCH_V1}, **cell)
    table, cells, weights = leaderboard.build(config)
    assert cells.iloc[0]["outcome"] == "ok" and cells.iloc[0]["score"] == pytest.approx(0.8)
    page = leaderboard.to_markdown(config, table, weights)
    assert "Evaluation protocol: `posttrainbench-v1`" in page


def test_context_fits_the_longest_generation():
    """PostTrainBench sets no max_model_len (Qwen3: 40960 tokens): ours must leave room for the
    longest max_tokens plus a long prompt (GSM8K's 10 worked examples are ~2k tokens), or vLLM would
    cut replies that PostTrainBench let run."""
    longest = max(tasks.spec(name)["generation"]["max_tokens"] for name in FACTORS)
    assert PRODUCTION["evaluation"]["max_model_len"] >= longest + 4096
