"""Reward profiling: pass@k / majority@k / run-to-run std, reading K-epoch inspect logs, the target."""

from __future__ import annotations

import copy
import itertools
import json
import math
import statistics

import pytest
import yaml
from helpers import REPO, planned_jobs, snakemake
from inspect_ai.log import read_eval_log
from inspect_ai.model import get_model

from ptb.core import outcomes
from ptb.core.config import ConfigError, instruct_models, resolve_section, validate
from ptb.core.tasks import load_task, task_dir
from ptb.evaluation import evaluation, profiling
from ptb.evaluation.scripted_model import scripted

SECTION = resolve_section("profiling", {"repeats": 4, "models": ["a"], "benchmarks": ["gsm8k"]})


def brute_pass_at_k(n: int, c: int, k: int) -> float:
    """P(a random k-subset of n samples, c of them correct, holds a correct one)."""
    samples = [1] * c + [0] * (n - c)
    subsets = list(itertools.combinations(range(n), k))
    return sum(any(samples[i] for i in s) for s in subsets) / len(subsets)


@pytest.mark.parametrize(
    "n, c, k", [(4, 0, 1), (4, 4, 2), (5, 2, 1), (5, 2, 2), (8, 3, 4), (8, 1, 8), (6, 5, 3)]
)
def test_pass_at_k_is_the_unbiased_estimator(n, c, k):
    assert profiling.pass_at_k(n, c, k) == pytest.approx(brute_pass_at_k(n, c, k))
    assert profiling.pass_at_k(n, c, k) == pytest.approx(1 - math.comb(n - c, k) / math.comb(n, k))


def test_ks():
    assert profiling.ks_for(1) == [1]
    assert profiling.ks_for(4) == [1, 2, 4]
    assert profiling.ks_for(8) == [1, 2, 4, 8]
    assert profiling.ks_for(10) == [1, 2, 4, 8, 10]


def runs(values, answers=None):
    answers = answers or [None] * len(values)
    return [{"epoch": e + 1, "value": v, "answer": a} for e, (v, a) in enumerate(zip(values, answers))]


def model_result(items: dict) -> dict:
    return {"outcome": "ok", "repeats": 4, "items": items, "task_version": "1.0.0"}


def test_majority_value_votes_on_answers_and_averages_ties():
    assert profiling.majority_value(runs([1, 0, 0, 1], ["7", "3", "3", "7"])) == 0.5  # tie 7 vs 3
    assert profiling.majority_value(runs([0, 0, 1, 0], ["3", "3", "7", "5"])) == 0.0
    assert profiling.majority_value(runs([1, 1, 0, None], ["7", "7", "3", None])) == 1.0  # failed run ignored
    assert profiling.majority_value(runs([1, 1, 0, 0])) == 0.5  # no answers: pass/fail vote
    assert profiling.majority_value(runs([1, 1, 1, 0])) == 1.0
    assert profiling.majority_value(runs([None, None])) is None


def test_summary_pass_rates_run_std_and_threshold():
    items = {
        "1": runs([1, 1, 1, 1], ["5"] * 4),
        "2": runs([0, 0, 0, 0], ["4"] * 4),
        "3": runs([1, 0, 1, 0], ["9", "8", "9", "8"]),
        "4": runs([1, 1, 0, 1], ["2", "2", "6", "2"]),
    }
    summary = profiling.summarise_model(model_result(items), threshold=0.01)
    run_scores = [3 / 4, 2 / 4, 2 / 4, 2 / 4]
    assert summary["run_scores"] == pytest.approx(run_scores)
    assert summary["run_std"] == pytest.approx(statistics.stdev(run_scores))
    assert summary["std_under_threshold"] is False
    assert summary["pass@1"] == pytest.approx((1 + 0 + 0.5 + 0.75) / 4)
    expected_k2 = statistics.fmean(profiling.pass_at_k(4, c, 2) for c in (4, 0, 2, 3))
    assert summary["pass@2"] == pytest.approx(expected_k2)
    assert summary["pass@4"] == pytest.approx(3 / 4)
    assert summary["majority@4"] == pytest.approx((1 + 0 + 0.5 + 1) / 4)
    assert summary["items"]["3"]["pass_rate"] == 0.5
    same = {"1": runs([1, 0, 1, 0]), "2": runs([0, 1, 0, 1])}  # the same mean in every run: std 0
    flat = profiling.summarise_model(model_result(same), threshold=0.01)
    assert flat["run_std"] == 0 and flat["std_under_threshold"] is True


