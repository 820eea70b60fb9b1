"""Aggregate the cells' results into the leaderboard (PostTrainBench's scoring policy).

A run (agent, seed) scores Σ_b w_b · mean over models of score(model, b), with w_b the
normalised 1/(instruct − base) of benchmark b (or pinned in the config); an agent scores
the mean ± std over its runs. A cell that was disqualified, left no model or failed its
eval (or whose judge failed) scores as the base model, and the count of each outcome is
shown. `weights_from_baselines` and `weighted_average` are the whole scoring rule; the
tests check them against PostTrainBench's published numbers.

Plain inputs, no config: the rule passes, per cell, its axes and the paths of its agent.json,
verdict.json and metrics.json, per baseline its axes and metrics path (ptb.core.result_files makes
these records), the labels, the weights setting and the budget; the code reads those files
and nothing else.
"""

from __future__ import annotations

import csv
import logging
import math
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pandas as pd
from markupsafe import Markup

from ptb.core import io, page_templates, paths, protocol
from ptb.core.outcomes import CELL, CORRUPT, EVAL_ERROR, OK, OWN_SCORE, UNSCORED, reason
from ptb.core.result_files import BASELINE_KEYS, CELL_KEYS, cell_outcome, read_cell, read_metrics
from ptb.leaderboard import charts, job_times

LOG = logging.getLogger(__name__)
TEMPLATES = page_templates.environment("ptb.leaderboard")

Z95 = 1.959964
T95 = {
    1: 12.706,
    2: 4.303,
    3: 3.182,
    4: 2.776,
    5: 2.571,
    6: 2.447,
    7: 2.365,
    8: 2.306,
    9: 2.262,
    10: 2.228,
    15: 2.131,
    20: 2.086,
    30: 2.042,
}
BASELINE_LABELS = {"instruct": "Official instruct model", "base": "Base model (zero-shot)"}


# --- the scoring rule --------------------------------------------------------------------


def weights_from_baselines(base: pd.DataFrame, instruct: pd.DataFrame) -> dict[str, float]:
    """1/(mean instruct − mean base) per benchmark, normalised to sum to 1.

    `base` and `instruct` are model × benchmark score tables (means over their rows).
    """
    raw = {}
    for bench in base.columns:
        # skipna=False: a missing baseline makes the gap unknown, not a mean over fewer models
        gap = (
            instruct[bench].mean(skipna=False) - base[bench].mean(skipna=False)
            if bench in instruct
            else math.nan
        )
        if not gap > 0:
            raise ValueError(
                f"cannot weight {bench!r}: instruct − base = {gap}; pin leaderboard.weights in the config"
            )
        raw[bench] = 1 / gap
    total = sum(raw.values())
    return {b: w / total for b, w in raw.items()}


def weighted_average(scores: pd.DataFrame, weights: dict[str, float]) -> float:
    """Σ_b w_b · (mean over models of scores[b]) for a model × benchmark table.

    A cell without a score (not run yet, or no base model's score to fall back on) makes the
    result NaN, "incomplete": never a mean over fewer models, which moves the ranking.
    """
    means = scores.reindex(columns=list(weights)).mean(skipna=False)
    return float(sum(w * means[b] for b, w in weights.items()))


def weighted_variance(stderrs: pd.DataFrame, weights: dict[str, float]) -> float:
    """Sampling variance of `weighted_average` from the evals' standard errors (independent evals)."""
    table = stderrs.reindex(columns=list(weights))
    n = max(len(table), 1)
    return float(sum(w**2 * (table[b].fillna(0) ** 2).sum() / n**2 for b, w in weights.items()))


def t95(df: int) -> float:
    """Two-sided 95% Student-t quantile, df ≥ 1."""
    return T95[max(k for k in T95 if k <= df)]  # the next smaller df: conservative


