"""Configs a careless user writes: refused at load naming the key, or warned about (issue 32)."""

import pytest
from helpers import snakemake
from test_config import error_for

from ptb.core import config as ptb_config
from ptb.core import faults, tasks

# -- where every output goes ------------------------------------------------------------


@pytest.mark.parametrize("results", ["", "  ", "/", "//", "/tmp/..", "/./", "results\n"])
def test_an_empty_or_root_results_dir_is_refused(production, results):
    production["results_dir"] = results
    message = error_for(production)
    assert "'results_dir'" in message and repr(results) in message


def test_a_results_dir_under_the_root_is_fine(production):
    production["results_dir"] = "/tmp/ptb-results"
    ptb_config.validate(production)


# -- names and ids: folders and hub ids, so no control character, no trailing newline --------


@pytest.mark.parametrize(
    "plant, key",
    [
        (lambda c: c["agents"].update({"noop\n": {"scaffold": "noop"}}), "agents"),
        (lambda c: c["models"].update({"tiny\tqwen3": c["models"]["qwen3-4b"]}), "models"),
        (lambda c: c["benchmarks"].update({"gsm8k\n": {}}), "benchmarks"),
        (lambda c: c["grid"]["agents"].append("noop\n"), "grid.agents.4"),
        (lambda c: c["select"].update({"models": ["qwen3-4b\n"]}), "select.models.0"),
        (lambda c: c["calibration"]["expected"].update({"noop\n": None}), "calibration.expected"),
        (lambda c: c["models"]["qwen3-4b"]["base"].update({"hf_id": "Qwen/Qwen3-4B-Base\n"}), "hf_id"),
        (lambda c: c["models"]["qwen3-4b"]["base"].update({"revision": "main\n"}), "revision"),
        (lambda c: c["agents"]["noop"].update({"scaffold": "noop\n"}), "agents.noop.scaffold"),
        (lambda c: c["agents"]["noop"].update({"env": ["KEY\n"]}), "agents.noop.env.0"),
        (lambda c: c["agents"]["noop"].update({"display_name": "No-op\r"}), "agents.noop.display_name"),
        (lambda c: c["benchmarks"]["gsm8k"].update({"display_name": "GSM\x1b[2J"}), "display_name"),
    ],
    ids=[
        "agent",
        "model-tab",
        "benchmark",
        "grid",
        "select",
        "calibration",
        "hf_id",
        "revision",
        "scaffold",
        "env",
        "agent-display",
        "benchmark-escape",
    ],
)
def test_a_control_character_in_a_name_or_id_is_refused(production, plant, key):
    plant(production)
    assert key in error_for(production)


def test_a_name_too_long_for_a_folder_is_refused_and_100_characters_load(production):
    """A 300-character agent name crashed the run after the cache stage (a path component holds
    at most 255 bytes; the audit page adds '.html'): refused at load, at most 100 characters."""
    for length, refused in ((300, True), (101, True), (100, False)):
        config = {**production, "agents": dict(production["agents"]), "grid": dict(production["grid"])}
        name = "a" * length
        config["agents"][name] = {"scaffold": "noop"}
        config["grid"]["agents"] = [name]
        if refused:
            message = error_for(config)
            assert "agents" in message and "at most 100 characters" in message
        else:
            ptb_config.validate(config)


def test_a_long_hf_id_is_refused(production):
    production["models"]["qwen3-4b"]["base"]["hf_id"] = "Qwen/" + "q" * 250
    assert "models.qwen3-4b.base.hf_id" in error_for(production)


# -- numbers: NaN and infinity pass every minimum, so they are refused wherever they are ------


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
@pytest.mark.parametrize(
    "section, key",
    [("budget", "hours"), ("budget", "grace_seconds"), ("evaluation", "gpu_memory_utilization")],
)
def test_a_non_finite_number_is_refused_naming_the_key(production, section, key, value):
    production[section][key] = value
    message = error_for(production)
    assert f"'{section}.{key}'" in message and "not a finite number" in message


