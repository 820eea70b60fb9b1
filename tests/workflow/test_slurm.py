"""SLURM: the profile's plan for the production grid, and a demo slice through a real cluster.

The planning tests need no cluster. The `slurm`-marked tests submit real jobs through
snakemake-executor-plugin-slurm and are skipped, with the reason, when there is no SLURM
on this machine (no `sinfo`) or none is up. CI starts a single-node cluster with two
dummy GPUs first (.ci/run -> .ci/slurm/start.sh) and sets PTB_REQUIRE_SLURM=1, which
turns those skips into failures.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import yaml
from helpers import REPO, dry_run_jobs, snakemake

# two benchmarks: two baselines, which the profile submits as one job array
CELL = "select={agents: [noop], models: [tiny-qwen3], benchmarks: [gsm8k, humaneval], seeds: [1]}"
# the demo slice's SLURM jobs (agent_view, leaderboard and all are local rules)
# (the cache stage runs on the submit host first)
SUBMITTED_RULES = {"agent_run", "canonical_model", "judge", "evaluate", "baseline"}
GPU_RULES = {"agent_run", "evaluate", "baseline"}


# -- the profile ----------------------------------------------------------------------


def profile() -> dict:
    return yaml.safe_load((REPO / "profiles" / "slurm" / "config.yaml").read_text())


def test_slurm_profile_resolves_from_the_repo_root():
    link = REPO / "slurm"
    assert (link / "config.yaml").resolve() == (REPO / "profiles" / "slurm" / "config.yaml").resolve()
    settings = profile()
    assert settings["executor"] == "slurm"
    assert settings["keep-going"] is True and settings["scheduler"] == "greedy"
    assert settings["rerun-triggers"] == ["mtime", "params", "input", "software-env"], "no code trigger"
    assert "retries" not in settings, "no global retries: agent runs must never be repeated"
    assert settings["slurm-keep-successful-logs"] is True
    assert settings["software-deployment-method"] == "apptainer" and "--nv" in settings["apptainer-args"]
    resources = " ".join(settings["default-resources"])
    assert "slurm_account=" in resources and "slurm_partition=" in resources
    assert not re.search(r"\bgpus=", resources), "the plugin ignores gpus=; rules request gpu=N"


def resources(job: dict) -> dict[str, str]:
    return dict(item.split("=", 1) for item in job.get("resources", "").split(", ") if "=" in item)


def test_profile_dry_run_of_the_production_grid_plans_gpus(tmp_path):
    """`snakemake --profile slurm -n`: every agent run and eval asks SLURM for gpu=1."""
    proc = snakemake("--profile", "slurm", "-n", "--config", f"results_dir={tmp_path}/results")
    out = proc.stdout + proc.stderr
    assert "Using profiles slurm" in out or "Using profile slurm" in out
    if shutil.which("apptainer") is None and shutil.which("singularity") is None:
        assert "dry run: apptainer is not on PATH" in out, "planning works, and says the images were left out"
    jobs = dry_run_jobs(out)
    by_rule: dict[str, list[dict]] = {}
    for job in jobs:
        by_rule.setdefault(job["rule"], []).append(job)
    assert len(by_rule["agent_run"]) >= 4 * 4 * 7 * 3 and len(by_rule["evaluate"]) == 4 * 4 * 7 * 3
    for rule in GPU_RULES:
        assert all(resources(j).get("gpu") == "1" for j in by_rule[rule]), f"{rule} without gpu=1"
        assert not any("gpus" in resources(j) for j in by_rule[rule])
    agent = resources(by_rule["agent_run"][0])
    assert agent["mem_mb"] == "128000" and int(agent["runtime"]) == 10 * 60 + 5 + 30, agent
    assert resources(by_rule["evaluate"][0])["runtime"] == "120"
    for rule in ("judge", "prepare_model", "prepare_dataset"):
        assert all(resources(j).get("gpu", "0") == "0" for j in by_rule[rule]), f"{rule} must not hold a GPU"


# -- a real cluster -------------------------------------------------------------------


def cluster_problem() -> str | None:
    """Why no SLURM job can run here (None: a node is up)."""
    if shutil.which("sinfo") is None or shutil.which("sbatch") is None:
        return "no SLURM on this machine (sinfo/sbatch not on PATH); .ci/slurm/start.sh starts one"
    try:
        proc = subprocess.run(["sinfo", "-h", "-o", "%P %t"], capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired:
        return "sinfo timed out: slurmctld is not answering"
    if proc.returncode != 0:
        return f"SLURM is not up: {proc.stderr.strip() or proc.stdout.strip()}"
    states = proc.stdout.split()
    if not any(s.rstrip("*~#") in ("idle", "mix", "alloc", "allocated", "mixed") for s in states[1::2]):
        return f"no SLURM node is usable: {proc.stdout.strip()!r}"
    return None


@pytest.fixture(scope="module")
def cluster() -> dict:
    problem = cluster_problem()
    if problem:
        if os.environ.get("PTB_REQUIRE_SLURM") == "1":
            pytest.fail(f"PTB_REQUIRE_SLURM=1 but {problem}")
        pytest.skip(problem)
    partitions = subprocess.run(["sinfo", "-h", "-o", "%P"], capture_output=True, text=True).stdout.split()
    default = next((p.rstrip("*") for p in partitions if p.endswith("*")), partitions[0].rstrip("*"))
    return {"partition": os.environ.get("PTB_SLURM_PARTITION", default)}


def say(capsys, message: str) -> None:
    """A line for the CI log, outside pytest's capture."""
    with capsys.disabled():
        print(f"\n[slurm] {message}", flush=True)


