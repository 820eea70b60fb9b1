"""At home on a cluster: per-stage placement reaches every job's resources, a smoke subset is one
cell, and API agents on the host are named once at load."""

import json
import logging
import re
import shutil
import subprocess
import threading
import time
import tomllib
from pathlib import Path

import pandas as pd
import pytest
import yaml
from helpers import REPO, SNAKEMAKE, dry_run_jobs, planned_jobs, snakemake
from inspect_ai.log import read_eval_log

from ptb.core import config as ptb_config
from ptb.core import io, paths, result_files
from ptb.core.grid import Cell
from ptb.evaluation import eval_store
from ptb.leaderboard import job_times, leaderboard


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


def test_api_agents_run_unboxed_are_named_once(tmp_path):
    proc = snakemake(
        "-n",
        "--quiet",
        "rules",
        "--config",
        "container=none",
        "isolation=none",
        "select={agents: [claude-opus-4.6, codex-gpt-5.3, noop], benchmarks: [gsm8k], models: [qwen3-1.7b]}",
        f"results_dir={tmp_path}/r",
    )
    warnings = [line for line in proc.stderr.splitlines() if "isolation: none runs API agent" in line]
    assert len(warnings) == 1, proc.stderr[-3000:]
    assert "claude-opus-4.6" in warnings[0] and "codex-gpt-5.3" in warnings[0] and "noop" not in warnings[0]


@pytest.mark.parametrize(
    "change",
    [
        {"container": "apptainer", "isolation": "none"},
        {"container": "none", "isolation": "bwrap"},
        {"container": "none", "isolation": "none", "select": {"agents": ["noop", "sft"]}},
    ],
    ids=["apptainer", "bubblewrap", "offline"],
)
def test_no_warning_when_no_api_agent_runs_unboxed(production, capsys, change):
    production.update(change)
    ptb_config.validate(production)
    assert "runs API agent" not in capsys.readouterr().err


# -- GPU-hours from the jobs' benchmark files ---------------------------------------------


def plant_benchmark(path: str, seconds: float | str) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(
        "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"
        f"{seconds}\t0:00:00\t10\t10\t10\t10\t0\t0\t50\t1.0\n"
    )


def test_gpu_hours_count_each_stage_with_its_gpus(tmp_path):
    results = str(tmp_path)
    cells = [Cell("sft", "m", "gsm8k", 1), Cell("sft", "m", "gsm8k", 2), Cell("noop", "m", "gsm8k", 1)]
    jobs = [j for c in cells for j in job_times.cell_jobs(results, c)] + job_times.baseline_jobs(
        results, "m", "base", "gsm8k"
    )
    tsv = {(j["agent"], j["stage"], j["tsv"].split("/seed")[-1]): j["tsv"] for j in jobs}
    plant_benchmark(tsv[("sft", "agent", "1.tsv")], 3600)
    plant_benchmark(tsv[("sft", "agent", "2.tsv")], 1800)
    plant_benchmark(tsv[("sft", "evaluate", "1.tsv")], 360)
    plant_benchmark(tsv[("sft", "judge", "1.tsv")], 7200)  # a CPU stage: no GPU-hours
    plant_benchmark(tsv[("noop", "agent", "1.tsv")], "garbage")  # unreadable: not counted
    plant_benchmark(jobs[-1]["tsv"], 720)  # the baseline
    plant_benchmark(tsv[("sft", "audit", "1.tsv")], 36)  # the page's local job: no GPU resources named
    usage = job_times.usage(jobs, {"agent": 2, "evaluate": 1, "judge": 0})
    assert job_times.table_rows(usage, {})[0] == [
        "agent", "agent GPU-h", "evaluate GPU-h", "judge GPU-h", "total GPU-h", "jobs timed"
    ]  # fmt: skip
    assert ["sft", "3.00", "0.10", "0.00", "3.10", "4"] in job_times.table_rows(usage, {})[1]
    usage = usage.set_index(["agent", "stage"])
    assert usage.loc[("sft", "audit"), "gpu_hours"] == 0 and usage.loc[("sft", "audit"), "hours"] == 0.01
    assert usage.loc[("sft", "agent"), "gpu_hours"] == pytest.approx(2 * 1.5)
    assert usage.loc[("sft", "agent"), "jobs"] == 2
    assert usage.loc[("sft", "evaluate"), "gpu_hours"] == pytest.approx(0.1)
    assert usage.loc[("sft", "judge"), "gpu_hours"] == 0 and usage.loc[("sft", "judge"), "hours"] == 2
    assert usage.loc[("baselines", "evaluate"), "gpu_hours"] == pytest.approx(0.2)
    assert "noop" not in usage.index.get_level_values("agent"), "a missing or unreadable file counts nothing"