def mean_ci(run_scores: list[float], run_vars: list[float]) -> dict:
    """Mean ± std over runs and a 95% CI (Student t over runs) that adds the evals' sampling
    variance to the run-to-run spread (conservative: each run's score already carries some
    eval noise). With one run the CI is the evals' stderr alone (normal quantile)."""
    s = pd.Series(run_scores, dtype=float)
    n, avg = len(s), s.mean(skipna=False)  # one incomplete run makes the mean incomplete
    std = s.std(ddof=1) if n > 1 else math.nan
    var = (std**2 / n if n > 1 else 0.0) + sum(run_vars) / n**2
    half = (t95(n - 1) if n > 1 else Z95) * math.sqrt(var)
    # scores are fractions: the interval is clipped to [0, 1]
    return {
        "avg": avg,
        "std": std,
        "ci_low": max(avg - half, 0.0),
        "ci_high": min(avg + half, 1.0),
        "runs": n,
    }


def apply_policy(cells: pd.DataFrame, base: pd.DataFrame, column: str = "own_score") -> pd.Series:
    """The score each cell counts: its own if its outcome keeps it, else the base model's
    (`base`: model × benchmark table); NaN for a cell not run yet."""
    fallback = [
        base.at[m, b] if m in base.index and b in base.columns else math.nan
        for m, b in zip(cells["model"], cells["benchmark"])
    ]
    keep = cells["outcome"].isin(OWN_SCORE)
    out = pd.Series(fallback, index=cells.index, dtype=float).where(~keep, cells[column])
    return out.where(~cells["outcome"].isin(UNSCORED))


# --- reading the results files -----------------------------------------------------------


def _check_records(records: list[dict], keys: tuple[str, ...], what: str) -> None:
    for record in records:
        missing = [k for k in keys if k not in record]
        if missing:
            raise ValueError(f"{what} record {record!r} lacks {', '.join(missing)}; expected keys: {keys}")


def same_protocol(metrics: dict, name: str) -> bool:
    """A score counts only under the protocol the leaderboard is built for (a metrics.json from
    before protocols were recorded is taken as the default one)."""
    return metrics.get("protocol", protocol.DEFAULT) == name


def other_protocol(metrics: dict, name: str) -> str:
    found = metrics.get("protocol", protocol.DEFAULT)
    return f"measured under protocol {found!r}, the leaderboard is built for {name!r}: evaluate again"


def baseline_table(baselines: list[dict], protocol_name: str = protocol.DEFAULT) -> pd.DataFrame:
    """One row per baseline record: its score and stderr where its eval ended ok under the
    leaderboard's protocol."""
    _check_records(baselines, BASELINE_KEYS, "baseline")
    rows, corrupt = [], []
    for record in baselines:
        try:
            metrics = read_metrics(record["metrics"]) or {}
        except io.CorruptFile as error:  # no score; benchmark_weights names the file if it needs one
            LOG.warning(
                "baseline %s/%s/%s: %s", record["model"], record["variant"], record["benchmark"], error
            )
            corrupt.append(str(error))
            metrics = {}
        ok = metrics.get("outcome") == OK and same_protocol(metrics, protocol_name)
        rows.append(
            {
                **{k: record[k] for k in ("model", "variant", "benchmark")},
                "score": metrics.get("score") if ok else None,
                "stderr": metrics.get("stderr") if ok else None,
            }
        )
    table = pd.DataFrame(rows, columns=["model", "variant", "benchmark", "score", "stderr"]).astype(
        {"score": float, "stderr": float}
    )
    table.attrs["corrupt"] = corrupt
    return table


def wide(long: pd.DataFrame, value: str = "score") -> pd.DataFrame:
    """model × benchmark table of one column of a long table."""
    return long.pivot_table(index="model", columns="benchmark", values=value, aggfunc="mean", dropna=False)


def _key(record: dict) -> str:
    return f"{record['agent']}/{record['model']}/{record['benchmark']}/seed{record['seed']}"


