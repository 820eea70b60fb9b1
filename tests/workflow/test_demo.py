"""The embedded demo end to end: agent runs, judge, evaluation, leaderboard (offline, CPU).

Runs the real pipeline once (`make demo` in a copy of the checkout, several minutes on 2 cores);
the tests below read what it produced.
"""

import json
import re
import runpy
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from helpers import REPO, SNAKEMAKE, checkout_env

from ptb.core import io
from ptb.evaluation import eval_store
from ptb.evaluation.evaluation import sample_values

pytestmark = pytest.mark.demo
# the noise check benchmarks/demo_time.py prints for a demo it runs
mcnemar_p = runpy.run_path(str(REPO / "benchmarks" / "demo_time.py"))["mcnemar_p"]

AGENTS = ("noop", "sft")
MODELS = ("smollm2-135m", "tiny-qwen3")
BENCHMARKS = ("gsm8k", "humaneval")


@pytest.fixture(scope="module")
def demo(demo_checkout) -> Path:
    """The results of `make demo` (tests/workflow/conftest.py)."""
    return demo_checkout / "results" / "demo"


def cells():
    for agent in AGENTS:
        for model in MODELS:
            for bench in BENCHMARKS:
                yield agent, model, bench


def read(path: Path) -> dict:
    """A result file, its recorded paths (metrics.json's) absolute."""
    return io.resolve_paths(json.loads(path.read_text()), eval_store.METRICS_PATH_KEYS, path)


def test_leaderboard_has_a_row_per_agent_and_the_base_baseline(demo):
    table = pd.read_csv(demo / "leaderboard" / "leaderboard.csv")
    assert set(table["agent"]) == {"No-op (base model)", "Reference SFT (TRL)", "Base model (zero-shot)"}
    assert (demo / "leaderboard" / "leaderboard.md").read_text().count("| ") > 3
    sft = table.set_index("agent").loc["Reference SFT (TRL)"]
    noop = table.set_index("agent").loc["No-op (base model)"]
    assert sft["avg"] > noop["avg"], "post-training should raise the score"
    assert sft["ok"] == noop["ok"] == len(MODELS) * len(BENCHMARKS)


def test_sft_gains_on_smollm2_gsm8k_beyond_the_noise(demo):
    """On the 40 GSM8K items the SFT run gets 15 right to the base model's 6 (12 steps of 8 on the
    top 9 layers, CPU; config/demo.yaml), 9 of them right for SFT only and none for the base only:
    the gain is beyond the noise (exact McNemar p < 0.05 on the items the two disagree on; 13 of
    the top 6 layers, 9 vs 2, p = 0.065, was not). The run trains every step however busy the
    machine (test_reference_sft_ends_by_finishing), so the gain does not depend on the load."""
    from inspect_ai.log import read_eval_log  # noqa: PLC0415 (heavy, optional)

    def correct(agent):
        metrics = read(demo / "eval" / agent / "smollm2-135m" / "gsm8k" / "seed1" / "metrics.json")
        log = read_eval_log(metrics["log_file"])
        return {s.id: next(iter(s.scores.values())).value == "C" for s in log.samples}

    sft, base = correct("sft"), correct("noop")
    assert sft.keys() == base.keys() and len(sft) == 40
    assert sum(sft.values()) - sum(base.values()) >= 5, (sum(sft.values()), sum(base.values()))
    sft_only = sum(sft[i] and not base[i] for i in sft)
    base_only = sum(base[i] and not sft[i] for i in sft)
    assert mcnemar_p(sft_only, base_only) < 0.05, (sft_only, base_only)


def test_mcnemar_p_matches_the_exact_binomial_test():
    """The noise check above: two-sided exact McNemar, the discordant items as fair coin flips."""
    assert mcnemar_p(9, 2) == pytest.approx(0.0654, abs=1e-4)
    assert mcnemar_p(9, 0) == pytest.approx(2 / 2**9)
    assert mcnemar_p(0, 9) == mcnemar_p(9, 0)
    assert mcnemar_p(5, 5) == 1.0
    assert mcnemar_p(0, 0) == 1.0


def test_reference_sft_ends_by_finishing(demo):
    """Each SFT run trains all its planned steps and saves before the budget: a run the clock cut
    short (2 of 12 steps on a busy machine, once) scores as the base model, and the demo's ranking
    then depends on the load."""
    for model in MODELS:
        for bench in BENCHMARKS:
            run = demo / "runs" / "sft" / model / bench / "seed1"
            log = (run / "agent.log").read_text()
            done = re.search(r"sft: trained (\d+) of (\d+) steps", log)
            assert done and done[1] == done[2], (model, bench, log[-2000:])
            assert "stopping early" not in log
            agent = json.loads((run / "agent.json").read_text())
            assert agent["outcome"] == "ok" and not agent["timed_out"], (model, bench, agent)


