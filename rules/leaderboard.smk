# Aggregation and rendering: cheap, so it runs on the submit host.
from ptb import result_files

LEADERBOARD = paths.fill(paths.LEADERBOARD_DIR, RESULTS)
CHART_CAPTIONS = {name: f"../report/{name}.rst" for name in paths.CHARTS}
# What the leaderboard reads, per cell and per baseline: the script reads these files and no
# others, and the rule declares each of them as an input.
LEADERBOARD_CELLS = [result_files.cell_record(RESULTS, cell) for cell in CELLS]
LEADERBOARD_BASELINES = [
    result_files.baseline_record(RESULTS, *baseline) for baseline in BASELINES
]


rule leaderboard:
    input:
        # agent.json too (outcome, time used), though upstream of verdict and metrics: it costs
        # no measurable planning time (benchmarks/plan_grid.py, CPU time within noise)
        agents=[c["agent_json"] for c in LEADERBOARD_CELLS],
        verdicts=[c["verdict"] for c in LEADERBOARD_CELLS],
        metrics=[c["metrics"] for c in LEADERBOARD_CELLS],
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
            f"{LEADERBOARD}/leaderboard.html",
            caption="../report/leaderboard.rst",
            category="Leaderboard",
        ),
        csv=report(
            f"{LEADERBOARD}/leaderboard.csv",
            caption="../report/leaderboard_csv.rst",
            category="Leaderboard",
            subcategory="Tables",
        ),
        cells=report(
            f"{LEADERBOARD}/cells.csv",
            caption="../report/cells.rst",
            category="Leaderboard",
            subcategory="Tables",
        ),
        md=f"{LEADERBOARD}/leaderboard.md",
        weights=f"{LEADERBOARD}/weights.json",
        ranking=report(
            f"{LEADERBOARD}/charts/ranking.svg",
            caption=CHART_CAPTIONS["ranking"],
            category="Leaderboard",
            subcategory="Charts",
        ),
        heatmap=report(
            f"{LEADERBOARD}/charts/heatmap.svg",
            caption=CHART_CAPTIONS["heatmap"],
            category="Leaderboard",
            subcategory="Charts",
        ),
        time=report(
            f"{LEADERBOARD}/charts/time.svg",
            caption=CHART_CAPTIONS["time"],
            category="Leaderboard",
            subcategory="Charts",
        ),
        outcomes=report(
            f"{LEADERBOARD}/charts/outcomes.svg",
            caption=CHART_CAPTIONS["outcomes"],
            category="Leaderboard",
            subcategory="Charts",
        ),
        chart_files=[
            f"{LEADERBOARD}/charts/{name}.{ext}"
            for name in paths.CHARTS
            for ext in ("html", "png")
        ],
    log:
        log_path("leaderboard", "leaderboard"),
    localrule: True
    params:
        # the files of each cell and baseline (in the order of the inputs) and everything the
        # tables show besides the results: a change re-renders them
        cells=LEADERBOARD_CELLS,
        baselines=LEADERBOARD_BASELINES,
        settings={
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
            "budget_hours": config["budget"]["hours"],
            "protocol_name": config["protocol"],
        },
        code=source_hash(
            "ptb/leaderboard.py",
            "ptb/protocol.py",
            "ptb/reference/posttrainbench_v1_factors.json",
            "ptb/charts.py",
            "ptb/outcomes.py",
            "scripts/leaderboard.py",
        ),
    script:
        "../scripts/leaderboard.py"
