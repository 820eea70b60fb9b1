"""The leaderboard's charts (altair), each saved as HTML (vega inlined: opens offline), SVG and PNG.

Rendering goes through vl-convert, as `chart.save("x.png")` does, but calls it directly so the
JavaScript bundle is built once per process. The chart names live in ptb.core.paths (CHARTS): the
Snakefile names the outputs without importing altair.
"""

from __future__ import annotations

from pathlib import Path

import altair as alt
import pandas as pd
import vl_convert as vlc

from ptb.core import io, outcomes

FORMATS = ("html", "svg", "png")
OUTCOME_COLORS = {
    outcomes.OK: "#54a24b",
    outcomes.TIMEOUT: "#88d27a",
    outcomes.AGENT_ERROR: "#b5e0a8",
    outcomes.TIMEOUT_NO_MODEL: "#fdb462",
    outcomes.NO_MODEL: "#f58518",
    outcomes.INFRA_ERROR: "#9d755d",
    outcomes.EVAL_ERROR: "#e45756",
    outcomes.JUDGE_ERROR: "#b279a2",
    outcomes.DISQUALIFIED: "#222222",
    outcomes.CORRUPT: "#ff00aa",
    outcomes.MISSING: "#dddddd",
}


def build(
    table: pd.DataFrame,
    cells: pd.DataFrame,
    weights: dict,
    agents: dict[str, str],
    benchmarks: dict[str, str],
    budget_hours: float,
    usage: pd.DataFrame | None = None,
) -> dict:
    """name -> altair chart, for every name in ptb.core.paths.CHARTS (NoData where it would be an
    empty frame: no score, no run timed, no cell yet). table and cells: the
    leaderboard's tables; agents and benchmarks: id -> display name; budget_hours: the time
    chart's dashed line; usage: GPU-hours per agent (display name) and stage (ptb.leaderboard.job_times),
    stacked under the time chart where any stage held a GPU."""
    agent_rows = table[table.scaffold != "baseline"]
    order = list(table.sort_values("avg", ascending=False, na_position="last")["agent"])
    width = 420

    ranked = table.assign(
        score=100 * table["avg"],
        low=100 * table["ci_low"],
        high=100 * table["ci_high"],
        kind=["baseline" if s == "baseline" else "agent" for s in table["scaffold"]],
    )[["agent", "scaffold", "kind", "score", "low", "high", "runs"]]
    base = alt.Chart(ranked).encode(y=alt.Y("agent:N", sort=order, title=None))
    ranking = alt.layer(
        base.mark_bar().encode(
            x=alt.X("score:Q", title="weighted average score (×100)"),
            color=alt.Color(
                "kind:N",
                scale=alt.Scale(domain=["agent", "baseline"], range=["#4c78a8", "#bbbbbb"]),
                legend=None,
            ),
            tooltip=[
                "agent",
                "scaffold",
                alt.Tooltip("score:Q", format=".1f"),
                alt.Tooltip("low:Q", format=".1f"),
                alt.Tooltip("high:Q", format=".1f"),
                "runs:Q",
            ],
        ),
        base.mark_errorbar(ticks=True).encode(
            x=alt.X("low:Q", title="weighted average score (×100)"), x2="high:Q"
        ),
    ).properties(title="Average score with 95% CI", width=width)

    names = {b: benchmarks[b] for b in weights}
    heat = table.melt(id_vars=["agent"], value_vars=list(weights), var_name="benchmark", value_name="score")
    heat = heat.assign(benchmark=heat["benchmark"].map(names), score=100 * heat["score"].astype(float))
    cells_base = alt.Chart(heat).encode(
        x=alt.X("benchmark:N", sort=list(names.values()), title=None, axis=alt.Axis(labelAngle=-30)),
        y=alt.Y("agent:N", sort=order, title=None),
    )
    heatmap = alt.layer(
        cells_base.mark_rect().encode(
            color=alt.Color(
                "score:Q", title="score ×100", scale=alt.Scale(scheme="viridis", domain=[0, 100])
            ),
            tooltip=["agent", "benchmark", alt.Tooltip("score:Q", format=".1f")],
        ),
        cells_base.mark_text(fontSize=12).encode(
            text=alt.Text("score:Q", format=".1f"),
            color=alt.condition("datum.score > 60", alt.value("black"), alt.value("white")),
        ),
    ).properties(title="Score by benchmark (mean over models and runs)", width=alt.Step(64))

    hours = cells.dropna(subset=["wall_seconds"]).assign(
        agent=lambda d: d["agent"].map(agents), hours=lambda d: d["wall_seconds"] / 3600
    )[["agent", "hours"]]
    budget = pd.DataFrame({"budget": [budget_hours]})
    time = alt.layer(
        alt.Chart(hours)
        .mark_boxplot(extent="min-max")
        .encode(
            x=alt.X("hours:Q", title="hours per run (agent wall clock)"),
            y=alt.Y("agent:N", sort=order, title=None),
        ),
        alt.Chart(budget).mark_rule(color="#e45756", strokeDash=[4, 3]).encode(x="budget:Q"),
    ).properties(title=f"Time used per run (budget {budget_hours} h, dashed)", width=width)
    held = usage[usage["gpu_hours"] > 0] if usage is not None and len(usage) else None
    if held is not None and len(held):  # on CPU (no stage holds a GPU) there is nothing to stack
        gpu_hours = (
            alt.Chart(held)
            .mark_bar()
            .encode(
                x=alt.X("gpu_hours:Q", stack="zero", title="GPU-hours (all jobs)"),
                y=alt.Y("agent:N", sort=[*order, "baselines"], title=None),
                color=alt.Color("stage:N", sort=["agent", "evaluate", "judge"]),
                tooltip=["agent", "stage", alt.Tooltip("gpu_hours:Q", format=".2f"), "jobs:Q"],
            )
            .properties(title="GPU-hours per agent and stage", width=width)
        )
        time = alt.vconcat(time, gpu_hours)

    counts = agent_rows.melt(
        id_vars=["agent"], value_vars=list(outcomes.CELL), var_name="outcome", value_name="count"
    )
    counts = counts[counts["count"] > 0].assign(rank=lambda d: d["outcome"].map(outcomes.CELL.index))
    outcome_counts = (
        alt.Chart(counts)
        .mark_bar()
        .encode(
            x=alt.X("count:Q", stack="zero", title="cells"),
            y=alt.Y("agent:N", sort=order, title=None),
            color=alt.Color(
                "outcome:N",
                scale=alt.Scale(domain=list(OUTCOME_COLORS), range=list(OUTCOME_COLORS.values())),
                sort=list(outcomes.CELL),
            ),
            order=alt.Order("rank:Q"),
            tooltip=["agent", "outcome", "count:Q"],
        )
        .properties(title="Outcomes per agent (judge verdicts, failures)", width=width)
    )

    charts = {"ranking": ranking, "heatmap": heatmap, "time": time, "outcomes": outcome_counts}
    scored = "no agent or baseline has a score yet"
    empty = {
        "ranking": None if ranked["score"].notna().any() else scored,
        "heatmap": None if heat["score"].notna().any() else scored,
        "time": None if len(hours) else "no agent run has recorded its wall time yet",
        "outcomes": None if len(counts) else "no agent cell yet",
    }
    return {
        name: NoData(f"{name}: no data ({empty[name]})") if empty[name] else c for name, c in charts.items()
    }