def test_nan_from_yaml_and_from_the_command_line_is_refused(tmp_path):
    path = tmp_path / "nan.yaml"
    path.write_text("budget:\n  hours: .nan\n")
    with pytest.raises(ptb_config.ConfigError, match="'budget.hours' = nan"):
        ptb_config.load([path])
    with pytest.raises(ptb_config.ConfigError, match=r"'prices.m.input' = inf"):
        ptb_config.load(overrides={"prices": {"m": {"input": "inf", "output": 1}}})


def test_a_section_resolved_without_the_workflow_refuses_nan_too():
    """The agent-facing evaluate.py resolves its `evaluation` section alone (resolve_section)."""
    with pytest.raises(ptb_config.ConfigError, match="'evaluation.gpu_memory_utilization' = nan"):
        ptb_config.resolve_section("evaluation", {"provider": "hf", "gpu_memory_utilization": float("nan")})


# -- seeds: the SFT agent seeds numpy and torch with them (32 bits) ---------------------------


def test_a_seed_past_32_bits_is_refused(production):
    production["grid"]["seeds"] = [1, 2**32]
    assert "grid.seeds.1" in error_for(production)
    production["grid"]["seeds"] = [2**32 - 1]
    production["calibration"]["seeds"] = [2**40]
    assert "calibration.seeds.0" in error_for(production)
    production["calibration"]["seeds"] = [1]
    ptb_config.validate(production)


# -- leaderboard weights: refused at load, not after every run -------------------------------


@pytest.mark.parametrize(
    "weights, words",
    [
        ({"gsm8k": float("nan")}, "not a finite number"),
        ({"gsm8k": -1.0, "humaneval": 2.0}, "minimum"),
        ({"gsm8k": 0.0, "humaneval": 0}, "sum to 0"),
        ({"gsm8k": 1.0}, "'humaneval'"),
        ({"gsm8k": 1.0, "humaneval": 1.0, "gsm8K": 1.0}, "unknown benchmark(s) 'gsm8K'"),
    ],
    ids=["nan", "negative", "zero-sum", "missing", "unknown"],
)
def test_bad_pinned_weights_are_refused_at_load(production, weights, words):
    production["grid"]["benchmarks"] = ["gsm8k", "humaneval"]
    production["leaderboard"]["weights"] = weights
    message = error_for(production)
    assert "leaderboard.weights" in message and words in message


def test_weights_zero_on_every_selected_benchmark_are_refused(production):
    production["grid"]["benchmarks"] = ["gsm8k", "humaneval"]
    production["leaderboard"]["weights"] = {"gsm8k": 0, "humaneval": 1}
    ptb_config.validate(production)
    production["select"] = {"benchmarks": ["gsm8k"]}
    assert "sum to 0" in error_for(production)


# -- select narrows; widening the grid is said (a documented use: a new agent tried alone) ------


@pytest.mark.parametrize(
    "select, named",
    [
        ({"agents": ["noop"]}, "'select.agents' names 'noop'"),  # registered, but not in the grid
        ({"models": ["qwen3-1.7b", "tiny-qwen3"]}, "'select.models' names 'tiny-qwen3'"),
        ({"benchmarks": ["gsm8k"], "seeds": [1, 7]}, "'select.seeds' names 7"),
    ],
)
def test_select_outside_the_grid_is_named(production, capsys, select, named):
    production["models"]["tiny-qwen3"] = {"family": "qwen3", "base": {"source": "tiny_qwen3"}}
    production["select"] = select
    ptb_config.validate(production)
    err = capsys.readouterr().err
    assert named in err and "widens the sweep" in err
    production["select"] = {"agents": ["codex-gpt-5.3"], "seeds": [2]}
    ptb_config.validate(production)
    assert "widens" not in capsys.readouterr().err


def test_select_outside_the_named_subset_is_named(production, capsys):
    production["subset"] = "smoke"
    production["select"] = {"models": ["qwen3-4b"]}  # in the grid, not in the smoke subset
    ptb_config.validate(production)
    assert "not in the grid narrowed by subsets.smoke" in capsys.readouterr().err


# -- task_args: every evaluation of the benchmark would fail on them ---------------------------