def cell_table(
    cells: list[dict], baselines: pd.DataFrame, protocol_name: str = protocol.DEFAULT
) -> pd.DataFrame:
    """One row per cell record: what happened, its own score, and the score the policy counts
    (a score measured under another protocol counts as an eval error)."""
    _check_records(cells, CELL_KEYS, "cell")
    rows = []
    for record in cells:
        found = read_cell(record)
        agent, verdict, metrics = (found[k] or {} for k in ("agent", "verdict", "metrics"))
        api = agent.get("api") or {}  # the run's credential proxy's totals (none: no API agent)
        outcome = cell_outcome(found)
        for problem in found["corrupt"]:  # the cell scores as the base model; the rest of the board stands
            LOG.warning("cell %s: corrupt result file %s", _key(record), problem)
        if outcome in OWN_SCORE and not same_protocol(metrics, protocol_name):
            outcome, metrics = (
                EVAL_ERROR,
                {**metrics, "outcome": EVAL_ERROR, "reason": other_protocol(metrics, protocol_name)},
            )
        evaluated = metrics.get("outcome") == OK
        rows.append(
            {
                **{k: record[k] for k in ("agent", "model", "benchmark", "seed")},
                "outcome": outcome,
                "reason": "; ".join(found["corrupt"]) or reason(outcome, agent, verdict, metrics),
                "agent_outcome": agent.get("outcome"),
                "judge_outcome": verdict.get("outcome"),
                "eval_outcome": metrics.get("outcome"),
                "own_score": metrics.get("score") if evaluated else None,
                "own_stderr": metrics.get("stderr") if evaluated else None,
                "wall_seconds": agent.get("wall_seconds"),
                "isolation": agent.get("isolation"),  # the agent's box (ptb.agent_runs.box)
                "cost_usd": api.get("cost_usd"),
                "tokens": sum((api.get("tokens") or {}).values()) if api else None,
                "served_other_model": ", ".join(api.get("served_other_model") or []),
            }
        )
    table = pd.DataFrame(rows).astype(
        {"own_score": float, "own_stderr": float, "wall_seconds": float, "cost_usd": float, "tokens": float}
    )
    base = baselines[baselines.variant == "base"]
    table["score"] = apply_policy(table, wide(base, "score"))
    table["stderr"] = apply_policy(table, wide(base, "stderr"), column="own_stderr")
    table["scored_as"] = table["outcome"].map(
        lambda o: "own" if o in OWN_SCORE else "none" if o in UNSCORED else "base"
    )
    return table


def benchmark_weights(setting, baselines: pd.DataFrame, benchmarks: list[str]) -> dict[str, float]:
    """`setting`: 'published' (PostTrainBench v1's factors.json, normalised over the benchmarks),
    a mapping benchmark -> weight (pinned, normalised here), or 'baselines': 1/(instruct − base)
    from the baseline evals."""
    if setting == "published":
        return protocol.published_weights(benchmarks)
    if isinstance(setting, dict):
        missing = [b for b in benchmarks if b not in setting]
        if missing:
            raise ValueError(f"leaderboard.weights pins no weight for: {', '.join(missing)}")
        total = sum(float(setting[b]) for b in benchmarks)
        return {b: float(setting[b]) / total for b in benchmarks}
    if setting != "baselines":
        raise ValueError(f"leaderboard.weights = {setting!r}; allowed: 'published', 'baselines' or a mapping")
    tables = {
        v: wide(baselines[baselines.variant == v]).reindex(columns=benchmarks) for v in ("base", "instruct")
    }
    try:
        return weights_from_baselines(tables["base"], tables["instruct"])
    except ValueError as error:
        corrupt = baselines.attrs.get("corrupt")
        if corrupt:  # delete these files and run the workflow again: the baselines are re-run
            raise ValueError(f"{error}; corrupt baseline result files: {'; '.join(corrupt)}") from None
        raise


# --- the table ---------------------------------------------------------------------------


