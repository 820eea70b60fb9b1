# Models and datasets at pinned revisions (the demo builds its models offline).
# The full HF cache (config cache.hf_home) holds every model and dataset; the agent's
# view (cache.agent_hf_home/<model>) holds its base model only, and the agent's data
# view (cache/agent_view/<benchmark>) the training split only. See ptb/inputs/cache.py.
# Air-gapped clusters: run these rules where the hub is reachable first
# (docs/cluster.md):  snakemake --until prepare_model prepare_dataset agent_view --cores 4


rule prepare_model:
    output:
        manifest=pattern(paths.MODEL_MANIFEST),
    log:
        log_path("cache", "model/{model}/{variant}"),
    benchmark:
        benchmark_path("cache", "model/{model}/{variant}")
    threads: resources_for("cache")["cpus"]
    resources:
        **stage_resources("cache"),
    params:
        ref=lambda w: config["models"][w.model][w.variant],
        dest=lambda w: paths.fill(
            paths.MODEL_CACHE, RESULTS, model=w.model, variant=w.variant
        ),
        # relative to the workdir as configured (ptb.core.config.cache_dirs): a moved checkout
        # re-runs nothing; prepare_model absolutizes them at run time
        hub_cache=str(ptb_cache.hub_cache(CACHE_DIRS["hf_home"])),
        # base models only: the agent's HF cache view, with this model and nothing else
        agent_view=lambda w: (
            str(ptb_cache.agent_model_view(CACHE_DIRS["agent_hf_home"], w.model))
            if w.variant == "base"
            else None
        ),
    script:
        "../scripts/prepare_model.py"


rule prepare_dataset:
    output:
        manifest=pattern(paths.DATASET_MANIFEST),
    log:
        log_path("cache", "dataset/{benchmark}"),
    benchmark:
        benchmark_path("cache", "dataset/{benchmark}")
    threads: resources_for("cache")["cpus"]
    resources:
        **stage_resources("cache"),
    params:
        data=lambda w: config["benchmarks"][w.benchmark]["data"],
        datasets_cache=str(CACHE_DIRS["hf_home"] / "datasets"),
    script:
        "../scripts/prepare_dataset.py"


rule agent_view:
    # What the agent may read: training data only, never a test split.
    input:
        dataset=pattern(paths.DATASET_MANIFEST),
    output:
        view=directory(pattern(paths.AGENT_VIEW)),
        # held back from the view: the judge's probe compares test items with them
        controls=pattern(paths.CONTROLS),
    log:
        log_path("cache", "agent_view/{benchmark}"),
    benchmark:
        benchmark_path("cache", "agent_view/{benchmark}")
    localrule: True
    params:
        # only what picks the controls: the probe's other settings re-run no view
        control_count=config["judge"]["probe"]["controls"],
        control_seed=config["judge"]["probe"]["seed"],
    script:
        "../scripts/agent_view.py"