def test_profile_lists_items_every_model_fails_or_passes_and_renders(tmp_path):
    a = model_result(
        {"1": runs([1, 1, 1, 1]), "2": runs([0, 0, 0, 0]), "3": runs([1, 0, 0, 0]), "4": runs([0, 0, 0, 0])}
    )
    b = model_result(
        {"1": runs([1, 1, 1, 1]), "2": runs([0, 0, 0, 0]), "3": runs([0, 0, 0, 0]), "4": runs([1, 1, 1, 1])}
    )
    broken = {"outcome": "eval_error", "reason": "FileNotFoundError: no config.json"}
    profile = profiling.aggregate(
        "gsm8k",
        {"a/base": a, "b/instruct": b, "c/base": broken},
        {**SECTION, "variance_threshold": 0.5},
        limit=4,
    )
    assert profile["always_fail"] == ["2"] and profile["always_pass"] == ["1"]
    assert profile["models"]["c/base"]["outcome"] == "eval_error"
    assert profile["std_under_threshold"] is True and profile["over_threshold"] == []
    files = {}
    for label, result in {"a/base": a, "b/instruct": b}.items():
        path = tmp_path / f"{label.replace('/', '-')}.json"
        path.write_text(json.dumps(result))
        files[label] = path
    written = profiling.write(
        "gsm8k", files, SECTION, tmp_path / "profile.json", tmp_path / "profile.md", limit=4
    )
    md = (tmp_path / "profile.md").read_text()
    assert written["std_under_threshold"] is False and written["over_threshold"] == ["a/base"]
    assert "Run-to-run std is over the 1.0% threshold for: a/base" in md
    assert "Items every model always fails (1/4): `2`" in md
    assert "Items every model always passes (1/4): `1`" in md
    assert "| `3` | 1/4 | 0/4 |" in md


def test_a_profile_runs_the_evaluation_path_k_times_per_item_with_sampling(tmp_path, monkeypatch):
    """A real inspect eval through ptb.evaluation.evaluation with epochs=K on a scripted model: one value and
    answer per repeat, the temperature of the profile, no per-request seed."""
    calls, built = {}, []

    def answer(prompt: str) -> str:  # item-dependent, alternating across repeats
        calls[prompt] = calls.get(prompt, 0) + 1
        return "ANSWER: 37" if calls[prompt] % 2 else "ANSWER: 1"

    def model_for(provider, model_path, family, benchmark, settings, sampling=None, *protocol_and_greedy):
        built.append((settings, sampling))
        return scripted(answer)

    monkeypatch.setattr(evaluation, "model_for", model_for)
    (tmp_path / "config.json").write_text("{}")
    section = {**SECTION, "temperature": 0.9, "top_p": 0.95, "max_tokens": 64}
    result = profiling.run_model(
        model_path=str(tmp_path),
        family="qwen3",
        benchmark="gsm8k",
        data_dir=str(task_dir("gsm8k") / "data"),
        log_dir=str(tmp_path / "logs"),
        evaluation=resolve_section("evaluation", {"provider": "hf", "epochs": 1}),
        section=section,
        limit=2,
        task_args={"fewshot": 0},
    )
    assert result["outcome"] == outcomes.OK and result["repeats"] == 4
    [(settings, sampling)] = built
    assert settings["epochs"] == 4 and sampling is section  # hf samples, seeded with profiling.seed
    generation = result["generation"]
    assert (generation["temperature"], generation["top_p"], generation["max_tokens"]) == (0.9, 0.95, 64)
    assert "seed" not in generation
    log = read_eval_log(result["log_file"])
    assert {e.config.seed for s in log.samples for e in s.events if e.event == "model"} == {None}
    items = result["items"]
    first, second = [s.id for s in load_task("gsm8k", task_dir("gsm8k") / "data", fewshot=0, limit=2).dataset]
    assert sorted(items) == sorted([first, second]) and all(len(r) == 4 for r in items.values())
    assert [r["epoch"] for r in items[first]] == [1, 2, 3, 4]
    assert sorted(r["answer"] for r in items[first]) == ["1", "1", "37", "37"]
    assert result["samples_scored"] == 2 and result["samples_failed"] == 0
    summary = profiling.summarise_model({"outcome": outcomes.OK, "repeats": 4, "items": items}, 0.01)
    assert summary["items"][first]["passes"] == 2  # item 1's answer is 37
    assert summary["items"][second]["passes"] == 0