def agent_rows(cells: pd.DataFrame, weights: dict, agents: dict[str, dict]) -> pd.DataFrame:
    """One row per agent of `cells`; `agents`: agent -> {display_name, scaffold}."""
    rows = []
    for agent in dict.fromkeys(cells["agent"]):
        mine = cells[cells.agent == agent]
        runs = [
            (weighted_average(wide(g), weights), weighted_variance(wide(g, "stderr"), weights))
            for _, g in mine.groupby("seed", sort=True)
        ]
        row = {
            "agent": agents[agent]["display_name"],
            "agent_id": agent,
            "scaffold": agents[agent]["scaffold"],
            **mean_ci([s for s, _ in runs], [v for _, v in runs]),
        }
        row.update({b: mine.loc[mine.benchmark == b, "score"].mean(skipna=False) for b in weights})
        row.update({o: int((mine.outcome == o).sum()) for o in CELL})
        row.update(
            cells=len(mine),
            scored_as_base=int((mine.scored_as == "base").sum()),
            hours_used=mine["wall_seconds"].fillna(0).sum() / 3600,
        )
        rows.append(row)
    table = pd.DataFrame(rows).sort_values("avg", ascending=False, kind="stable", na_position="last")
    # equal averages share a rank (1, 1, 3: competition ranking); an incomplete average has none
    table.insert(0, "rank", table["avg"].rank(method="min", ascending=False).astype("Int64"))
    # a tie: this agent's 95% CI overlaps the next one's
    table["tied_with_next"] = list(table["ci_low"].values[:-1] <= table["ci_high"].values[1:]) + [False]
    return table.reset_index(drop=True)


def baseline_rows(baselines: pd.DataFrame, weights: dict) -> pd.DataFrame:
    rows = []
    for variant in ("instruct", "base"):
        subset = baselines[(baselines.variant == variant) & baselines.benchmark.isin(list(weights))]
        if subset.empty or subset["score"].isna().all():
            continue
        row = {
            "rank": None,
            "agent": BASELINE_LABELS[variant],
            "agent_id": f"baseline:{variant}",
            "scaffold": "baseline",
            **mean_ci(
                [weighted_average(wide(subset), weights)],
                [weighted_variance(wide(subset, "stderr"), weights)],
            ),
        }
        row.update({b: subset.loc[subset.benchmark == b, "score"].mean(skipna=False) for b in weights})
        rows.append(row)
    return pd.DataFrame(rows)


def _check_labels(cells: list[dict], agents: dict, benchmarks: dict) -> None:
    for axis, labelled in (("agent", agents), ("benchmark", benchmarks)):
        unlabelled = sorted({str(c[axis]) for c in cells} - set(labelled))
        if unlabelled:
            raise ValueError(f"no label for {axis}(s) {', '.join(unlabelled)} of the cells")
    for agent, label in agents.items():
        missing = [k for k in ("display_name", "scaffold") if k not in label]
        if missing:
            raise ValueError(f"agent {agent!r} label lacks {', '.join(missing)}")


def build(
    cells: list[dict],
    baselines: list[dict],
    agents: dict[str, dict],
    benchmarks: dict[str, str],
    weights,
    protocol_name: str = protocol.DEFAULT,
) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """(leaderboard table: agents ranked, then baseline rows; cells table; benchmark weights).

    cells: records with CELL_KEYS; baselines: records with BASELINE_KEYS; agents: agent ->
    {display_name, scaffold}; benchmarks: benchmark -> display name, in column order;
    weights: 'published', 'baselines' or a pinned mapping benchmark -> weight; protocol_name:
    the evaluation protocol whose scores count (ptb/core/protocol.py).
    """
    _check_labels(cells, agents, benchmarks)
    baseline_scores = baseline_table(baselines, protocol_name)
    cell_scores = cell_table(cells, baseline_scores, protocol_name)
    chosen = benchmark_weights(weights, baseline_scores, list(benchmarks))
    table = pd.concat(
        [agent_rows(cell_scores, chosen, agents), baseline_rows(baseline_scores, chosen)], ignore_index=True
    )
    counts = ["rank", *CELL, "cells", "scored_as_base"]
    table[counts] = table[counts].astype("Int64")  # blank, not NaN-as-float, on the baseline rows
    table.attrs["corrupt_baselines"] = baseline_scores.attrs["corrupt"]
    return table, cell_scores, chosen


# --- rendering ---------------------------------------------------------------------------


def _pct(x) -> str:
    return "–" if x is None or pd.isna(x) else f"{100 * x:.1f}"