class NoData(str):
    """A chart left out for want of data: the page shows none, its declared files (the rule's
    outputs, in snakemake's report) say this instead of drawing an empty frame."""


def _placeholder(text: str) -> alt.Chart:
    return (
        alt.Chart(pd.DataFrame({"text": [text]}))
        .mark_text(align="left", fontSize=13, color="#666")
        .encode(text="text:N")
        .properties(width=420, height=30)
    )


def save_all(charts: dict, out_dir) -> dict[str, str]:
    """Write <name>.html/.svg/.png for each chart (a NoData one: a line saying so, as the rule
    declares every chart's files); return name -> SVG text of the charts with data."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    svgs = {}
    for name, chart in charts.items():
        drawn = not isinstance(chart, NoData)
        # altair refuses data over 5,000 rows; the time chart has a row per run (a 100x sweep:
        # 33,600), which vl-convert renders in seconds (docs/sweeps.md)
        with alt.data_transformers.disable_max_rows():
            spec = (chart if drawn else _placeholder(chart)).to_dict()
        svg = vlc.vegalite_to_svg(spec)
        io.write_text_atomic(out / f"{name}.svg", svg)
        io.write_text_atomic(out / f"{name}.html", vlc.vegalite_to_html(spec, bundle=True))
        io.write_bytes_atomic(out / f"{name}.png", vlc.vegalite_to_png(spec, scale=2))
        if drawn:
            svgs[name] = svg
    return svgs
