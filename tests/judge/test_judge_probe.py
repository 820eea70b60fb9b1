"""The behavioural contamination probe (ptb/judge/probe.py) on tiny models fine-tuned at test
time: memorised test items are flagged whatever carried them; honest training is not; the
controls it compares with never reach the agent's view."""

import importlib.util
import itertools
import json

import numpy as np
import pytest
from judge_helpers import judge_settings
from transformers import AutoTokenizer

from ptb.core import tasks
from ptb.core.paths import REPO_ROOT
from ptb.inputs.cache import agent_data_view
from ptb.inputs.demo_models import build_tiny_qwen3
from ptb.judge import decide, probe
from ptb.judge.calibration import calibrate

GSM8K = REPO_ROOT / "tasks" / "gsm8k" / "data"
SPEC = importlib.util.spec_from_file_location(
    "probe_cheats", REPO_ROOT / "agents" / "cheat" / "probe_cheats.py"
)
probe_cheats = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(probe_cheats)
STEPS = 150  # enough for the tiny model's MLPs to memorise 40 items; seconds on one core


def probe_settings(**overrides) -> dict:
    """The config's judge.probe section (schema defaults), fewer tokens to keep the tests quick."""
    return {**judge_settings()["probe"], "max_tokens": 128, **overrides}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """The gsm8k fixtures split as the workflow splits them: the agent's view and the controls."""
    root = tmp_path_factory.mktemp("probe_data")
    view, controls = root / "view", root / "controls" / "controls.jsonl"
    agent_data_view(GSM8K, view, controls, control_count=40, seed=0)
    return {
        "test": tasks.read_jsonl(GSM8K / "test.jsonl"),
        "train": tasks.read_jsonl(view / "train.jsonl"),
        "controls": tasks.read_jsonl(controls),
    }


@pytest.fixture(scope="module")
def tuned(tmp_path_factory, data):
    """The base, and fine-tunes of it (chat format: not the probe's plain text) on the test split
    and on the agent's training split, equally hard."""
    root = tmp_path_factory.mktemp("probe_models")
    build_tiny_qwen3(root / "base")
    tokenizer = AutoTokenizer.from_pretrained(root / "base")
    for name, records in (("on_test", data["test"]), ("on_train", data["train"])):
        sequences = probe_cheats.chat_ids(tokenizer, records, "gsm8k")
        probe_cheats.train_on_ids(root / "base", sequences, root / name, steps=STEPS)
    return root


@pytest.fixture(scope="module")
def memorised(tuned, data):
    """The per-item improvements of the test-split fine-tune (computed once; several tests read them)."""
    return probe.improvements(
        tuned / "on_test", tuned / "base", data["test"], data["controls"], "gsm8k", probe_settings()
    )


def test_a_model_trained_on_the_test_items_is_flagged(memorised):
    result = probe.verdict(*memorised, probe_settings())
    assert not result["passed"], result["summary"]
    evidence = result["evidence"]
    assert evidence["n_test"] == 40 and evidence["n_control"] == 40
    assert evidence["p_value"] < 1e-3 and evidence["effect"] >= probe_settings()["min_effect"]
    assert evidence["mean_improvement_test"] > evidence["mean_improvement_control"]


def test_a_model_trained_on_the_training_split_is_clean(tuned, data):
    result = probe.check(
        tuned / "on_train", tuned / "base", data["test"], data["controls"], "gsm8k", probe_settings()
    )
    assert result["passed"], result["summary"]
    # it did learn: both sides improved, by about as much
    assert result["evidence"]["mean_improvement_control"] > 0.2
    assert result["evidence"]["p_value"] > 0.01


def test_the_base_model_itself_is_clean(tuned, data):
    result = probe.check(
        tuned / "base", tuned / "base", data["test"], data["controls"], "gsm8k", probe_settings()
    )
    assert result["passed"]
    assert result["evidence"]["effect"] == 0 and result["evidence"]["p_value"] == 1


def test_the_floors_come_from_the_config(memorised):
    effect = float(memorised[0].mean() - memorised[1].mean())
    # an effect floor above the observed effect: significant, but too small to flag
    assert probe.verdict(*memorised, probe_settings(min_effect=effect + 0.01))["passed"]
    assert not probe.verdict(*memorised, probe_settings(min_effect=effect - 0.01))["passed"]
    # an alpha below the smallest p that many permutations can give never flags
    strict = probe.verdict(*memorised, probe_settings(alpha=1e-5, permutations=1000))
    assert strict["passed"] and strict["evidence"]["smallest_p"] > 1e-5 and "note" in strict["evidence"]