def test_task_args_the_task_does_not_take_are_refused(production):
    production["benchmarks"]["gsm8k"]["task_args"] = {"fewshots": 3}
    message = error_for(production)
    assert "'benchmarks.gsm8k.task_args.fewshots'" in message and "fewshot" in message
    production["benchmarks"]["gsm8k"]["task_args"] = {"limit": 3}  # the workflow sets it
    assert "set by the workflow" in error_for(production)
    production["benchmarks"]["gsm8k"]["task_args"] = {"fewshot": 3}
    ptb_config.validate(production)
    production["grid"]["benchmarks"] = ["humaneval"]  # gsm8k still runs: the judge's calibration
    production["benchmarks"]["gsm8k"]["task_args"] = {"shots": 3}
    assert "'benchmarks.gsm8k.task_args.shots'" in error_for(production)


def test_task_args_that_reach_an_evaluation_anyway_fail_the_job_not_the_model():
    """Past the loader (a config edited under a running sweep): the evaluation's job fails as an
    infrastructure failure, to be retried, never `eval_error` scored as the base model."""
    with pytest.raises(faults.InfraFailure, match=r"benchmarks.gsm8k.task_args: 'fewshots' not taken"):
        tasks.load_task("gsm8k", tasks.task_dir("gsm8k") / "data", fewshots=3)


# -- warnings: duplicates and unset keys ------------------------------------------------------


def test_a_duplicate_hub_model_and_case_colliding_names_are_warned(production, capsys):
    production["models"]["qwen3-4b-again"] = production["models"]["qwen3-4b"]
    production["agents"]["NOOP"] = {"scaffold": "noop"}
    ptb_config.validate(production)
    err = capsys.readouterr().err
    assert "models.qwen3-4b.base and models.qwen3-4b-again.base are the same hub model" in err
    assert "agents 'noop' and 'NOOP' differ only by case" in err


def test_unset_key_variables_of_the_planned_agents_are_warned(production, capsys, monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-set")
    ptb_config.validate(production)
    err = capsys.readouterr().err
    assert "ANTHROPIC_API_KEY (agents claude-opus-4.6, opencode-sonnet-4.6)" in err
    assert "OPENAI_API_KEY" not in err
    production["select"] = {"agents": ["codex-gpt-5.3"]}  # only the planned agents count
    ptb_config.validate(production)
    assert "key variable" not in capsys.readouterr().err


# -- YAML merge keys ------------------------------------------------------------------------


def test_yaml_merge_keys_load_and_a_key_beside_them_wins(tmp_path):
    path = tmp_path / "anchors.yaml"
    path.write_text(
        "agents:\n"
        "  sft: &sft {scaffold: sft, options: {max_steps: 3}}\n"
        "  sft_b:\n"
        "    <<: *sft\n"
        "    display_name: SFT b\n"
        "grid: {agents: [sft_b], models: [qwen3-1.7b], benchmarks: [gsm8k], seeds: [1]}\n"
        "leaderboard: {weights: {gsm8k: 1}}\n"
        "calibration: null\n"
    )
    loaded = ptb_config.load([path])
    assert loaded["agents"]["sft_b"]["scaffold"] == "sft"
    assert loaded["agents"]["sft_b"]["options"] == {"max_steps": 3}
    assert loaded["agents"]["sft_b"]["display_name"] == "SFT b"
    path.write_text("budget:\n  <<: {hours: 1}\n  grace_seconds: 5\n  grace_seconds: 6\n")
    with pytest.raises(ptb_config.ConfigError, match="'grace_seconds' is given twice"):
        ptb_config.read_file(path)


def test_snakemake_refuses_nan_hours_before_planning(tmp_path):
    """`budget.hours: .nan` in a config file crashed planning with a traceback; now one error
    naming the key, before any job."""
    extra = tmp_path / "nan.yaml"
    extra.write_text("budget:\n  hours: .nan\n")
    proc = snakemake("-n", "--configfile", "workflow_config.yaml", str(extra), check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "'budget.hours' = nan: not a finite number" in out
    assert "Traceback" not in out