def test_the_leaderboard_shows_gpu_hours_per_agent_and_stage(tmp_path):
    """The rule hands the leaderboard every cell's and baseline's benchmark files and the GPUs per
    stage (planned with the grid); the table and the time chart show the jobs that ran."""
    cells = [result_files.cell_record(str(tmp_path), Cell("noop", "tiny-qwen3", "gsm8k", 1))]
    base = result_files.baseline_record(str(tmp_path), "tiny-qwen3", "base", "gsm8k")
    scored = {"outcome": "ok", "stderr": 0.1, "samples_scored": 2}
    for path, data in (
        (cells[0]["agent_json"], {"outcome": "ok", "wall_seconds": 60}),
        (cells[0]["verdict"], {"disqualified": False, "checks": {}}),
        (cells[0]["metrics"], {**scored, "score": 0.5}),
        (base["metrics"], {**scored, "score": 0.25}),
    ):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps(data))
    jobs = job_times.cell_jobs(str(tmp_path), Cell("noop", "tiny-qwen3", "gsm8k", 1))
    plant_benchmark(jobs[0]["tsv"], 7200)
    out = tmp_path / "board"
    leaderboard.write(
        out, cells=cells, baselines=[base], agents={"noop": {"display_name": "No-op", "scaffold": "noop"}},
        benchmarks={"gsm8k": "GSM8K"}, weights={"gsm8k": 1.0}, budget_hours=1, jobs=jobs,
        stage_gpus={"agent": 4, "evaluate": 1, "judge": 0},
    )  # fmt: skip
    md = (out / "leaderboard.md").read_text()
    row = next(line for line in md.splitlines() if line.startswith("| No-op") and "8.00" in line)
    assert "| 8.00 |" in row, md  # 2 h x 4 GPUs
    assert "GPU-hours per agent and stage" in (out / "charts" / "time.svg").read_text()
    assert "GPU-hours" in (out / "leaderboard.html").read_text()


# -- evaluations keyed by weights, inspect's conventions -----------------------------------


@pytest.fixture(scope="module")
def store_run(tmp_path_factory) -> Path:
    """noop (submits the base) and cheat_substitute (another model) on tiny-qwen3, 2 items."""
    results = tmp_path_factory.mktemp("store") / "results"
    snakemake(
        "--profile", "profiles/demo",
        "--config", "select={agents: [noop, cheat_substitute], models: [tiny-qwen3], benchmarks: [gsm8k]}",
        "calibration=", f"results_dir={results}", "benchmarks={gsm8k: {limit: 2}}",
    )  # fmt: skip
    return results


def metrics_of(results: Path, agent: str | None = None) -> dict:
    if agent is None:
        path = paths.fill(
            paths.BASELINE_METRICS, str(results), model="tiny-qwen3", variant="base", benchmark="gsm8k"
        )
    else:
        path = paths.fill(
            paths.METRICS, str(results), agent=agent, model="tiny-qwen3", benchmark="gsm8k", seed=1
        )
    return io.resolve_paths(json.loads(Path(path).read_text()), eval_store.METRICS_PATH_KEYS, path)


def test_identical_weights_are_evaluated_once(store_run):
    """The base baseline and noop's copy of the base share a key: one of them evaluated (whichever
    came first; the other waited on the key) and the other copied; the substituted model has its
    own key and evaluation."""
    base, noop, other = (
        metrics_of(store_run),
        metrics_of(store_run, "noop"),
        metrics_of(store_run, "cheat_substitute"),
    )
    assert base["evaluation_key"] == noop["evaluation_key"] != other["evaluation_key"]
    first, copy = (base, noop) if "reused_from" in noop else (noop, base)
    assert "reused_from" not in first and copy["reused_from"] == first["model_path"]
    assert copy["score"] == first["score"] and copy["reused_log"] == first["log_file"]
    # the run's canonical model (rules/served.smk) is what is served, never final_model/ itself
    assert noop["model_path"].endswith("served/noop/tiny-qwen3/gsm8k/seed1/model")
    assert "reused_from" not in other
    logs = list((store_run / "eval" / "noop").rglob("*.eval")) + list(
        (store_run / "baselines").rglob("*.eval")
    )
    # each cell's own log (inspect view finds the reused one by agent), one of them a copy
    from inspect_ai.log import read_eval_log  # noqa: PLC0415 (heavy)

    headers = {p: read_eval_log(p, header_only=True).eval for p in logs}
    assert sorted(str(p) for p in logs) == sorted([base["log_file"], noop["log_file"]])
    assert sum("reused" in h.tags for h in headers.values()) == 1, "the base weights were evaluated once"
    assert headers[Path(noop["log_file"])].metadata["agent"] == "noop"
    assert headers[Path(noop["log_file"])].model.endswith("/noop/tiny-qwen3/seed1")
    stored = sorted(p.parent.name for p in (store_run / "eval-store").glob("*/metrics.json"))
    assert stored == sorted([base["evaluation_key"], other["evaluation_key"]])
    copy_log = (
        "evaluate/noop/tiny-qwen3/gsm8k/seed1.log" if copy is noop else "baseline/tiny-qwen3/base/gsm8k.log"
    )
    assert "reused_from" in (store_run / "logs" / copy_log).read_text()


