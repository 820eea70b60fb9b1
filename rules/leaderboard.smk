# Aggregation and rendering: cheap, so it runs on the submit host.
from ptb.leaderboard import job_times
from ptb.core import result_files

LEADERBOARD = paths.fill(paths.LEADERBOARD_DIR, RESULTS)
# the rules' declared outputs: snakemake deletes them before a job runs; the scripts publish a
# copy to LEADERBOARD once the job's files are whole (ptb.leaderboard.publish)
BUILD = paths.fill(paths.LEADERBOARD_BUILD_DIR, RESULTS)
CHART_CAPTIONS = {name: f"../report/{name}.rst" for name in paths.CHARTS}
# What the leaderboard reads, per cell and per baseline: the script reads these files and no
# others, and the rule declares each of them as an input.
LEADERBOARD_CELLS = [result_files.cell_record(RESULTS, cell) for cell in CELLS]
LEADERBOARD_BASELINES = [
    result_files.baseline_record(RESULTS, *baseline) for baseline in BASELINES
]
# the labels and weights a table is scored with (a shard's tables too: rules/sweep.smk)
LEADERBOARD_LABELS = {
    "agents": {
        a: {
            "display_name": config["agents"][a].get("display_name", a),
            "scaffold": config["agents"][a]["scaffold"],
        }
        for a in SELECTION["agents"]
    },
    "benchmarks": {
        b: config["benchmarks"][b].get("display_name", b)
        for b in SELECTION["benchmarks"]
    },
    "weights": config["leaderboard"]["weights"],
}
# the cells whose files the leaderboard declares: none in a sharded sweep's merge, whose
# inputs are the shards' tables instead (rules/sweep.smk): its plan holds no cell's job
DECLARED_CELLS = [] if MERGE else LEADERBOARD_CELLS
# the jobs' benchmark files, for GPU-hours: read where present, not inputs (a run from before
# they were written would otherwise be re-run for a missing one)
TIMED_JOBS = [
    *(job for cell in CELLS for job in job_times.cell_jobs(RESULTS, cell)),
    *(job for b in BASELINES for job in job_times.baseline_jobs(RESULTS, *b)),
]


rule leaderboard:
    input:
        # the verdict and the scores, which follow every other file of the cell's record (agent.json,
        # read by path, is upstream of both: an input per cell costs planning time)
        verdicts=[c["verdict"] for c in DECLARED_CELLS],
        metrics=[c["metrics"] for c in DECLARED_CELLS],
        shards=SHARD_TABLES,
        baselines=[b["metrics"] for b in LEADERBOARD_BASELINES],
        calibration=(
            # a path, not rules.judge_calibration.output: a rule reference makes snakemake
            # hash this rule's whole input list once per input file (quadratic planning)
            paths.fill(paths.CALIBRATION_CSV, RESULTS)
            if config.get("calibration")
            else []
        ),
    output:
        html=report(
            f"{BUILD}/leaderboard.html",
            caption="../report/leaderboard.rst",
            category="Leaderboard",
        ),
        csv=report(
            f"{BUILD}/leaderboard.csv",
            caption="../report/leaderboard_csv.rst",
            category="Leaderboard",
            subcategory="Tables",
        ),
        cells=report(
            f"{BUILD}/cells.csv",
            caption="../report/cells.rst",
            category="Leaderboard",
            subcategory="Tables",
        ),
        md=f"{BUILD}/leaderboard.md",
        gpu_hours=f"{BUILD}/gpu_hours.csv",
        weights=f"{BUILD}/weights.json",
        ranking=report(
            f"{BUILD}/charts/ranking.svg",
            caption=CHART_CAPTIONS["ranking"],
            category="Leaderboard",
            subcategory="Charts",
        ),
        heatmap=report(
            f"{BUILD}/charts/heatmap.svg",
            caption=CHART_CAPTIONS["heatmap"],
            category="Leaderboard",
            subcategory="Charts",
        ),
        time=report(
            f"{BUILD}/charts/time.svg",
            caption=CHART_CAPTIONS["time"],
            category="Leaderboard",
            subcategory="Charts",
        ),
        outcomes=report(
            f"{BUILD}/charts/outcomes.svg",
            caption=CHART_CAPTIONS["outcomes"],
            category="Leaderboard",
            subcategory="Charts",
        ),
        chart_files=[
            f"{BUILD}/charts/{name}.{ext}"
            for name in paths.CHARTS
            for ext in ("html", "png")
        ],
    log:
        log_path("leaderboard", "leaderboard"),
    benchmark:
        benchmark_path("leaderboard", "leaderboard")
    localrule: True
    params:
        # the files of each cell and baseline (in the order of the inputs) and everything the
        # tables show besides the results: a change re-renders them
        cells=LEADERBOARD_CELLS,
        baselines=LEADERBOARD_BASELINES,
        published_dir=LEADERBOARD,
        settings={
            **LEADERBOARD_LABELS,
            "budget_hours": config["budget"]["hours"],
            "protocol_name": config["protocol"],
            "max_tokens_cap": config["evaluation"]["max_tokens"],
            "jobs": TIMED_JOBS,
            "stage_gpus": {
                stage: resources_for(stage)["gpu"]
                for stage in ("agent", "evaluate", "judge")
            },
        },
        code=source_hash(
            "ptb/leaderboard/leaderboard.py",
            "ptb/core/protocol.py",
            "ptb/core/reference/posttrainbench_v1_factors.json",
            "ptb/leaderboard/charts.py",
            "ptb/leaderboard/templates",
            "ptb/core/page_templates.py",
            "ptb/core/outcomes.py",
            "ptb/leaderboard/job_times.py",
            "ptb/leaderboard/publish.py",
            "ptb/core/result_files.py",
            "scripts/leaderboard.py",
        ),
    script:
        "../scripts/leaderboard.py"