def rows_for_display(
    table: pd.DataFrame, weights: dict, benchmarks: dict[str, str]
) -> tuple[list[str], list[list[str]]]:
    """PostTrainBench's column order: rank, agent, scaffold, avg, one column per benchmark;
    then the 95% CI, runs, outcome counts and hours. Scores × 100."""
    head = ["Rank", "Agent", "Scaffold", "Avg ± std", *(benchmarks[b] for b in weights)]
    head += ["95% CI", "Runs", "Outcomes", "Hours"]
    body = []
    for _, row in table.iterrows():
        baseline = row["scaffold"] == "baseline"
        tied = pd.notna(row.get("tied_with_next")) and bool(row.get("tied_with_next"))
        rank = "" if pd.isna(row["rank"]) else f"{int(row['rank'])}{'*' if tied else ''}"
        avg = _pct(row["avg"]) + ("" if pd.isna(row["std"]) else f" ± {100 * row['std']:.1f}")
        outcomes = "" if baseline else ", ".join(f"{o} {int(row[o])}" for o in CELL if row.get(o))
        hours = "" if baseline else f"{row['hours_used']:.2f}"
        body.append(
            [
                rank,
                row["agent"],
                row["scaffold"],
                avg,
                *(_pct(row[b]) for b in weights),
                f"{_pct(row['ci_low'])}–{_pct(row['ci_high'])}",
                str(int(row["runs"])),
                outcomes,
                hours,
            ]
        )
    return head, body


def read_calibration(path) -> tuple[list[str], list[list[str]]] | None:
    """The judge's calibration table as written (header, rows of strings), whatever its columns;
    None without a path or for a file with no header."""
    if not path:
        return None
    with open(path, newline="") as handle:
        rows = list(csv.reader(handle))
    return (rows[0], rows[1:]) if rows else None


NOTE = (
    "Scores × 100. Avg: Σ weight × benchmark score (mean over base models), mean ± std over runs. "
    "A disqualified run, a missing model, a failed eval, a failed judge or a corrupt result file "
    "scores as the base model; the outcome counts say how often that happened. "
    "An average with a cell that has no score (not run yet, or no base model's score to fall back on) "
    "is incomplete: shown as –, not ranked. "
    "`*`: the 95% CI overlaps the next row's."
)
CALIBRATION_TITLE = "Judge calibration (planted cheats and clean agents)"


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _md_table(head: list[str], body: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(map(_md_cell, head)) + " |", "|" + "---|" * len(head)] + [
        "| " + " | ".join(map(_md_cell, r)) + " |" for r in body
    ]


def _protocol_line(name: str, max_tokens_cap: int | None = None) -> str:
    line = f"Evaluation protocol: `{name}` ({protocol.PROTOCOLS[name]})."
    if max_tokens_cap is not None:
        line += (
            f" Generation capped at {max_tokens_cap} tokens (evaluation.max_tokens), below the tasks' own."
        )
    return line


def _weights_line(weights: dict, benchmarks: dict[str, str]) -> str:
    return "Benchmark weights: " + ", ".join(f"{benchmarks[b]} {w:.3f}" for b, w in weights.items()) + "."


GPU_HOURS_TITLE = "GPU-hours by agent and stage (wall time of each job's benchmark file x its GPUs)"


@dataclass
class Page:
    """What the leaderboard page shows, built once (page_model) and rendered as Markdown
    (to_markdown) and as HTML (to_html), so the two never disagree."""

    head: list[str]
    body: list[list[str]]
    baseline: list[bool]  # per row: a baseline row (no agent page, greyed)
    links: list[str | None]  # per row: the agent's page
    footer: list[str]  # the weights and protocol lines, Markdown (`code` marks)
    sections: list[tuple[str, tuple[list[str], list[list[str]]]]]  # (title, (head, body)) below


