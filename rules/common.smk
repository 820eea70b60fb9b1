# Config validation, the grid, and helpers shared by every rule file.
from ptb.inputs import cache as ptb_cache
from ptb.core import config as ptb_config
from ptb.inputs import containers as ptb_containers
from ptb.core import grid, paths
from ptb.core.code_hash import source_hash
from ptb.core.smk import Untracked

# Fails before any job runs, naming the file and line (YAML errors, duplicated keys), or the
# bad key and what is allowed.
ptb_config.check_files(workflow.configfiles)
ptb_config.validate(config)

RESULTS = config["results_dir"]
CACHE_DIRS = ptb_config.cache_dirs(config)
CONTAINERS = config["container"] == "apptainer"
SELECTION = ptb_config.selection(config)
# the judge's disallowed models take the calibration's too, in a shard as in one DAG
CALIBRATION_MODELS = list((config.get("calibration") or {}).get("models", []))
# A sweep past one DAG (docs/sweeps.md): with shard_seeds, `--config shard=NAME` plans one
# shard's cells (one agent, a run of seeds) and its tables; a run without `shard` plans only
# the merge (rules/sweep.smk).
SHARDS = ptb_config.shards(config)
SHARD = config["shard"]
if SHARD is not None:
    if SHARD not in SHARDS:
        raise ValueError(
            f"config key 'shard': {SHARD!r} is not a shard of this grid"
            + (
                f" (shard_seeds {config['shard_seeds']}: e.g. {next(iter(SHARDS))})"
                if SHARDS
                else " (set shard_seeds)"
            )
        )
    SELECTION = {**SELECTION, **SHARDS[SHARD]}
    config["calibration"] = None  # the merge plans the calibration runs, once
MERGE = bool(SHARDS) and SHARD is None
# what the merge waits for: each shard's table (rules/sweep.smk)
SHARD_TABLES = [
    paths.fill(paths.SHARD_TABLE, RESULTS, shard=name) for name in SHARDS if MERGE
]
CELLS = grid.cells(SELECTION)
BASELINES = grid.baselines(SELECTION, ptb_config.instruct_models(config))


wildcard_constraints:
    agent=r"[^/]+",
    model=r"[^/]+",
    benchmark=r"[^/]+",
    seed=r"\d+",
    variant=r"base|instruct",


def pattern(template):
    """A results path pattern with the results dir filled in and the wildcards left open."""
    return template.replace("{results}", RESULTS)


def log_path(stage, template):
    return f"{RESULTS}/logs/{stage}/{template}.log"


def benchmark_path(stage, template):
    """A job's snakemake benchmark file (named as its log): ptb.leaderboard.job_times reads them."""
    return pattern(paths.job_benchmark(stage, template))


# the placement keys of a stage that snakemake-executor-plugin-slurm reads (2.8: gpu_model
# with gpu as --gpus=<model>:<n>, slurm_partition -p, qos --qos, constraint -C, slurm_extra
# appended); unset (null) ones are left out, so the profile's default-resources apply
PLACEMENT_KEYS = ("gpu_model", "slurm_partition", "slurm_extra", "qos", "constraint")


def resources_for(stage):
    """A stage's resources section, schema defaults filled in (profiling uses evaluate's)."""
    return config["resources"][stage]


def stage_resources(stage, runtime=None):
    """The `resources:` of a stage's jobs: gpu, mem_mb, runtime (minutes; `runtime` where the
    stage derives its own: agent runs from the budget) and the placement keys that are set.
    """
    own = resources_for(stage)
    chosen = {
        "gpu": own["gpu"],
        "mem_mb": own["mem_mb"],
        "runtime": own["runtime"] if runtime is None else runtime,
    }
    chosen.update({key: own[key] for key in PLACEMENT_KEYS if own[key] is not None})
    return chosen


# Containers (rules/containers.smk builds the images)


def image_input(name, keep=False):
    """The digest json of image `name` as an input, or nothing without containers.

    keep=True: ancient(), so a rebuilt image never re-runs the job (agent runs).
    """
    if not CONTAINERS:
        return []
    path = paths.fill(paths.IMAGE_DIGEST, RESULTS, image=name)
    return ancient(path) if keep else path


def image_for(name):
    """The `container:` directive value for jobs that run in image `name` (None = on the host).

    A function, so that it is evaluated once the run mode is known: a dry run (planning
    only) on a machine without apptainer plans the jobs without their image and says so,
    instead of failing; a real run there fails as it must.
    """
    if not CONTAINERS:
        return None
    image = config["images"][name]

    def container(wildcards):
        if workflow.dryrun and not ptb_containers.runtime_available():
            ptb_containers.warn_no_runtime_once()
            return None
        return image

    return container