# The audit pages (ptb.audit): a job per cell and per agent, so that a new cell rewrites its
# own page, its agent's page and the leaderboard, and no other page. Each cell page reads the
# cell's record files and what the same jobs wrote beside them (agent.log, the .eval log, the
# job dir), which change only with the verdict and the scores (declared here).
LEADERBOARD_HTML = paths.fill(paths.LEADERBOARD_HTML, RESULTS)
AUDIT_CODE = source_hash(
    "ptb/audit",
    "ptb/core/page_templates.py",
    "ptb/core/outcomes.py",
    "ptb/core/result_files.py",
    "ptb/leaderboard/publish.py",
    "ptb/agent_runs/traces.py",
    "scripts/audit_cell.py",
    "scripts/audit_agent.py",
)
AUDIT_CELLS = {agent: [] for agent in SELECTION["agents"]}
for cell in CELLS:
    AUDIT_CELLS[cell.agent].append(cell.as_dict())


rule audit_cell:
    # Declared: the verdict and the scores, which follow every other record of the run (read by
    # path: an input per job costs planning time, benchmarks/plan_grid.py)
    input:
        verdict=pattern(paths.VERDICT),
        metrics=pattern(paths.METRICS),
        base_metrics=paths.fill(
            paths.BASELINE_METRICS,
            RESULTS,
            model="{model}",
            variant="base",
            benchmark="{benchmark}",
        ),
    output:
        page=pattern(paths.built(paths.AUDIT_CELL)),
        summary=pattern(paths.built(paths.AUDIT_CELL_SUMMARY)),
    log:
        log_path("audit", "{agent}/{model}/{benchmark}/seed{seed}"),
    benchmark:
        benchmark_path("audit", paths.CELL_JOB)
    localrule: True
    params:
        agent_json=pattern(paths.AGENT_JSON),
        manifest=pattern(paths.MANIFEST),
        handout=pattern(paths.HANDOUT),
        served=pattern(paths.SERVED_JSON),
        published_page=pattern(paths.AUDIT_CELL),
        leaderboard=LEADERBOARD_HTML,
        agent_page=pattern(paths.AUDIT_AGENT),
        code=AUDIT_CODE,
    script:
        "../scripts/audit_cell.py"


rule audit_agent:
    input:
        summaries=lambda w: [
            paths.fill(paths.built(paths.AUDIT_CELL_SUMMARY), RESULTS, **c)
            for c in AUDIT_CELLS[w.agent]
        ],
    output:
        page=report(
            pattern(paths.built(paths.AUDIT_AGENT)),
            caption="../report/audit_agent.rst",
            category="Audit",
            labels={"agent": "{agent}"},
        ),
    log:
        log_path("audit", "{agent}"),
    benchmark:
        benchmark_path("audit", "{agent}")
    localrule: True
    params:
        published_page=pattern(paths.AUDIT_AGENT),
        cell_pages=lambda w: [
            paths.fill(paths.AUDIT_CELL, RESULTS, **c) for c in AUDIT_CELLS[w.agent]
        ],
        display_name=lambda w: config["agents"][w.agent].get("display_name", w.agent),
        benchmarks={
            b: config["benchmarks"][b].get("display_name", b)
            for b in SELECTION["benchmarks"]
        },
        leaderboard=LEADERBOARD_HTML,
        code=AUDIT_CODE,
    script:
        "../scripts/audit_agent.py"
