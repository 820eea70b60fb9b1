# One canonical model per run (ptb/agent_runs/canonical.py): the judge checks it and every
# evaluation serves it; nothing else of the agent's final_model/ is ever loaded.


rule canonical_model:
    input:
        agent=pattern(paths.AGENT_JSON),
        base=ancient(
            paths.fill(paths.MODEL_MANIFEST, RESULTS, model="{model}", variant="base")
        ),
    output:
        record=pattern(paths.SERVED_JSON),
    log:
        log_path("served", "{agent}/{model}/{benchmark}/seed{seed}"),
    benchmark:
        benchmark_path("served", paths.CELL_JOB)
    # a copy of the weights (an adapter merge holds the model in memory): the cache stage's resources
    retries: resources_for("judge")["retries"]
    threads: resources_for("cache")["cpus"]
    resources:
        **stage_resources("cache"),
    params:
        # strings, not functions: snakemake fills the wildcards (a function per job costs planning time)
        final_model=pattern(paths.FINAL_MODEL),
        code=source_hash("ptb/agent_runs/canonical.py", "scripts/canonical_model.py"),
    script:
        "../scripts/canonical_model.py"