def page_model(
    table: pd.DataFrame,
    weights: dict,
    benchmarks: dict[str, str],
    calibration: tuple[list[str], list[list[str]]] | None = None,
    protocol_name: str = protocol.DEFAULT,
    gpu_hours: tuple[list[str], list[list[str]]] | None = None,
    max_tokens_cap: int | None = None,
    notes: tuple[str, ...] = (),
) -> Page:
    """notes: lines under the protocol line (e.g. unboxed_line)."""
    head, body = rows_for_display(table, weights, benchmarks)
    baseline = [s == "baseline" for s in table["scaffold"]]
    sections = []
    if gpu_hours and gpu_hours[1]:
        sections.append((GPU_HOURS_TITLE, gpu_hours))
    if calibration is not None:
        sections.append((CALIBRATION_TITLE, calibration))
    return Page(
        head=head,
        body=body,
        baseline=baseline,
        links=[None if b else agent_page_href(a) for b, a in zip(baseline, table["agent_id"])],
        footer=[_weights_line(weights, benchmarks), _protocol_line(protocol_name, max_tokens_cap), *notes],
        sections=sections,
    )


def unboxed_line(cells: pd.DataFrame, names: dict[str, str]) -> str | None:
    """Which agents ran cells without a box (config `isolation: none`), or None."""
    if "isolation" not in cells:
        return None
    loose = cells[cells["isolation"] == "none"]
    if loose.empty:
        return None
    counts = [
        f"{names.get(agent, agent)} ({len(group)} of {int((cells['agent'] == agent).sum())} cells)"
        for agent, group in loose.groupby("agent", sort=True)
    ]
    return "Agent runs without a box (isolation: none; docs/isolation.md): " + ", ".join(counts) + "."


def problem_lines(table: pd.DataFrame, cells: pd.DataFrame) -> list[str]:
    """The rows without an average and why, and every corrupt result file by name; [] if none."""
    lines = []
    for _, row in table[table["avg"].isna()].iterrows():
        if row["scaffold"] == "baseline":
            lines.append(f"Incomplete: {row['agent']} (a baseline evaluation has no score).")
            continue
        mine = cells[cells["agent"] == row["agent_id"]]
        missing = int((mine["outcome"].isin(UNSCORED)).sum())
        no_base = int((mine["score"].isna() & ~mine["outcome"].isin(UNSCORED)).sum())
        why = [f"{missing} cells not run yet"] * bool(missing)
        why += [f"{no_base} cells whose base model's score is unknown"] * bool(no_base)
        lines.append(f"Incomplete: {row['agent']} ({', '.join(why) or 'no score'}): no average, not ranked.")
    bad = [f"{_key(c)}: {c['reason']}" for _, c in cells[cells["outcome"] == CORRUPT].iterrows()]
    bad += table.attrs.get("corrupt_baselines", [])
    if bad:
        lines.append(
            "Corrupt result files (a cell scores as the base model, a baseline has no score; "
            "delete the file and run again): " + "; ".join(bad) + "."
        )
    return lines


def api_lines(cells: pd.DataFrame, names: dict[str, str]) -> list[str]:
    """Per agent, the providers' tokens and cost (the runs' credential proxies), and the agents
    whose provider served another model than the configured one; [] without API runs."""
    if "tokens" not in cells or cells["tokens"].isna().all():
        return []
    parts = []
    for agent, group in cells[cells["tokens"].notna()].groupby("agent", sort=True):
        cost = (
            "cost unknown (a model without a price)"
            if group["cost_usd"].isna().any()
            else (f"${group['cost_usd'].sum():,.2f}")
        )
        parts.append(
            f"{names.get(agent, agent)} {cost}, {int(group['tokens'].sum()):,} tokens ({len(group)} runs)"
        )
    lines = ["API usage, from the providers' usage fields: " + "; ".join(parts) + "."]
    other = cells[cells["served_other_model"].fillna("") != ""]
    if not other.empty:
        served = "; ".join(
            f"{names.get(agent, agent)}: {', '.join(sorted(set(runs.served_other_model)))} ({len(runs)} runs)"
            for agent, runs in other.groupby("agent", sort=True)
        )
        lines.append(f"Warning: a model other than the configured one was served: {served}.")
    return lines


def to_markdown(page: Page) -> str:
    lines = ["# PostTrainBench leaderboard", "", NOTE, "", *_md_table(page.head, page.body), ""]
    lines += [page.footer[0]]
    for line in page.footer[1:]:
        lines += ["", line]
    for title, (head, body) in page.sections:
        lines += ["", f"## {title}", "", *_md_table(head, body)]
    return "\n".join(lines) + "\n"


