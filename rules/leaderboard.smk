# Aggregation and rendering: cheap, so it runs on the submit host.
from ptb.charts import CHARTS

LEADERBOARD = paths.fill(paths.LEADERBOARD_DIR, RESULTS)
CHART_CAPTIONS = {name: f"../report/{name}.rst" for name in CHARTS}


rule leaderboard:
    # agent.json is upstream of both verdicts and metrics: listing it too only slows planning
    input:
        verdicts=cell_files(paths.VERDICT),
        metrics=cell_files(paths.METRICS),
        baselines=baseline_files(paths.BASELINE_METRICS),
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
            for name in CHARTS
            for ext in ("html", "png")
        ],
    log:
        log_path("leaderboard", "leaderboard"),
    localrule: True
    params:
        # what the tables show besides the results: a change re-renders them
        settings={
            "leaderboard": config["leaderboard"],
            "budget_hours": config["budget"]["hours"],
            "agents": {
                a: [
                    config["agents"][a].get("display_name"),
                    config["agents"][a]["scaffold"],
                ]
                for a in SELECTION["agents"]
            },
            "benchmarks": {
                b: config["benchmarks"][b].get("display_name")
                for b in SELECTION["benchmarks"]
            },
        },
        code=source_hash(
            "ptb/leaderboard.py", "ptb/charts.py", "scripts/leaderboard.py"
        ),
    script:
        "../scripts/leaderboard.py"
