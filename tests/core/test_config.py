"""Config validation: bad input fails at load time with a message naming the key."""

import pytest
import yaml
from helpers import REPO, planned_jobs, snakemake

from ptb.core import config as ptb_config


def error_for(cfg) -> str:
    with pytest.raises(ptb_config.ConfigError) as caught:
        ptb_config.validate(cfg)
    return str(caught.value)


def test_production_config_is_valid(production):
    ptb_config.validate(production)


def test_misspelled_top_level_key_is_named(production):
    production["bugdet"] = production.pop("budget")
    message = error_for(production)
    assert "'bugdet'" in message and "budget" in message


def test_misspelled_key_inside_registry_names_path_and_allowed(production):
    production["agents"]["claude-opus-4.6"]["modle"] = "x"
    message = error_for(production)
    assert "agents.claude-opus-4.6.modle" in message
    assert "scaffold" in message and "llm" in message


def test_unknown_benchmark_in_grid(production):
    production["grid"]["benchmarks"].append("mmlu")
    message = error_for(production)
    assert "grid.benchmarks" in message and "'mmlu'" in message and "gsm8k" in message


def test_negative_budget(production):
    production["budget"]["hours"] = -1
    message = error_for(production)
    assert "budget.hours" in message


def test_unknown_model_family(production):
    production["models"]["qwen3-4b"]["family"] = "llama"
    message = error_for(production)
    assert "models.qwen3-4b.family" in message and "'qwen3'" in message


def test_unknown_subset(production):
    production["subset"] = "nope"
    assert "subset" in error_for(production) and "smoke" in error_for(production)


def test_schema_defaults_are_filled(production):
    del production["budget"]["grace_seconds"]
    ptb_config.validate(production)
    assert production["budget"]["grace_seconds"] == 300


def test_snakemake_refuses_a_bad_config_before_any_job(tmp_path):
    proc = snakemake("-n", "--config", "budget={hours: -2}", check=False)
    assert proc.returncode != 0
    assert "budget.hours" in proc.stdout + proc.stderr


def test_models_not_pinned_to_a_commit_are_named(production):
    ptb_config.validate(production)
    assert len(ptb_config.unpinned_models(production)) == 8
    production["models"]["qwen3-4b"]["base"]["revision"] = "0" * 40
    unpinned = ptb_config.unpinned_models(production)
    assert len(unpinned) == 7 and not any(u.startswith("models.qwen3-4b.base") for u in unpinned)


def test_vllm_server_flags_cannot_move_the_server_off_localhost(production):
    production["evaluation"]["server_args"] = {"host": "0.0.0.0"}
    message = error_for(production)
    assert "evaluation.server_args" in message and "'host' is set by the workflow" in message


def test_a_context_shorter_than_a_tasks_generation_is_refused_at_load(production):
    production["evaluation"]["max_model_len"] = 8192  # aime2025 and gpqamain generate up to 14,336 tokens
    message = error_for(production)
    assert "evaluation.max_model_len" in message and "aime2025" in message
    production["grid"]["benchmarks"] = ["gsm8k", "humaneval"]  # only what runs is checked
    ptb_config.validate(production)


# -- names, ids and empty axes (they become paths or break the leaderboard) -----------


@pytest.mark.parametrize(
    "plant",
    [
        lambda c: c["agents"].update({"..": {"scaffold": "noop"}}),
        lambda c: c["models"].update({"a/b": c["models"]["qwen3-4b"]}),
        lambda c: c["calibration"]["expected"].update({"..": None}),
        lambda c: c["benchmarks"].update({"x..y": {}}),
    ],
    ids=["agent-dotdot", "model-slash", "calibration-dotdot", "benchmark-dotdot"],
)
def test_names_that_would_escape_results_are_refused(production, plant):
    plant(production)
    message = error_for(production)
    assert "is not allowed" in message and "no '..'" in message


def test_hub_ids_are_repo_ids(production):
    production["models"]["qwen3-4b"]["base"]["hf_id"] = "../../etc"
    message = error_for(production)
    assert "models.qwen3-4b.base.hf_id" in message and "'../../etc'" in message


def test_a_hub_model_needs_an_id(production):
    del production["models"]["qwen3-4b"]["instruct"]["hf_id"]
    message = error_for(production)
    assert "models.qwen3-4b.instruct" in message and "hf_id" in message


@pytest.mark.parametrize(
    "narrow, key",
    [
        ({"grid": {"agents": []}}, "grid.agents"),
        ({"select": {"seeds": []}}, "select.seeds"),
        ({"subsets": {"none": {"benchmarks": []}}, "subset": "none"}, "subsets.none.benchmarks"),
    ],
)
def test_an_axis_with_nothing_left_is_refused(production, narrow, key):
    for section, value in narrow.items():
        if isinstance(value, dict) and isinstance(production.get(section), dict):
            production[section].update(value)
        else:
            production[section] = value
    message = error_for(production)
    assert repr(key) in message and "no cell" in message


def test_an_empty_calibration_list_is_refused(production):
    production["calibration"]["models"] = []
    assert "calibration.models" in error_for(production)


# -- the files themselves ---------------------------------------------------------------


def test_a_duplicated_key_names_file_and_both_lines(tmp_path):
    path = tmp_path / "twice.yaml"
    path.write_text("budget:\n  hours: 1\n  grace_seconds: 5\n  hours: 2\n")
    with pytest.raises(ptb_config.ConfigError) as caught:
        ptb_config.read_file(path)
    message = str(caught.value)
    assert str(path) in message and "line 4" in message and "line 2" in message and "'hours'" in message


def test_a_yaml_syntax_error_names_file_and_line(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("budget:\n  hours: 1\ngrid: {agents: [noop\n")
    with pytest.raises(ptb_config.ConfigError) as caught:
        ptb_config.read_file(path)
    assert str(path) in str(caught.value) and "line 4" in str(caught.value)


def test_the_workflow_refuses_a_duplicated_key_before_any_job(tmp_path):
    extra = tmp_path / "extra.yaml"
    extra.write_text("budget:\n  hours: 1\n  hours: 2\n")
    proc = snakemake("-n", "--configfile", "workflow_config.yaml", str(extra), check=False)
    assert proc.returncode != 0
    assert f"config file {extra}, line 3" in proc.stdout + proc.stderr


def test_the_demo_profile_keeps_its_config_under_an_extra_configfile(tmp_path):
    """`--profile profiles/demo --configfile X` is the demo with X merged over it, never the
    production grid with X (a profile's `configfile:` list would be replaced)."""
    extra = tmp_path / "two-seeds.yaml"
    extra.write_text("grid: {seeds: [1, 2]}\ncalibration: null\n")
    proc = snakemake("--profile", "profiles/demo", "-n", "--quiet", "rules", "--configfile", str(extra))
    jobs = planned_jobs(proc)
    assert jobs["agent_run"] == 2 * 2 * 2 * 2, "the demo grid (2 agents, models, benchmarks), X's 2 seeds"
    assert "judge_calibration" not in jobs


def test_the_unpinned_warning_names_only_the_models_in_play(capsys):
    """The production grid's hub models are unpinned (a branch): say so for it, not for the demo,
    whose models are built locally."""
    production = yaml.safe_load((REPO / "workflow_config.yaml").read_text())
    ptb_config.validate(production)
    assert "not pinned to a commit" in capsys.readouterr().err
    demo = ptb_config.merge(
        yaml.safe_load((REPO / "workflow_config.yaml").read_text()),
        yaml.safe_load((REPO / "config" / "demo.yaml").read_text()),
    )
    ptb_config.validate(demo)
    assert "not pinned" not in capsys.readouterr().err
