# The judge writes outside the job dir: nothing the agent wrote can stand in for a verdict.


rule judge:
    input:
        agent=pattern(paths.AGENT_JSON),
        handout=pattern(paths.HANDOUT),
        base=ancient(
            paths.fill(paths.MODEL_MANIFEST, RESULTS, model="{model}", variant="base")
        ),
        dataset=ancient(pattern(paths.DATASET_MANIFEST)),
    output:
        verdict=pattern(paths.VERDICT),
    log:
        log_path("judge", "{agent}/{model}/{benchmark}/seed{seed}"),
    benchmark:
        benchmark_path("judge", paths.CELL_JOB)
    retries: resources_for("judge")["retries"]
    threads: resources_for("judge")["cpus"]
    resources:
        **stage_resources("judge"),
    params:
        settings=config.get("judge", {}),
        code=source_hash("ptb/judge", "scripts/judge.py"),
    script:
        "../scripts/judge.py"


rule judge_calibration:
    # Precision and recall of each check on planted cheats and clean agents.
    input:
        verdicts=[
            paths.fill(paths.VERDICT, RESULTS, **cell.as_dict())
            for cell, _ in grid.calibration_cells(config.get("calibration"))
        ],
    output:
        csv=report(
            paths.fill(paths.CALIBRATION_CSV, RESULTS),
            caption="../report/calibration.rst",
            category="Judge",
        ),
    log:
        log_path("judge", "calibration"),
    benchmark:
        benchmark_path("judge", "calibration")
    localrule: True
    script:
        "../scripts/judge_calibration.py"