def test_scores_come_from_inspect_logs(demo):
    from inspect_ai.log import read_eval_log  # noqa: PLC0415 (heavy, optional)

    for agent, model, bench in cells():
        metrics = read(demo / "eval" / agent / model / bench / "seed1" / "metrics.json")
        assert metrics["outcome"] == "ok", metrics
        log = read_eval_log(metrics["log_file"])
        # each cell's own log, a reused evaluation's too (the no-op's): inspect view finds it by agent
        assert Path(metrics["log_file"]).parent == demo / "eval" / agent / model / bench / "seed1" / "logs"
        assert log.eval.metadata["agent"] == agent and f"agent={agent}" in log.eval.tags
        values = sample_values(log)
        assert metrics["score"] == pytest.approx(sum(values) / len(values))
        assert metrics["samples_scored"] == len(values) > 0
        assert metrics["ci95"][0] <= metrics["score"] <= metrics["ci95"][1]
        assert log.eval.task_version == metrics["task_version"]
        assert metrics["software"]["packages"]["inspect-ai"] == log.eval.packages["inspect_ai"]
        assert metrics["timing"]["eval_s"] > 0


def test_baselines_exist_for_each_model_and_benchmark(demo):
    for model in MODELS:
        for bench in BENCHMARKS:
            metrics = read(demo / "baselines" / model / "base" / bench / "metrics.json")
            assert metrics["outcome"] == "ok" and metrics["samples_scored"] > 0
            # the demo's CPU cap (config/demo.yaml evaluation.max_tokens), recorded with the score
            assert metrics["max_tokens_cap"] == metrics["generation"]["max_tokens"] == 256


def test_manifest_records_provenance(demo):
    run = demo / "runs" / "sft" / "smollm2-135m" / "gsm8k" / "seed1"
    manifest = read(run / "manifest.json")
    assert manifest["cell"] == {"agent": "sft", "model": "smollm2-135m", "benchmark": "gsm8k", "seed": 1}
    assert manifest["config"]["agent"]["scaffold"] == "sft"
    assert manifest["software"]["packages"]["inspect-ai"] and manifest["software"]["packages"]["torch"]
    assert "workflow_commit" in manifest["software"]
    assert manifest["prompt_sha256"] == manifest["handout"]["prompt.md"]
    assert any(name.endswith(".safetensors") for name in manifest["final_model_files"])
    assert manifest["outcome"] == "ok"
    assert manifest["base_model"]["files"]


def test_sft_changed_the_weights_and_noop_did_not(demo):
    def weights(agent):
        return read(demo / "runs" / agent / "smollm2-135m" / "gsm8k" / "seed1" / "manifest.json")

    sft, noop = weights("sft"), weights("noop")
    base = {k: v for k, v in noop["base_model"]["files"].items() if k.endswith(".safetensors")}
    assert {k: v for k, v in noop["final_model_files"].items() if k.endswith(".safetensors")} == base
    assert {k: v for k, v in sft["final_model_files"].items() if k.endswith(".safetensors")} != base


def test_clean_agents_pass_every_judge_check(demo):
    for agent, model, bench in cells():
        verdict = read(demo / "judge" / agent / model / bench / "seed1" / "verdict.json")
        assert {c["name"] for c in verdict["checks"]} >= {
            "tamper",
            "model_identity",
            "contamination",
            "secrets",
        }
        assert verdict["outcome"] == "clean", (agent, model, bench, verdict["reasons"])


def test_judge_catches_each_planted_cheat_with_the_right_check(demo):
    expected = {
        "cheat_contaminate": "contamination",
        "cheat_contaminate_archive": "contamination",
        "cheat_contaminate_hf_cache": "contamination",
        "cheat_substitute": "model_identity",
        "cheat_merge_55_45": "model_identity",
        "cheat_index_decoy": "model_identity",
        "cheat_tamper": "tamper",
    }
    for agent, check in expected.items():
        # the calibration model: tiny-qwen3 with an instruct twin (config/demo.yaml)
        verdict = read(demo / "judge" / agent / "tiny-qwen3-judge" / "gsm8k" / "seed1" / "verdict.json")
        assert verdict["disqualified"], agent
        failed = {c["name"] for c in verdict["checks"] if not c["passed"]}
        assert check in failed, (agent, failed)
    table = pd.read_csv(demo / "judge" / "calibration.csv").set_index("check")
    assert table.loc["verdict", "recall"] == 1.0 and table.loc["verdict", "false_positive"] == 0
    for check in expected.values():
        assert table.loc[check, "recall"] == 1.0 and table.loc[check, "false_positive"] == 0


def test_charts_are_rendered(demo):
    charts = demo / "leaderboard" / "charts"
    for name in ("ranking", "heatmap", "time", "outcomes"):
        png = charts / f"{name}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 2000
        assert (charts / f"{name}.svg").exists() and (charts / f"{name}.html").exists()
    assert (demo / "leaderboard" / "leaderboard.html").stat().st_size > 1000


def test_a_finished_demo_has_nothing_left_to_do(demo_checkout):
    proc = subprocess.run(
        [SNAKEMAKE, "--profile", "profiles/demo", "-n"],
        cwd=demo_checkout,
        env=checkout_env(demo_checkout),
        capture_output=True,
        text=True,
        check=True,
    )
    assert "Nothing to be done" in proc.stdout + proc.stderr
