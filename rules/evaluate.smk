# Final evaluation of every cell's model, and the baselines (base zero-shot, official instruct):
# one rule (baseline reuses evaluate's body). Reward profiling (rules/profiling.smk) shares
# eval_params, throughput_settings and EVAL_ENVIRONMENT.


rule evaluate:
    input:
        agent=pattern(paths.AGENT_JSON),
        # the canonical model (rules/served.smk): nothing else of final_model/ is loaded
        served=pattern(paths.SERVED_JSON),
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
        # evaluations keyed by weights and settings (ptb/evaluation/eval_store.py): identical ones run once
        store=paths.fill(paths.EVAL_STORE, RESULTS),
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