# Evaluation (rules/evaluate.smk, rules/profiling.smk)

# Evaluation settings that change speed, not scores: changing them re-runs no evaluation.
THROUGHPUT_KEYS = (
    "max_connections",
    "grader_max_connections",
    "gpu_memory_utilization",
)
# the code that decides a score (the task's own folder is hashed per benchmark)
EVAL_CODE = (
    "ptb/evaluation/evaluation.py",
    "ptb/core/tasks.py",
    "ptb/evaluation/answers.py",
    "ptb/evaluation/sampling.py",
    "ptb/core/protocol.py",
    "ptb/evaluation/task_builder.py",
    "ptb/evaluation/sandbox.py",
    "ptb/core/chat_templates.py",
    "ptb/evaluation/eval_store.py",
    "ptb/core/templates",
    "scripts/evaluate.py",
)
PROFILE_CODE = ("ptb/evaluation/profiling.py", "scripts/profile_task.py")
# where an evaluation job keeps vLLM's compile cache and inspect's traces
EVAL_ENVIRONMENT = {
    "vllm_cache": paths.fill(paths.VLLM_CACHE, RESULTS),
    "inspect_data": paths.fill(paths.INSPECT_DATA, RESULTS),
}


def item_limit(benchmark, profiling=None):
    """Items to evaluate (None: every item): a profile's own limit, else the benchmark's."""
    own = profiling["limit"] if profiling else None
    return own or config["benchmarks"][benchmark]["limit"]


def eval_params(wildcards, profiling=None):
    """Everything that changes a score: the evaluation settings but the throughput keys, the
    benchmark's limit and task args, the task's files and the evaluation code; for a profile
    (profiling: the config section), its sampling settings and code too."""
    params = {
        "protocol": config["protocol"],
        "evaluation": {
            k: v for k, v in config["evaluation"].items() if k not in THROUGHPUT_KEYS
        },
        "limit": item_limit(wildcards.benchmark, profiling),
        "task_args": config["benchmarks"][wildcards.benchmark]["task_args"],
        "task": source_hash(f"tasks/{wildcards.benchmark}"),
        "code": source_hash(*EVAL_CODE, *(PROFILE_CODE if profiling else ())),
    }
    if profiling:
        params["profiling"] = profiling
    return params


def throughput_settings(wildcards, output):
    """The THROUGHPUT_KEYS settings: handed to the job, left out of its rerun check. Snakemake
    records no params function that takes `output` (or input, threads, resources) for its
    params trigger: it counts as derived from them (snakemake PR #3154).
    tests/workflow/test_incremental.py::test_throughput_settings_rerun_no_evaluation holds it to that.
    Not `threads`: that evaluates the job's resources while the DAG is built, where snakemake's
    default disk/mem expressions (input.size_mb) cannot run and leave an un-awaited coroutine
    (the "RuntimeWarning: coroutine ... was never awaited" of a cluster dry run; docs/sweeps.md).
    """
    return {k: config["evaluation"][k] for k in THROUGHPUT_KEYS}


# Judge (rules/judge.smk)

# Models a submission must not be: every base and instruct model in play (the grid's and the
# calibration's), except the cell's own base. Declared inputs, so the list never depends on
# which cache jobs happened to finish first.
JUDGED_MODELS = sorted(set(SELECTION["models"]) | set(CALIBRATION_MODELS))


# name -> model manifest of every judged model; computed once, not per judge job
JUDGED_MANIFESTS = {
    f"{model}/{variant}": paths.fill(
        paths.MODEL_MANIFEST, RESULTS, model=model, variant=variant
    )
    for model in JUDGED_MODELS
    for variant in ("base", "instruct")
    if config["models"][model].get(variant)
}
# per base model: the same, less the cell's own base
DISALLOWED_MANIFESTS = {
    model: {k: v for k, v in JUDGED_MANIFESTS.items() if k != f"{model}/base"}
    for model in config["models"]
}


def disallowed_manifests(w):
    """name -> model manifest of every disallowed model for this cell."""
    return DISALLOWED_MANIFESTS[w.model]


def calibration_runs():
    """(cell, the check its agent must trip or None) of the calibration agents this run uses."""
    calibration = config.get("calibration")
    chosen = (calibration or {}).get("agents")
    unknown = sorted(set(chosen or []) - set((calibration or {}).get("expected", {})))
    if unknown:
        raise ValueError(
            f"config key 'calibration.agents' names {unknown}, not in calibration.expected"
        )
    return [
        (cell, expected)
        for cell, expected in grid.calibration_cells(calibration)
        if chosen is None or cell.agent in chosen
    ]