def test_a_job_waits_for_an_evaluation_of_its_key_in_flight(tmp_path):
    """Two jobs with one key at once: the second waits for the first's claim, then finds its entry."""
    key, order = "k" * 32, []
    with eval_store.claimed(str(tmp_path), key):
        waiter = threading.Thread(
            target=lambda: order.append(("waiter", eval_store.claimed(str(tmp_path), key).__enter__()))
        )
        waiter.start()
        time.sleep(0.5)
        assert waiter.is_alive() and not order, "blocked while the key is claimed"
        eval_store.save(str(tmp_path), key, {"outcome": "ok", "score": 0.5, "model_path": "m"})
        order.append(("first", None))
    waiter.join(timeout=10)
    assert [name for name, _ in order] == ["first", "waiter"]
    assert eval_store.lookup(str(tmp_path), key)["score"] == 0.5


def test_a_job_waiting_on_a_key_says_for_whom_and_keeps_saying_it(tmp_path, caplog):
    """The waiter holds a GPU while it waits: its log names the holder, then beats, then says when
    it got the key."""
    key = "w" * 32
    caplog.set_level(logging.INFO, logger="ptb.evaluation.eval_store")
    with eval_store.claimed(str(tmp_path), key, holder="sft/tiny-qwen3/seed1 on gsm8k"):
        assert (tmp_path / key / "holder").read_text().startswith("sft/tiny-qwen3/seed1 on gsm8k (pid ")
        waiter = threading.Thread(
            target=lambda: eval_store.claimed(str(tmp_path), key, heartbeat_s=0.3).__enter__()
        )
        waiter.start()
        time.sleep(1.5)
        assert waiter.is_alive()
    waiter.join(timeout=10)
    said = caplog.text
    assert "is being evaluated by sft/tiny-qwen3/seed1 on gsm8k (pid" in said
    assert said.count("still waiting for evaluation key") >= 2
    assert "released after" in said


def test_a_changed_tokenizer_or_setting_changes_the_key(store_run, tmp_path):
    base = metrics_of(store_run)
    copy = tmp_path / "model"
    shutil.copytree(base["model_path"], copy)
    settings = base["settings"]
    same = eval_store.key(str(copy), "qwen3", "gsm8k", settings)
    assert same == base["evaluation_key"], "a byte-identical copy has the base's key"
    (copy / ".cache").mkdir()
    (copy / ".cache" / "download.lock").write_text("x")  # hidden: cannot change what is served
    assert eval_store.key(str(copy), "qwen3", "gsm8k", settings) == same
    tokenizer = next(p for p in copy.iterdir() if p.name.startswith("tokenizer"))
    tokenizer.write_text(tokenizer.read_text() + " ")
    assert eval_store.key(str(copy), "qwen3", "gsm8k", settings) != same
    assert eval_store.key(base["model_path"], "smollm2", "gsm8k", settings) != same, "the template"
    assert eval_store.key(base["model_path"], "qwen3", "gsm8k", {**settings, "limit": 3}) != same


