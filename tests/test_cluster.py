"""At home on a cluster: per-stage placement reaches every job's resources, a smoke subset is one
cell, and API agents on the host are named once at load."""

import pytest
import yaml
from helpers import REPO, dry_run_jobs, planned_jobs, snakemake

from ptb import config as ptb_config

GPU_STAGES = {"agent_run": "agent", "evaluate": "evaluate", "baseline": "evaluate"}


@pytest.fixture
def production():
    return yaml.safe_load((REPO / "workflow_config.yaml").read_text())


def job_resources(job: dict) -> dict[str, str]:
    return dict(item.split("=", 1) for item in job.get("resources", "").split(", ") if "=" in item)


def test_placement_keys_reach_every_stage_in_the_plan(tmp_path):
    """gpu_model, partition, qos, constraint and sbatch extras per stage: each job gets its stage's
    own, and a stage that sets none gets none (the profile's default-resources then apply)."""
    overrides = tmp_path / "placement.yaml"
    overrides.write_text(
        yaml.safe_dump(
            {
                "resources": {
                    "agent": {"gpu_model": "h100", "slurm_partition": "gpu-long", "qos": "agents"},
                    "evaluate": {"gpu_model": "a100", "slurm_partition": "gpu", "constraint": "nvlink"},
                    "judge": {"slurm_partition": "cpu", "slurm_extra": "--mail-type=FAIL"},
                    "cache": {"slurm_partition": "transfer"},
                }
            }
        )
    )
    proc = snakemake(
        "-n",
        "--configfile",
        str(overrides),
        "--config",
        "subset=smoke",
        f"results_dir={tmp_path}/results",
        "select={seeds: [1, 2]}",
    )
    by_rule: dict[str, list[dict]] = {}
    for job in dry_run_jobs(proc.stdout + proc.stderr):
        by_rule.setdefault(job["rule"], []).append(job_resources(job))
    expected = {
        "agent_run": {"gpu": "1", "gpu_model": "h100", "slurm_partition": "gpu-long", "qos": "agents"},
        "evaluate": {"gpu": "1", "gpu_model": "a100", "slurm_partition": "gpu", "constraint": "nvlink"},
        "baseline": {"gpu": "1", "gpu_model": "a100", "slurm_partition": "gpu", "constraint": "nvlink"},
        "judge": {"gpu": "0", "slurm_partition": "cpu", "slurm_extra": "--mail-type=FAIL"},
        "prepare_model": {"gpu": "0", "slurm_partition": "transfer"},
        "prepare_dataset": {"gpu": "0", "slurm_partition": "transfer"},
    }
    placement = {"gpu", "gpu_model", "slurm_partition", "qos", "constraint", "slurm_extra"}
    for rule, wanted in expected.items():
        assert by_rule.get(rule), f"no {rule} job planned"
        for resources in by_rule[rule]:
            assert {k: v for k, v in resources.items() if k in placement} == wanted, (rule, resources)
    assert len(by_rule["agent_run"]) == 2 and int(by_rule["agent_run"][0]["runtime"]) == 10 * 60 + 5 + 30


def test_profiling_jobs_take_the_evaluate_stage_placement(tmp_path):
    proc = snakemake(
        "--profile",
        "profiles/demo",
        "-n",
        "profiling",
        "--config",
        f"results_dir={tmp_path}/results",
        "resources={evaluate: {gpu: 1, gpu_model: l40s, slurm_partition: gpu}}",
    )
    jobs = [job_resources(j) for j in dry_run_jobs(proc.stdout + proc.stderr) if j["rule"] == "profile_model"]
    assert jobs and all(
        j["gpu_model"] == "l40s" and j["slurm_partition"] == "gpu" and j["runtime"] == str(30 * 4)
        for j in jobs
    ), jobs


def test_a_gpu_model_without_a_gpu_is_refused(production):
    production["resources"]["judge"]["gpu_model"] = "h100"
    with pytest.raises(ptb_config.ConfigError) as caught:
        ptb_config.validate(production)
    assert "resources.judge.gpu" in str(caught.value) and "gpu_model" in str(caught.value)


@pytest.mark.parametrize(
    "key, value",
    [("gpu_model", "'h100'"), ("gpu_model", "h100 --exclusive"), ("slurm_partition", ""), ("placement", "x")],
)
def test_bad_placement_values_name_the_key(production, key, value):
    production["resources"]["evaluate"][key] = value
    with pytest.raises(ptb_config.ConfigError) as caught:
        ptb_config.validate(production)
    assert "resources.evaluate" in str(caught.value) and key in str(caught.value)


def test_the_smoke_subset_is_one_cell(tmp_path):
    """One agent run, its judge and evaluation: the calibration runs (planted cheats) stay out."""
    proc = snakemake("-n", "--quiet", "rules", "--config", "subset=smoke", f"results_dir={tmp_path}/r")
    jobs = planned_jobs(proc)
    assert jobs["agent_run"] == 1 and jobs["judge"] == 1 and jobs["evaluate"] == 1, jobs
    assert "judge_calibration" not in jobs


def test_a_subset_can_ask_for_calibration(production):
    production["subset"] = "smoke"
    production["subsets"]["smoke"]["calibration"] = True
    assert ptb_config.validate(production)["calibration"]["expected"]["cheat_tamper"] == "tamper"
    production = yaml.safe_load((REPO / "workflow_config.yaml").read_text())
    production["subset"] = "smoke"
    assert ptb_config.validate(production)["calibration"] is None
    production = yaml.safe_load((REPO / "workflow_config.yaml").read_text())
    assert ptb_config.validate(production)["calibration"] is not None, "no subset: the full sweep calibrates"


def test_api_agents_on_the_host_are_named_once(tmp_path):
    proc = snakemake(
        "-n",
        "--quiet",
        "rules",
        "--config",
        "container=none",
        "select={agents: [claude-opus-4.6, codex-gpt-5.3, noop], benchmarks: [gsm8k], models: [qwen3-1.7b]}",
        f"results_dir={tmp_path}/r",
    )
    warnings = [line for line in proc.stderr.splitlines() if "container: none runs API agent" in line]
    assert len(warnings) == 1, proc.stderr[-3000:]
    assert "claude-opus-4.6" in warnings[0] and "codex-gpt-5.3" in warnings[0] and "noop" not in warnings[0]


@pytest.mark.parametrize(
    "change",
    [{"container": "apptainer"}, {"select": {"agents": ["noop", "sft"]}}],
    ids=["apptainer", "offline"],
)
def test_no_warning_when_no_api_agent_runs_on_the_host(production, capsys, change):
    production.update(change)
    if "select" in change:
        production["container"] = "none"
    ptb_config.validate(production)
    assert "container: none" not in capsys.readouterr().err
