# Reward profiling of tasks (a separate target, not part of rule all):
#   snakemake --profile profiles/demo profiling
# K repeats per item at temperature > 0 on the `profiling:` models; reads only the cache
# stage's model and dataset manifests (and, with containers, the eval image's digest), so it
# never starts an agent run, a judge or a leaderboard. Its evaluations take the evaluate
# rule's settings (rules/evaluate.smk: eval_params, throughput_settings).
from ptb.evaluation import profiling as ptb_profiling

PROFILING = config["profiling"]
PROFILE_TARGETS = ptb_profiling.targets(  # checks the names at load time
    PROFILING,
    models=list(config["models"]),
    benchmarks=list(config["benchmarks"]),
    instruct=ptb_config.instruct_models(config),
)


rule profile_model:
    input:
        model=pattern(paths.MODEL_MANIFEST),
        dataset=pattern(paths.DATASET_MANIFEST),
        image=image_input("eval"),
    output:
        samples=pattern(paths.PROFILE_SAMPLES),
    log:
        log_path("profiling", "{benchmark}/{model}/{variant}"),
    benchmark:
        benchmark_path("profiling", "{benchmark}/{model}/{variant}")
    container:
        image_for("eval")  # model-written code runs here (HumanEval), as in evaluate
    threads: resources_for("evaluate")["cpus"]
    resources:
        **stage_resources(
            "evaluate",
            runtime=resources_for("evaluate")["runtime"]
            * (PROFILING["repeats"] if PROFILING else 1),
        ),
    params:
        settings=lambda w: eval_params(w, PROFILING),
        throughput=throughput_settings,
        family=lambda w: config["models"][w.model]["family"],
        log_dir=pattern(paths.PROFILE_LOGS),
        environment=EVAL_ENVIRONMENT,
    script:
        "../scripts/profile_task.py"


rule profile_task:
    input:
        samples=lambda w: list(
            ptb_profiling.sample_files(RESULTS, PROFILE_TARGETS, w.benchmark).values()
        ),
    output:
        json=pattern(paths.PROFILE_JSON),
        md=pattern(paths.PROFILE_MD),
    log:
        log_path("profiling", "{benchmark}/profile"),
    benchmark:
        benchmark_path("profiling", "{benchmark}/profile")
    localrule: True
    params:
        profiling=PROFILING,
        labels=lambda w: list(
            ptb_profiling.sample_files(RESULTS, PROFILE_TARGETS, w.benchmark)
        ),
        limit=lambda w: item_limit(w.benchmark, PROFILING),
        code=source_hash(*PROFILE_CODE),
    script:
        "../scripts/profile_task.py"


rule profiling:
    input:
        ptb_profiling.profile_files(RESULTS, PROFILE_TARGETS),
    localrule: True