def test_permutation_p_matches_exhaustive_enumeration():
    test, control = np.array([3.0, 2.0, 0.4]), np.array([0.0, 1.0, 0.5, 0.2])
    pooled, observed = np.concatenate([test, control]), test.mean() - control.mean()
    splits = list(itertools.combinations(range(7), 3))
    exact = sum(
        pooled[list(s)].mean() - np.delete(pooled, list(s)).mean() >= observed - 1e-12 for s in splits
    ) / len(splits)
    assert abs(probe.permutation_p(test, control, 20000) - exact) < 0.01
    assert probe.smallest_p(3, 4, 20000) == 1 / 35


def test_a_task_without_controls_is_not_applicable(tuned):
    records = tasks.read_jsonl(REPO_ROOT / "tasks" / "aime2025" / "data" / "test.jsonl")
    result = probe.check(tuned / "base", tuned / "base", records, [], "aime2025", probe_settings())
    assert result["passed"] and result["evidence"]["applicable"] is False
    assert "aime2025" in result["summary"]


def test_no_model_is_no_probe(tuned, tmp_path, data):
    result = probe.check(tmp_path / "absent", tuned / "base", data["test"], data["controls"], "gsm8k", {})
    assert result["passed"] and result["summary"] == "no model to probe"


def test_each_task_gives_a_question_and_its_answer():
    gsm8k = tasks.read_jsonl(GSM8K / "test.jsonl")[0]
    assert probe.item_text("gsm8k", gsm8k) == (gsm8k["question"], gsm8k["answer"])
    humaneval = {"task_id": "x", "prompt": "def f():\n", "canonical_solution": "    return 1\n"}
    assert probe.item_text("humaneval", humaneval) == ("def f():\n", "return 1")
    assert probe.item_text("aime2025", {"problem": "Find x.", "answer": "3"}) == ("", "Find x.")


def test_a_flagged_probe_disqualifies_under_the_default_policy(memorised):
    settings = judge_settings()
    verdict = decide([probe.verdict(*memorised, settings["probe"])], settings["disqualify"], "disqualify")
    assert verdict["disqualified"] and verdict["reasons"][0].startswith("probe:")


def test_the_controls_never_reach_the_agent_view(tmp_path):
    lines = (GSM8K / "train.jsonl").read_text().splitlines()
    view, controls = tmp_path / "view", tmp_path / "held" / "controls.jsonl"
    assert agent_data_view(GSM8K, view, controls, control_count=64, seed=3) == ["train.jsonl"]
    seen = (view / "train.jsonl").read_text().splitlines()
    held = controls.read_text().splitlines()
    assert len(held) == 64 and not set(held) & set(seen)
    assert sorted(held + seen) == sorted(lines)
    assert not controls.is_relative_to(view)
    # seeded: the same slice again; another seed, another slice
    again = agent_data_view(GSM8K, tmp_path / "v2", tmp_path / "c2.jsonl", control_count=64, seed=3)
    assert again and (tmp_path / "c2.jsonl").read_text() == controls.read_text()
    agent_data_view(GSM8K, tmp_path / "v3", tmp_path / "c3.jsonl", control_count=64, seed=4)
    assert (tmp_path / "c3.jsonl").read_text() != controls.read_text()


def test_a_small_split_keeps_at_least_half_and_no_split_gives_no_controls(tmp_path):
    dataset = tmp_path / "dataset"
    dataset.mkdir()
    (dataset / "train.jsonl").write_text("".join(json.dumps({"i": i}) + "\n" for i in range(7)))
    agent_data_view(dataset, tmp_path / "view", tmp_path / "controls.jsonl", control_count=64)
    assert len((tmp_path / "controls.jsonl").read_text().splitlines()) == 3
    assert len((tmp_path / "view" / "train.jsonl").read_text().splitlines()) == 4
    (dataset / "train.jsonl").unlink()
    assert agent_data_view(dataset, tmp_path / "v2", tmp_path / "none.jsonl", control_count=64) == []
    assert (tmp_path / "none.jsonl").read_text() == "" and probe.read_records(tmp_path / "none.jsonl") == []


def test_the_calibration_scores_the_probe_as_a_class(memorised):
    flagged = probe.verdict(*memorised, probe_settings())
    clean = probe.verdict(memorised[1][:20], memorised[1][20:], probe_settings())  # controls vs controls
    assert clean["passed"]
    rows = {
        r["check"]: r
        for r in calibrate(
            [
                ("cheat_probe_token_ids", "probe", {"checks": [flagged], "outcome": "disqualified"}),
                ("cheat_probe_honest_sft", None, {"checks": [clean], "outcome": "clean"}),
            ]
        )
    }
    assert rows["probe"]["recall"] == 1.0 and rows["probe"]["false_positive"] == 0
    assert rows["verdict"]["true_positive"] == 1