def test_eval_logs_name_their_cell_and_the_rule_log_shows_progress(store_run):
    base, other = metrics_of(store_run), metrics_of(store_run, "cheat_substitute")
    # the base weights are evaluated once, by the baseline or the no-op agent's cell, whichever
    # claimed the store's key first (test above); either way the baseline's log is its own and
    # names the baseline, a reused one also the evaluation it copies (the no-op cell's)
    base_log = read_eval_log(base["log_file"], header_only=True)
    assert base_log.eval.model == "hf/tiny-qwen3/base"
    reused = {"reused"} if "reused_from" in base else set()
    assert set(base_log.eval.tags) == {
        "model=tiny-qwen3", "variant=base", "benchmark=gsm8k", "protocol=posttrainbench-v1-corrected", *reused
    }  # fmt: skip
    if reused:
        assert base_log.eval.metadata["reused_model"] == "hf/noop/tiny-qwen3/seed1"
    other_log = read_eval_log(other["log_file"], header_only=True)
    assert other_log.eval.model == "hf/cheat_substitute/tiny-qwen3/seed1"
    assert {k: other_log.eval.metadata[k] for k in ("agent", "model", "benchmark", "seed", "protocol")} == {
        "agent": "cheat_substitute", "model": "tiny-qwen3", "benchmark": "gsm8k", "seed": "1",
        "protocol": "posttrainbench-v1-corrected",
    }  # fmt: skip
    log = (
        store_run / "logs" / "evaluate" / "cheat_substitute" / "tiny-qwen3" / "gsm8k" / "seed1.log"
    ).read_text()
    assert "Samples: 2/2" in log and "hf/cheat_substitute/tiny-qwen3/seed1 succeeded" in log


def test_every_job_has_a_benchmark_file(store_run):
    jobs = [
        ("agent", "noop/tiny-qwen3/gsm8k/seed1"),
        ("evaluate", "cheat_substitute/tiny-qwen3/gsm8k/seed1"),
        ("judge", "noop/tiny-qwen3/gsm8k/seed1"),
        ("baseline", "tiny-qwen3/base/gsm8k"),
        ("cache", "model/tiny-qwen3/base"),
        ("leaderboard", "leaderboard"),
        ("audit", "noop/tiny-qwen3/gsm8k/seed1"),
        ("audit", "noop"),
    ]
    for stage, job in jobs:
        seconds = job_times.wall_seconds(paths.fill(paths.job_benchmark(stage, job), str(store_run)))
        assert seconds is not None and seconds >= 0, (stage, job)
    usage = pd.read_csv(store_run / "leaderboard" / "gpu_hours.csv")
    assert set(usage["agent"]) == {"noop", "cheat_substitute", "baselines"}


# -- the CLIs act on the checkout they are run in ------------------------------------------


def fake_checkout(root: Path) -> Path:
    (root / "tasks").mkdir(parents=True)
    (root / "agents").mkdir()
    (root / "tests" / "tasks").mkdir(parents=True)
    (root / "tests" / "agents").mkdir(parents=True)
    (root / "Snakefile").write_text("# another checkout\n")
    return root


def test_new_task_and_validate_task_act_on_the_checkout_they_run_in(tmp_path):
    other = fake_checkout(tmp_path / "other")
    inside = other / "tasks"
    bin_dir = Path(SNAKEMAKE).parent
    made = subprocess.run(
        [str(bin_dir / "new-task"), "mytask"], cwd=inside, capture_output=True, text=True, timeout=120
    )
    assert made.returncode == 0, made.stderr
    assert (other / "tasks" / "mytask" / "task.yaml").exists(), "written into the checkout around cwd"
    assert not (REPO / "tasks" / "mytask").exists(), "not into the installed package's checkout"
    checked = subprocess.run(
        [str(bin_dir / "validate-task"), "mytask"], cwd=other, capture_output=True, text=True, timeout=300
    )
    assert "no such task folder" not in checked.stdout, checked.stdout[-2000:]
    assert "validate-task mytask" in checked.stdout
    assert paths.checkout(tmp_path) == paths.REPO_ROOT, "outside any checkout: the package's own"


# -- packaging -----------------------------------------------------------------------------


def pins(path: Path) -> dict[str, str]:
    found = {}
    for line in path.read_text().splitlines():
        spec = line.split("#")[0].strip()
        if "==" in spec:
            name, version = spec.split("==")
            found[name.strip().lower().replace("_", "-")] = version.strip()
    return found


def test_the_constraints_pin_the_whole_set_and_agree_with_every_direct_pin():
    constraints = pins(REPO / "constraints.txt")
    assert len(constraints) > 100 and "ptb" not in constraints
    for requirements in ("requirements.txt", "requirements-nodeps.txt"):
        for name, version in pins(REPO / requirements).items():
            assert constraints.get(name) == version, f"{requirements}: {name}=={version} vs constraints"
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    declared = [re.split(r"[<>=!~ ]", d)[0].lower() for d in project["dependencies"]]
    assert "snakemake" in declared and "inspect-ai" in declared
    assert set(declared) <= set(constraints), set(declared) - set(constraints)
    assert "*.egg-info/" in (REPO / ".gitignore").read_text().splitlines(), "make setup leaves none untracked"
    assert "-c constraints.txt -r requirements.txt" in (REPO / "Makefile").read_text()