def test_a_profile_whose_every_repeat_failed_is_an_eval_error(tmp_path, monkeypatch):
    def broken():
        raise RuntimeError("the server rejected the request")
        yield  # a generator: the error comes at generation time

    monkeypatch.setattr(
        evaluation, "model_for", lambda *a, **k: get_model("mockllm/model", custom_outputs=broken())
    )
    (tmp_path / "config.json").write_text("{}")
    result = profiling.run_model(
        model_path=str(tmp_path),
        family="qwen3",
        benchmark="gsm8k",
        data_dir=str(task_dir("gsm8k") / "data"),
        log_dir=str(tmp_path / "logs"),
        evaluation=resolve_section("evaluation", {"provider": "hf"}),
        section=SECTION,
        limit=2,
        task_args={"fewshot": 0},
    )
    assert result["outcome"] == outcomes.EVAL_ERROR and "all 8 samples failed" in result["reason"]
    assert profiling.summarise_model(result, 0.01)["outcome"] == outcomes.EVAL_ERROR


def merged(base: dict, over: dict) -> dict:
    """over merged into base as snakemake merges config files (recursively for mappings)."""
    out = dict(base)
    for key, value in over.items():
        out[key] = (
            merged(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
        )
    return out


def demo_config() -> dict:
    return merged(
        yaml.safe_load((REPO / "workflow_config.yaml").read_text()),
        yaml.safe_load((REPO / "config" / "demo.yaml").read_text()),
    )


def targets_of(config: dict) -> list[tuple[str, str, str]]:
    """What rules/profiling.smk asks for."""
    return profiling.targets(
        config["profiling"], list(config["models"]), list(config["benchmarks"]), instruct_models(config)
    )


def test_targets_check_names_and_skip_missing_instruct_models():
    production = yaml.safe_load((REPO / "workflow_config.yaml").read_text())
    validate(production)
    targets = targets_of(production)
    assert ("gsm8k", "qwen3-1.7b", "instruct") in targets and ("gsm8k", "qwen3-1.7b", "base") in targets
    demo = demo_config()
    validate(demo)
    assert all(v == "base" for _, _, v in targets_of(demo))
    bad = copy.deepcopy(production)
    bad["profiling"]["models"] = ["qwen3-1.7b", "nope"]
    with pytest.raises(profiling.ProfilingError, match="profiling.models.*'nope'"):
        targets_of(bad)
    bad = copy.deepcopy(production)
    bad["profiling"]["repeats"] = 1
    with pytest.raises(ConfigError, match="profiling.repeats"):
        validate(bad)


def test_profiling_target_runs_only_cache_and_profile_jobs(tmp_path):
    proc = snakemake(
        "--profile",
        "profiles/demo",
        "-n",
        "--quiet",
        "rules",
        "--config",
        f"results_dir={tmp_path}",
        "--",
        "profiling",
    )
    jobs = planned_jobs(proc)
    demo = demo_config()["profiling"]
    assert jobs["profile_model"] == len(demo["models"]) * len(demo["benchmarks"])
    assert jobs["profile_task"] == len(demo["benchmarks"]) and jobs["profiling"] == 1
    assert not {"agent_run", "judge", "evaluate", "baseline", "leaderboard"} & set(jobs)
    everything = planned_jobs(
        snakemake(
            "--profile", "profiles/demo", "-n", "--quiet", "rules", "--config", f"results_dir={tmp_path}"
        )
    )
    assert "profile_model" not in everything and "profiling" not in everything


def test_profiling_and_evaluation_read_the_rule_params_alike(tmp_path, monkeypatch):
    """One reading of a rule's params (evaluation.rule_arguments): a profile is measured under the
    configured protocol, limit and task args as the evaluation is (it once ran the default protocol)."""
    calls = []
    monkeypatch.setattr(evaluation, "evaluate", lambda **kw: calls.append(kw) or {"outcome": outcomes.OK})
    (tmp_path / "model").mkdir()
    model_json = tmp_path / "model.json"
    model_json.write_text(json.dumps({"path": str(tmp_path / "model")}))
    settings = {
        "protocol": "posttrainbench-v1-corrected",
        "evaluation": {"provider": "hf", "epochs": 1},
        "limit": 3,
        "task_args": {"fewshot": 0},
    }
    common = dict(model_json=str(model_json), dataset_dir="d", benchmark="gsm8k", family="qwen3")
    evaluation.evaluate_job(
        agent_json=None, settings=settings, throughput={"max_connections": 2}, log_dir="l", **common
    )
    profiling.profile_job(
        settings={**settings, "profiling": SECTION}, throughput={"max_connections": 2}, log_dir="l", **common
    )
    evaluated, profiled = calls
    for key in ("protocol", "limit", "task_args"):
        assert evaluated[key] == profiled[key] == settings[key]
    assert evaluated["evaluation"] == {"provider": "hf", "epochs": 1, "max_connections": 2}
    assert profiled["evaluation"] == {**evaluated["evaluation"], "epochs": SECTION["repeats"]}
