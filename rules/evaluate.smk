# Final evaluation of every cell's model, and the baselines (base zero-shot, official instruct):
# one rule (baseline reuses evaluate's body). Reward profiling (rules/profiling.smk) shares
# eval_params, throughput_settings and EVAL_ENVIRONMENT.

# Evaluation settings that change speed, not scores: changing them re-runs no evaluation.
THROUGHPUT_KEYS = (
    "max_connections",
    "grader_max_connections",
    "gpu_memory_utilization",
)
# the code that decides a score (the task's own folder is hashed per benchmark)
EVAL_CODE = (
    "ptb/evaluation.py",
    "ptb/tasks.py",
    "ptb/answers.py",
    "ptb/sampling.py",
    "ptb/protocol.py",
    "ptb/task_builder.py",
    "ptb/sandbox.py",
    "ptb/chat_templates.py",
    "ptb/eval_store.py",
    "ptb/templates",
    "scripts/evaluate.py",
)
PROFILE_CODE = ("ptb/profiling.py", "scripts/profile_task.py")
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


def throughput_settings(wildcards, threads):
    """The THROUGHPUT_KEYS settings: handed to the job, left out of its rerun check. Snakemake
    records no params function that takes `threads` (or input, output, resources) for its
    params trigger: it counts as derived from them (snakemake PR #3154).
    tests/test_incremental.py::test_throughput_settings_rerun_no_evaluation holds it to that.
    """
    return {k: config["evaluation"][k] for k in THROUGHPUT_KEYS}


rule evaluate:
    input:
        agent=pattern(paths.AGENT_JSON),
        dataset=pattern(paths.DATASET_MANIFEST),
        image=image_input("eval"),
    output:
        metrics=pattern(paths.METRICS),
    log:
        log_path("evaluate", "{agent}/{model}/{benchmark}/seed{seed}"),
    benchmark:
        benchmark_path("evaluate", paths.CELL_JOB)
    retries: resources_for("evaluate")["retries"]
    container:
        image_for("eval")
    threads: resources_for("evaluate")["cpus"]
    resources:
        **stage_resources("evaluate"),
    params:
        settings=eval_params,
        throughput=throughput_settings,
        family=lambda w: config["models"][w.model]["family"],
        log_dir=pattern(paths.EVAL_LOGS),
        environment=EVAL_ENVIRONMENT,
        # evaluations keyed by weights and settings (ptb/eval_store.py): identical ones run once
        store=RESULTS,
    script:
        "../scripts/evaluate.py"


use rule evaluate as baseline with:
    input:
        model=pattern(paths.MODEL_MANIFEST),
        dataset=pattern(paths.DATASET_MANIFEST),
        image=image_input("eval"),
    output:
        metrics=pattern(paths.BASELINE_METRICS),
    log:
        log_path("baseline", "{model}/{variant}/{benchmark}"),
    benchmark:
        benchmark_path("baseline", paths.BASELINE_JOB)
    params:
        log_dir=pattern(paths.BASELINE_LOGS),