def scontrol(job_id: str) -> dict[str, str]:
    out = subprocess.run(["scontrol", "show", "job", "-o", job_id], capture_output=True, text=True).stdout
    return dict(re.findall(r"(\w+)=(\S*)", out))


def wait_for(job_id: str, timeout: float = 120) -> dict[str, str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = scontrol(job_id)
        if info.get("JobState") in (
            "COMPLETED",
            "FAILED",
            "CANCELLED",
            "TIMEOUT",
            "NODE_FAIL",
            "OUT_OF_MEMORY",
        ):
            return info
        time.sleep(0.5)
    raise AssertionError(f"SLURM job {job_id} did not finish in {timeout} s: {scontrol(job_id)}")


@pytest.mark.slurm
@pytest.mark.parametrize("request_gpu", ["--gres=gpu:1", "--gpus=1"])
def test_a_gpu_job_gets_cuda_visible_devices(cluster, tmp_path, capsys, request_gpu):
    """What the plugin's gpu=1 becomes (--gpus=1), and the gres form: SLURM sets CUDA_VISIBLE_DEVICES."""
    out = tmp_path / "gpu.out"
    job_id = (
        subprocess.run(
            [
                "sbatch",
                "--parsable",
                request_gpu,
                "-p",
                cluster["partition"],
                "-o",
                str(out),
                "-t",
                "2",
                "--wrap",
                'echo "CUDA_VISIBLE_DEVICES=${CUDA_VISIBLE_DEVICES:-unset}"',
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        .stdout.strip()
        .split(";")[0]
    )
    info = wait_for(job_id)
    assert info["JobState"] == "COMPLETED", info
    line = out.read_text().strip()
    assert re.fullmatch(r"CUDA_VISIBLE_DEVICES=\d+(,\d+)*", line), line
    say(capsys, f"gres granted: sbatch {request_gpu} -> job {job_id} ran with {line}")


@pytest.mark.slurm
def test_demo_slice_runs_through_the_slurm_executor(cluster, tmp_path, capsys):
    """`snakemake --profile slurm` on one demo cell: real sbatch submissions, a leaderboard at the end."""
    results, slurm_logs = tmp_path / "results", tmp_path / "slurm_logs"
    overrides = tmp_path / "slurm-demo.yaml"
    overrides.write_text(
        yaml.safe_dump(
            {
                "benchmarks": {
                    "gsm8k": {"data": "local", "limit": 2, "task_args": {"fewshot": 0}},
                    "humaneval": {"data": "local", "limit": 2},
                },
                # the production shape on a small box: a GPU (of the CI node's type "ci") for agent
                # runs and evals, one CPU each, and each stage's placement as .ci/slurm/start.sh
                # offers it: its partition, node feature and sbatch extras
                "resources": {
                    "agent": {"gpu": 1, "gpu_model": "ci", "cpus": 1, "mem_mb": 2000, "constraint": "ptbci"},
                    "evaluate": {
                        "gpu": 1,
                        "gpu_model": "ci",
                        "cpus": 1,
                        "mem_mb": 3000,
                        "runtime": 30,
                        "retries": 1,
                        "slurm_extra": "--nice=7",
                    },
                    "judge": {
                        "cpus": 1,
                        "mem_mb": 2000,
                        "runtime": 10,
                        "retries": 1,
                        "slurm_partition": cluster["partition"],
                    },
                    "cache": {
                        "cpus": 1,
                        "mem_mb": 2000,
                        "runtime": 30,
                        "slurm_partition": cluster["partition"],
                    },
                },
            }
        )
    )
    # the cache first, on the submit host (the air-gapped recipe): the two baselines are then
    # ready at the same moment, and go as one array
    snakemake(
        "--profile", "profiles/demo",
        "--configfile", "workflow_config.yaml", "config/demo.yaml", str(overrides),
        "--config", CELL, f"results_dir={results}", "calibration=",
        "--until", "prepare_model", "prepare_dataset", "agent_view",
    )  # fmt: skip
    proc = snakemake(
        "--profile",
        "slurm",
        "--configfile",
        "workflow_config.yaml",
        "config/demo.yaml",
        str(overrides),
        "--config",
        CELL,
        f"results_dir={results}",
        "calibration=",
        # this cluster: no slurmdbd (squeue status, MinJobAge=600), no accounts, quick checks
        "--slurm-status-command",
        "squeue",
        "--slurm-no-account",
        "--slurm-init-seconds-before-status-checks",
        "2",
        "--seconds-between-status-checks",
        "2",
        "--slurm-logdir",
        str(slurm_logs),
        "--default-resources",
        f"slurm_partition={cluster['partition']}",
        "--latency-wait",
        "5",
        "--jobs",
        "4",
        "--verbose",
        timeout=1500,
        check=False,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"snakemake --profile slurm failed:\n{out[-8000:]}"

    submitted = re.findall(r"Job \d+ has been submitted with SLURM jobid (\d+) \(log: (\S+)\)", out)
    rules = {}
    for job_id, log in submitted:
        rule = Path(log).relative_to(slurm_logs).parts[0].removeprefix("rule_")
        rules[job_id] = rule
    # array tasks: <jobid>_<task>.log under their rule's folder
    for log in slurm_logs.rglob("*_*.log"):
        rules[log.stem] = log.relative_to(slurm_logs).parts[0].removeprefix("rule_")
    baseline_arrays = {
        task.split("_")[0] for task, rule in rules.items() if rule == "baseline" and "_" in task
    }
    assert len(baseline_arrays) == 1 and sum(r == "baseline" for r in rules.values()) == 2, (
        f"the two baselines, ready together, go as one array (profile: slurm-array-jobs): {rules}"
    )
    arrays = sorted(baseline_arrays)
    assert sorted(set(rules.values())) == sorted(SUBMITTED_RULES), rules
    say(
        capsys,
        f"jobs submitted: {len(rules)} ({', '.join(f'{r}={j}' for j, r in rules.items())})",
    )

    for job_id, rule in rules.items():
        info = scontrol(job_id)  # finished jobs stay visible for MinJobAge
        if not info:
            continue
        assert info["JobState"] == "COMPLETED", (rule, info)
        assert info["JobName"].startswith("ptb_"), "the profile's job name prefix"
        assert info.get("Comment", "").startswith(f"rule_{rule}"), "rule (and cell) in the job comment"
        gpus = "gres/gpu=1" in info.get("TRES", "") or "gpu:ci:1" in info.get("TresPerJob", "")
        assert gpus == (rule in GPU_RULES), (rule, info)
        assert ("gpu:ci:1" in info.get("TresPerJob", "")) == (rule in GPU_RULES), "gpu_model: the GPU type"
        assert (info.get("Features") == "ptbci") == (rule == "agent_run"), (rule, "constraint")
        assert (info.get("Nice") == "7") == (rule in ("evaluate", "baseline")), (rule, "slurm_extra")
        assert info["Partition"] == cluster["partition"]
        if rule == "agent_run":
            assert info["Comment"].startswith("rule_agent_run_wildcards_noop_tiny-qwen3_")
    agent_id = next(j for j, r in rules.items() if r == "agent_run")

    logs = {rule: list((slurm_logs / f"rule_{rule}").rglob("*.log")) for rule in SUBMITTED_RULES}
    assert all(logs.values()), f"SLURM logs kept for every job: {logs}"
    agent_log = logs["agent_run"][0].read_text()
    visible = re.search(r"'CUDA_VISIBLE_DEVICES': '([\d,]+)'", agent_log)
    assert visible, "the agent job ran with the GPU SLURM allocated"
    say(capsys, f"gres granted: agent_run job {agent_id} ran with CUDA_VISIBLE_DEVICES={visible.group(1)}")

    board = results / "leaderboard" / "leaderboard.csv"
    assert board.exists() and len(board.read_text().splitlines()) >= 2
    run = results / "runs" / "noop" / "tiny-qwen3" / "gsm8k" / "seed1"
    assert (run / "agent.json").exists() and "ok" in (run / "agent.json").read_text()
    usage = (results / "leaderboard" / "gpu_hours.csv").read_text()
    assert "noop,agent," in usage and "baselines,evaluate," in usage, usage
    say(capsys, f"array job {arrays[0]} ran the baselines; placement and GPU-hours checked")
    say(capsys, f"leaderboard produced: {board}")
