# The judge writes outside the job dir: nothing the agent wrote can stand in for a verdict.
from ptb.core import redaction


rule judge:
    # Declared: the canonical record (the trigger) and what nothing upstream builds. The record
    # follows the run (agent.json, handout.json: its job's outputs), and the run follows the base
    # model, the dataset and the agent's view with its held-back controls: those are read by
    # path (params). Built before the run, they never re-run a judge (as ancient inputs did),
    # and each declared input costs planning time (docs/sweeps.md).
    input:
        # the canonical model (rules/served.smk): what every evaluation serves
        served=pattern(paths.SERVED_JSON),
        # every model the cell's model must not be, as one index (rule judged_models): one
        # input per job instead of one per model
        disallowed=ancient(paths.fill(paths.JUDGED_MODELS_INDEX, RESULTS)),
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
        agent=pattern(paths.AGENT_JSON),
        handout=pattern(paths.HANDOUT),
        base=paths.fill(paths.MODEL_MANIFEST, RESULTS, model="{model}", variant="base"),
        dataset=pattern(paths.DATASET_MANIFEST),
        # the training data the agent was given: test n-grams it holds are no evidence
        agent_view=pattern(paths.AGENT_VIEW),
        # training items held back from that view: the probe's controls (ptb/judge/probe.py)
        controls=pattern(paths.CONTROLS),
        # everything the agent could write, hence train from
        job_dir=pattern(paths.JOB_DIR),
        home=pattern(paths.AGENT_HOME),
        scratch=pattern(paths.AGENT_SCRATCH),
        disallowed=disallowed_manifests,
        settings=config["judge"],
        secret_names=redaction.secret_names(config["agents"]),
        code=source_hash("ptb/judge", "ptb/core/redaction.py", "scripts/judge.py"),
    script:
        "../scripts/judge.py"


rule judge_calibration:
    # Recall and false positives per class of cheat, on planted cheats and clean agents.
    input:
        verdicts=[
            paths.fill(paths.VERDICT, RESULTS, **c.as_dict())
            for c, _ in calibration_runs()
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
    params:
        agents=[c.agent for c, _ in calibration_runs()],
        expected=[e for _, e in calibration_runs()],
    script:
        "../scripts/judge_calibration.py"


rule judged_models:
    # Declared inputs, so the judge never depends on which cache jobs finished first.
    input:
        manifests=list(JUDGED_MANIFESTS.values()),
    output:
        index=paths.fill(paths.JUDGED_MODELS_INDEX, RESULTS),
    log:
        log_path("judge", "judged_models"),
    benchmark:
        benchmark_path("judge", "judged_models")
    localrule: True
    params:
        names=list(JUDGED_MANIFESTS),
    script:
        "../scripts/judged_models.py"