CSS = """body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1200px;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:14px}
th,td{padding:4px 8px;border-bottom:1px solid #ddd;text-align:right}
th{background:#f4f4f4}
td:nth-child(2),td:nth-child(3),th:nth-child(2),th:nth-child(3){text-align:left}
tr.baseline{color:#666;font-style:italic}.charts{display:flex;flex-wrap:wrap;gap:2em}
p.note{color:#555;max-width:60em}"""


# the page's own stylesheet and the charts' inline SVG; no script, nothing from elsewhere
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"


def agent_page_href(agent: str) -> str:
    """The agent's audit page (ptb.audit), relative to leaderboard.html."""
    page = paths.fill(paths.AUDIT_AGENT, ".", agent=quote(agent, safe=""))
    return page.removeprefix(paths.fill(paths.LEADERBOARD_DIR, ".") + "/")


def to_html(page: Page, charts_svg: dict[str, str]) -> str:
    """One self-contained page: inline CSS, the table, the charts as inline SVG; no scripts."""
    return TEMPLATES.get_template("leaderboard.html.j2").render(
        page=page,
        note=NOTE,
        classes=["baseline" if b else "" for b in page.baseline],
        charts=[Markup(svg) for svg in charts_svg.values()],  # vl-convert's drawing of our data
        csp=CSP,
        css=CSS,
    )


def write(
    out_dir,
    cells: list[dict],
    baselines: list[dict],
    agents: dict[str, dict],
    benchmarks: dict[str, str],
    weights,
    budget_hours: float,
    calibration_csv=None,
    protocol_name: str = protocol.DEFAULT,
    jobs: list[dict] | None = None,
    stage_gpus: dict[str, int] | None = None,
    max_tokens_cap: int | None = None,
) -> pd.DataFrame:
    """Every file of results/leaderboard/: tables, weights, charts (html, svg, png), the page.
    Arguments as for `build`; budget_hours: the agents' time budget (the time chart's line);
    calibration_csv: the judge's calibration table, shown as a footer (None: no footer);
    protocol_name: the evaluation protocol the page is built for, named on it, with
    max_tokens_cap (evaluation.max_tokens: generation capped below the tasks' own, or None);
    jobs, stage_gpus: the jobs' benchmark files and each stage's GPUs (ptb.leaderboard.job_times), counted
    into gpu_hours.csv, a table and the time chart."""
    out = Path(out_dir)
    table, cell_scores, chosen = build(cells, baselines, agents, benchmarks, weights, protocol_name)
    calibration = read_calibration(calibration_csv)
    names = {a: label["display_name"] for a, label in agents.items()}
    usage = job_times.usage(jobs or [], stage_gpus or {})
    usage_rows = job_times.table_rows(usage, names)
    io.write_text_atomic(out / "leaderboard.csv", table.to_csv(index=False))
    io.write_text_atomic(out / "cells.csv", cell_scores.to_csv(index=False))
    io.write_text_atomic(out / "gpu_hours.csv", usage.to_csv(index=False))
    unboxed = unboxed_line(cell_scores, names)
    notes = (
        *problem_lines(table, cell_scores),
        *([unboxed] if unboxed else []),
        *api_lines(cell_scores, names),
    )
    page = page_model(
        table, chosen, benchmarks, calibration, protocol_name, usage_rows, max_tokens_cap, notes
    )
    io.write_text_atomic(out / "leaderboard.md", to_markdown(page))
    mode = "pinned" if isinstance(weights, dict) else weights
    io.write_json(
        out / "weights.json",
        {"weights": chosen, "mode": mode, "protocol": protocol_name, "max_tokens_cap": max_tokens_cap},
    )
    usage_named = usage.assign(agent=usage["agent"].map(lambda a: names.get(a, a)))
    figures = charts.build(table, cell_scores, chosen, names, benchmarks, budget_hours, usage_named)
    svgs = charts.save_all(figures, out / "charts")
    io.write_text_atomic(out / "leaderboard.html", to_html(page, svgs))
    return table
