"""The leaderboard's scoring against PostTrainBench's published numbers, its policy and its outputs.

The reference files in tests/fixtures/reference/ are PostTrainBench v1's published data (see the
README there); the tests run them through the same functions the leaderboard rule uses. The
leaderboard itself takes plain records, labels and settings: no test here builds a config for it.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest
from helpers import dry_run_jobs, snakemake

from ptb.core import config as ptb_config
from ptb.core import grid, paths, result_files
from ptb.leaderboard import charts, leaderboard

REFERENCE = Path(__file__).parents[1] / "fixtures" / "reference"
PRODUCTION = ptb_config.load()  # the published tables name models as the production config does


def reference_table(name: str) -> pd.DataFrame:
    return pd.read_csv(REFERENCE / name, index_col="model")


def baseline_tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    """aggregated_baseline.csv split into base and instruct rows, by the production config's models."""
    table = reference_table("aggregated_baseline.csv")
    models = PRODUCTION["models"].values()
    base = [m["display_name"] for m in models]
    instruct = [m["instruct"]["hf_id"].split("/")[-1] for m in models]
    assert set(base) | set(instruct) == set(table.index)
    return table.loc[base], table.loc[instruct]


FACTORS = json.loads((REFERENCE / "factors.json").read_text())


def test_weights_from_baselines_reproduce_published_factors():
    base, instruct = baseline_tables()
    weights = leaderboard.weights_from_baselines(base, instruct)
    assert list(weights) == list(base.columns)
    assert weights == pytest.approx(FACTORS, abs=1e-9)
    assert sum(weights.values()) == pytest.approx(1.0)


def test_weighted_average_reproduces_published_scores():
    base, instruct = baseline_tables()
    opus = reference_table("aggregated_avg_Opus-4.6.csv")
    assert round(100 * leaderboard.weighted_average(opus, FACTORS), 1) == 23.2
    assert round(100 * leaderboard.weighted_average(base, FACTORS), 1) == 7.5
    assert round(100 * leaderboard.weighted_average(instruct, FACTORS), 1) == 51.1


def test_policy_reproduces_published_final_scores():
    """Cells without metrics and flagged cells score as the base model, the rest keep their own."""
    raw = reference_table("aggregated_claude_non_api_claude-sonnet-4-6_10h.csv")
    final = reference_table("final_claude_non_api_claude-sonnet-4-6_10h.csv")
    base, _ = baseline_tables()
    rows = []
    for model in raw.index:
        for bench in raw.columns:
            value, published = raw.at[model, bench], float(final.at[model, bench])
            if value == "not stored":
                outcome, own = "no_model", math.nan
            elif value == "ERR":
                outcome, own = "eval_error", math.nan
            else:  # a numeric cell that the published table replaced was flagged by the judge
                own = float(value)
                outcome = "ok" if own == pytest.approx(published) else "disqualified"
            rows.append(
                {
                    "model": model,
                    "benchmark": bench,
                    "outcome": outcome,
                    "own_score": own,
                    "published": published,
                }
            )
    cells = pd.DataFrame(rows)
    assert (cells.outcome == "disqualified").sum() >= 2  # e.g. Qwen3-1.7B-Base / bfcl 0.84 -> 0.0
    scored = leaderboard.apply_policy(cells, base)
    assert scored.tolist() == pytest.approx(cells["published"].tolist())


def test_t_quantiles_and_mean_ci():
    assert leaderboard.t95(2) == 4.303 and leaderboard.t95(12) == 2.228 and leaderboard.t95(500) == 2.042
    ci = leaderboard.mean_ci([0.1, 0.2, 0.3], [0.0, 0.0, 0.0])
    assert ci["avg"] == pytest.approx(0.2) and ci["std"] == pytest.approx(0.1)
    assert ci["ci_high"] - ci["avg"] == pytest.approx(4.303 * 0.1 / math.sqrt(3))
    one = leaderboard.mean_ci([0.4], [0.0004])  # one run: the evals' stderr alone
    assert math.isnan(one["std"]) and one["ci_high"] - 0.4 == pytest.approx(1.959964 * 0.02)


# --- a synthetic results tree -------------------------------------------------------------

AGENTS, MODELS, BENCHES, SEEDS = (
    ["claude-opus-4.6", "codex-gpt-5.3"],
    ["qwen3-1.7b", "qwen3-4b"],
    ["gsm8k", "humaneval"],
    [1, 2],
)
BASE = {
    ("qwen3-1.7b", "gsm8k"): 0.1,
    ("qwen3-4b", "gsm8k"): 0.3,
    ("qwen3-1.7b", "humaneval"): 0.1,
    ("qwen3-4b", "humaneval"): 0.1,
}
INSTRUCT = {
    ("qwen3-1.7b", "gsm8k"): 0.9,
    ("qwen3-4b", "gsm8k"): 0.9,
    ("qwen3-1.7b", "humaneval"): 0.6,
    ("qwen3-4b", "humaneval"): 0.6,
}
# codex's cells that do not end ok: (model, benchmark, seed) -> outcome
CODEX_FAILURES = {
    ("qwen3-1.7b", "gsm8k", 1): "disqualified",
    ("qwen3-4b", "gsm8k", 1): "no_model",
    ("qwen3-4b", "humaneval", 2): "eval_error",
    ("qwen3-1.7b", "humaneval", 2): "judge_error",
}


def put(results: Path, template: str, data: dict, **fields) -> None:
    path = Path(paths.fill(template, str(results), **fields))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


AGENT_LABELS = {
    "claude-opus-4.6": {"display_name": "Claude Code (Opus 4.6)", "scaffold": "claude"},
    "codex-gpt-5.3": {"display_name": "Codex CLI (GPT-5.3 Codex)", "scaffold": "codex"},
}
BENCH_LABELS = {"gsm8k": "GSM8K", "humaneval": "HumanEval"}


def cell_records(results: Path) -> list[dict]:
    """What the rule passes: per cell, its axes and the paths of its three result files."""
    axes = {"agents": AGENTS, "models": MODELS, "benchmarks": BENCHES, "seeds": SEEDS}
    return [result_files.cell_record(str(results), cell) for cell in grid.cells(axes)]


def baseline_records(results: Path) -> list[dict]:
    return [
        result_files.baseline_record(str(results), m, v, b)
        for m in MODELS
        for v in ("base", "instruct")
        for b in BENCHES
    ]


def inputs(results: Path, weights="baselines") -> dict:
    """Everything leaderboard.build takes, for the synthetic tree under `results`."""
    return {
        "cells": cell_records(results),
        "baselines": baseline_records(results),
        "agents": AGENT_LABELS,
        "benchmarks": BENCH_LABELS,
        "weights": weights,
    }


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> Path:
    results = tmp_path_factory.mktemp("lb-results")
    for (model, bench), score in BASE.items():
        put(
            results,
            paths.BASELINE_METRICS,
            {"outcome": "ok", "score": score, "stderr": 0.0},
            model=model,
            variant="base",
            benchmark=bench,
        )
        put(
            results,
            paths.BASELINE_METRICS,
            {"outcome": "ok", "score": INSTRUCT[model, bench], "stderr": 0.0},
            model=model,
            variant="instruct",
            benchmark=bench,
        )
    for agent in AGENTS:
        for model in MODELS:
            for bench in BENCHES:
                for seed in SEEDS:
                    cell = dict(agent=agent, model=model, benchmark=bench, seed=seed)
                    failure = CODEX_FAILURES.get((model, bench, seed)) if agent == "codex-gpt-5.3" else None
                    score = {"claude-opus-4.6": 0.5 if seed == 1 else 0.52, "codex-gpt-5.3": 0.4}[agent]
                    has_model = failure != "no_model"
                    put(
                        results,
                        paths.AGENT_JSON,
                        {
                            "outcome": "ok" if has_model else "no_model",
                            "has_model": has_model,
                            "wall_seconds": 1800.0,
                        },
                        **cell,
                    )
                    put(
                        results,
                        paths.VERDICT,
                        {
                            "outcome": failure if failure in ("disqualified", "judge_error") else "clean",
                            "disqualified": failure == "disqualified",
                            "reasons": ["contamination: 40 test items"] if failure == "disqualified" else [],
                        },
                        **cell,
                    )
                    metrics = (
                        {"outcome": "no_model"}
                        if not has_model
                        else {"outcome": "eval_error", "reason": "boom"}
                        if failure == "eval_error"
                        else {
                            "outcome": "ok",
                            "score": 0.95 if failure == "disqualified" else score,
                            "stderr": 0.0,
                        }
                    )
                    put(results, paths.METRICS, metrics, **cell)
    return results


def expected_run(gsm8k: float, humaneval: float) -> float:
    w_gsm8k, w_he = 1 / 0.7, 1 / 0.5  # 1/(instruct − base), means over the two models
    return (w_gsm8k * gsm8k + w_he * humaneval) / (w_gsm8k + w_he)


def test_aggregation_applies_the_policy_and_counts_outcomes(results):
    table, cells, weights = leaderboard.build(**inputs(results))
    assert weights == pytest.approx({"gsm8k": (1 / 0.7) / (1 / 0.7 + 2), "humaneval": 2 / (1 / 0.7 + 2)})
    rows = table.set_index("agent")
    assert list(table["agent"]) == [
        "Claude Code (Opus 4.6)",
        "Codex CLI (GPT-5.3 Codex)",
        "Official instruct model",
        "Base model (zero-shot)",
    ]
    assert list(table["rank"][:2]) == [1, 2] and table["rank"][2:].isna().all()

    claude = rows.loc["Claude Code (Opus 4.6)"]
    assert claude["avg"] == pytest.approx(0.51) and claude["std"] == pytest.approx(math.sqrt(0.0002))
    assert claude["ci_high"] - claude["avg"] == pytest.approx(12.706 * math.sqrt(0.0002 / 2))  # t, 1 df
    assert claude["ok"] == claude["cells"] == 8 and claude["scored_as_base"] == 0
    assert claude["hours_used"] == pytest.approx(4.0)

    codex = rows.loc["Codex CLI (GPT-5.3 Codex)"]
    run1 = expected_run(gsm8k=(0.1 + 0.3) / 2, humaneval=0.4)  # disqualified, no model -> base
    run2 = expected_run(gsm8k=0.4, humaneval=(0.1 + 0.1) / 2)  # judge error, eval error -> base
    assert codex["avg"] == pytest.approx((run1 + run2) / 2)
    assert {o: codex[o] for o in ("ok", "disqualified", "no_model", "eval_error", "judge_error")} == {
        "ok": 4,
        "disqualified": 1,
        "no_model": 1,
        "eval_error": 1,
        "judge_error": 1,
    }
    assert codex["scored_as_base"] == 4 and codex["gsm8k"] == pytest.approx((0.1 + 0.3 + 0.4 + 0.4) / 4)
    assert codex["ci_low"] == 0.0  # clipped to [0, 1]
    assert bool(claude["tied_with_next"])  # two seeds: wide t intervals that overlap

    assert rows.loc["Base model (zero-shot)", "avg"] == pytest.approx(expected_run(0.2, 0.1))
    assert rows.loc["Official instruct model", "avg"] == pytest.approx(expected_run(0.9, 0.6))

    flagged = cells[
        (cells.agent == "codex-gpt-5.3")
        & (cells.model == "qwen3-1.7b")
        & (cells.benchmark == "gsm8k")
        & (cells.seed == 1)
    ].iloc[0]
    assert (flagged["outcome"], flagged["own_score"], flagged["score"], flagged["scored_as"]) == (
        "disqualified",
        0.95,
        0.1,
        "base",
    )
    assert "contamination" in flagged["reason"]


def test_pinned_weights_are_normalised_and_must_cover_the_grid(results):
    _, _, weights = leaderboard.build(**inputs(results, weights={"gsm8k": 1, "humaneval": 3}))
    assert weights == {"gsm8k": 0.25, "humaneval": 0.75}
    with pytest.raises(ValueError, match="humaneval"):
        leaderboard.build(**inputs(results, weights={"gsm8k": 1}))
    with pytest.raises(ValueError, match="'instruct'.*allowed: 'published', 'baselines'"):
        leaderboard.build(**inputs(results, weights="instruct"))


def test_a_cell_not_run_yet_is_missing_not_base(results, tmp_path):
    partial = tmp_path / "partial"
    shutil.copytree(results, partial)
    Path(
        paths.fill(
            paths.METRICS, str(partial), agent="claude-opus-4.6", model="qwen3-4b", benchmark="gsm8k", seed=2
        )
    ).unlink()
    table, cells, _ = leaderboard.build(**inputs(partial))
    claude = table.set_index("agent").loc["Claude Code (Opus 4.6)"]
    assert claude["missing"] == 1 and claude["ok"] == 7
    assert cells["score"].isna().sum() == 1  # never silently replaced by the base model


# the judge's calibration table, in whatever columns it has: here per class recall and false
# positives, an empty ratio (no clean runs), names with spaces and a value holding a `|`
CALIBRATION = (
    "check,cheats,true_positive,false_negative,recall,clean_runs,false_positive,precision,missed\n"
    "contamination,2,1,1,0.5,0,0,,cheat_paraphrase\n"
    "model_identity,1,1,0,1.0,3,1,0.5,\n"
    'verdict,3,2,1,0.6667,3,0,1.0,"a|b"\n'
)


@pytest.fixture(scope="module")
def rendered(results, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("lb-out")
    calibration = out / "calibration.csv"
    calibration.write_text(CALIBRATION)
    leaderboard.write(
        out / "leaderboard", **inputs(results), budget_hours=10, calibration_csv=str(calibration)
    )
    return out / "leaderboard"


def test_writes_every_output(rendered):
    expected = {
        "leaderboard.csv",
        "leaderboard.md",
        "leaderboard.html",
        "weights.json",
        "cells.csv",
        "gpu_hours.csv",
    } | {f"charts/{c}.{ext}" for c in paths.CHARTS for ext in ("html", "svg", "png")}
    assert {str(p.relative_to(rendered)) for p in rendered.rglob("*") if p.is_file()} == expected
    assert (rendered / "charts" / "ranking.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads((rendered / "weights.json").read_text())["mode"] == "baselines"
    assert len(pd.read_csv(rendered / "cells.csv")) == 16
    time_chart = (rendered / "charts" / "time.svg").read_text()
    assert "budget 10 h" in time_chart and "Claude Code (Opus 4.6)" in time_chart  # labels, not ids


def test_markdown_has_posttrainbench_columns_and_calibration_footer(rendered):
    md = (rendered / "leaderboard.md").read_text()
    header = next(line for line in md.splitlines() if line.startswith("| Rank"))
    assert [c.strip() for c in header.strip("|").split("|")][:6] == [
        "Rank",
        "Agent",
        "Scaffold",
        "Avg ± std",
        "GSM8K",
        "HumanEval",
    ]
    row = next(line for line in md.splitlines() if "Codex CLI" in line)
    assert "disqualified 1" in row and "eval_error 1" in row and row.split("|")[3].strip() == "codex"
    footer = md[md.index("## Judge calibration") :].splitlines()
    assert footer[2] == (
        "| check | cheats | true_positive | false_negative | recall | clean_runs | false_positive "
        "| precision | missed |"
    )
    # every value as the csv writes it: integers stay integers, an empty ratio stays empty
    assert "| contamination | 2 | 1 | 1 | 0.5 | 0 | 0 |  | cheat_paraphrase |" in footer
    assert "| model_identity | 1 | 1 | 0 | 1.0 | 3 | 1 | 0.5 |  |" in footer
    assert "| verdict | 3 | 2 | 1 | 0.6667 | 3 | 0 | 1.0 | a\\|b |" in footer  # a `|` cannot split a cell


def test_html_page_is_self_contained(rendered):
    page = (rendered / "leaderboard.html").read_text()
    assert page.count("<svg") == 4 and "<style>" in page and "Judge calibration" in page
    assert "<th>false_positive</th>" in page and "<td>cheat_paraphrase</td>" in page
    assert "<script" not in page and "<link" not in page and 'src="http' not in page
    chart = (rendered / "charts" / "ranking.html").read_text()
    assert "<script src=" not in chart and "vega" in chart  # the vega libraries are inlined


def test_a_chart_without_data_is_left_off_the_page_and_its_files_say_so(results, tmp_path):
    """On CPU no stage holds a GPU: the time chart has no GPU-hours frame under it. Before any agent
    run has recorded its time, the time chart has no data at all: the rule's declared files say so
    in a line and the page shows the other charts only."""
    table, cells, weights = leaderboard.build(**inputs(results))
    names = {a: label["display_name"] for a, label in AGENT_LABELS.items()}
    cpu = pd.DataFrame(
        {"agent": ["Codex CLI"], "stage": ["agent"], "jobs": [2], "hours": [3.0], "gpu_hours": [0.0]}
    )
    figures = charts.build(table, cells, weights, names, BENCH_LABELS, 10, cpu)
    assert "GPU-hours" not in json.dumps(figures["time"].to_dict()), "an empty GPU-hours frame on CPU"
    untimed = cells.assign(wall_seconds=float("nan"))
    figures = charts.build(table, untimed, weights, names, BENCH_LABELS, 10, cpu)
    assert isinstance(figures["time"], charts.NoData)
    assert not any(isinstance(figures[n], charts.NoData) for n in ("ranking", "heatmap", "outcomes"))
    svgs = charts.save_all(figures, tmp_path)
    assert sorted(svgs) == ["heatmap", "outcomes", "ranking"]
    assert "no data" in (tmp_path / "time.svg").read_text() and (tmp_path / "time.png").stat().st_size
    page = leaderboard.to_html(leaderboard.page_model(table, weights, BENCH_LABELS), svgs)
    assert page.count("<svg") == 3 and "Time used per run" not in page and "no data" not in page


def test_no_calibration_table_without_the_file(results):
    table, _, weights = leaderboard.build(**inputs(results))
    assert leaderboard.read_calibration(None) is None
    assert (
        "calibration"
        not in leaderboard.to_markdown(leaderboard.page_model(table, weights, BENCH_LABELS, None)).lower()
    )


def test_reads_only_the_files_it_is_given(results, tmp_path):
    """The records decide which file belongs to which cell or baseline, not the tree's layout."""
    elsewhere = tmp_path / "elsewhere"  # baselines from another tree, one base score changed
    for record in baseline_records(results):
        src = Path(record["metrics"])
        dst = elsewhere / src.relative_to(results)
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(src, dst)
    put(
        elsewhere,
        paths.BASELINE_METRICS,
        {"outcome": "ok", "score": 0.5, "stderr": 0.0},
        model="qwen3-1.7b",
        variant="base",
        benchmark="gsm8k",
    )
    records = cell_records(results)
    claude = ("claude-opus-4.6", "qwen3-4b", "gsm8k", 2)
    swapped = next(r for r in records if (r["agent"], r["model"], r["benchmark"], r["seed"]) == claude)
    failed = dict(agent="codex-gpt-5.3", model="qwen3-4b", benchmark="humaneval", seed=2)
    swapped["metrics"] = paths.fill(paths.METRICS, str(results), **failed)  # an eval_error's metrics
    table, cells, _ = leaderboard.build(
        cells=records,
        baselines=baseline_records(elsewhere),
        agents=AGENT_LABELS,
        benchmarks=BENCH_LABELS,
        weights="baselines",
    )
    assert table.set_index("agent").loc["Base model (zero-shot)", "gsm8k"] == pytest.approx((0.5 + 0.3) / 2)
    row = cells.set_index(["agent", "model", "benchmark", "seed"]).loc[claude]
    assert (row["outcome"], row["reason"], row["score"]) == ("eval_error", "boom", 0.3)  # the base score


def test_unlabelled_agents_and_incomplete_records_are_named(results):
    with pytest.raises(ValueError, match="no label for agent.*codex-gpt-5.3"):
        leaderboard.build(
            **{**inputs(results), "agents": {"claude-opus-4.6": AGENT_LABELS["claude-opus-4.6"]}}
        )
    records = cell_records(results)
    del records[3]["verdict"]
    with pytest.raises(ValueError, match="lacks verdict"):
        leaderboard.build(**{**inputs(results), "cells": records})


LEADERBOARD_SLICE = (
    "--configfile", "config/demo.yaml", "--config",
    "select={agents: [noop, sft], models: [tiny-qwen3], benchmarks: [gsm8k], seeds: [1, 2]}", "calibration=",
)  # fmt: skip


def dry_run(*args: str) -> str:
    proc = snakemake("-n", *args)
    return proc.stdout + proc.stderr


def test_the_rule_declares_the_verdicts_scores_and_baselines(tmp_path):
    """The leaderboard job's inputs: each cell's verdict and scores (agent.json, which it reads
    too, is upstream of both: the next test) and each baseline's scores."""
    plan = dry_run_jobs(dry_run("leaderboard", *LEADERBOARD_SLICE, f"results_dir={tmp_path}"))
    job = next(j for j in plan if j["rule"] == "leaderboard")
    cells = grid.cells(
        {"agents": ["noop", "sft"], "models": ["tiny-qwen3"], "benchmarks": ["gsm8k"], "seeds": [1, 2]}
    )
    records = [result_files.cell_record(str(tmp_path), c) for c in cells]
    expected = {r[k] for r in records for k in ("verdict", "metrics")}
    expected.add(result_files.baseline_record(str(tmp_path), "tiny-qwen3", "base", "gsm8k")["metrics"])
    assert set(job["input"].split(", ")) == expected


def test_a_newer_file_of_any_record_re_renders_the_leaderboard(tmp_path):
    """Every file the leaderboard reads is an input or upstream of one: on a finished tree (every
    output of the plan, one mtime), a newer agent.json, verdict or metrics.json of one cell plans
    the leaderboard again, through the jobs that declare it, and no job of another cell."""
    results = tmp_path / "results"
    config = (*LEADERBOARD_SLICE, f"results_dir={results}")
    planned = dry_run_jobs(dry_run(*config))
    finished = 1_700_000_000
    for job in planned:
        for output in filter(None, job.get("output", "").split(", ")):
            path = Path(output)
            if job["rule"] == "agent_view" and path.name == "gsm8k":  # its directory() output
                path.mkdir(parents=True, exist_ok=True)
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.touch()
            os.utime(path, (finished, finished))
    assert "Nothing to be done" in dry_run(*config)
    cell = grid.Cell("sft", "tiny-qwen3", "gsm8k", 2)
    record = result_files.cell_record(str(results), cell)
    for key in ("agent_json", "verdict", "metrics"):
        os.utime(record[key], (finished + 60, finished + 60))
        jobs = dry_run_jobs(dry_run(*config))
        assert "leaderboard" in {j["rule"] for j in jobs}, key
        cell_jobs = [j for j in jobs if "wildcards" in j and "seed=" in j["wildcards"]]
        assert cell_jobs and all(
            "agent=sft" in j["wildcards"] and "seed=2" in j["wildcards"] for j in cell_jobs
        )
        os.utime(record[key], (finished, finished))


def test_a_generation_cap_is_named_under_the_table(results, rendered):
    """A demo's evaluation.max_tokens changes what the scores mean: the page says so, and a
    leaderboard without a cap says nothing about one."""
    table, _, chosen = leaderboard.build(**inputs(results))
    benchmarks = inputs(results)["benchmarks"]
    capped = leaderboard.to_markdown(leaderboard.page_model(table, chosen, benchmarks, max_tokens_cap=256))
    assert "Generation capped at 256 tokens (evaluation.max_tokens)" in capped
    assert "capped" not in (rendered / "leaderboard.md").read_text()
    assert json.loads((rendered / "weights.json").read_text())["max_tokens_cap"] is None


def test_runs_without_a_box_are_named_under_the_table(results):
    """A run made with `isolation: none` (no bubblewrap on the host) is named, per agent; runs in a
    box, and records from before the box was recorded, say nothing."""
    table, cells, weights = leaderboard.build(**inputs(results))
    names = {a: label["display_name"] for a, label in AGENT_LABELS.items()}
    assert leaderboard.unboxed_line(cells, names) is None
    first = cells["agent"].iloc[0]
    cells = cells.assign(isolation="bwrap")
    cells.loc[cells.index[:2], "isolation"] = "none"
    line = leaderboard.unboxed_line(cells, names)
    total = int((cells["agent"] == first).sum())
    assert line == (
        f"Agent runs without a box (isolation: none; docs/isolation.md): {names[first]} (2 of {total} cells)."
    )
    page = leaderboard.to_markdown(leaderboard.page_model(table, weights, BENCH_LABELS, notes=(line,)))
    assert line in page and "<p>Agent runs without a box" in leaderboard.to_html(
        leaderboard.page_model(table, weights, BENCH_LABELS, notes=(line,)), {}
    )


def test_api_usage_and_a_served_model_other_than_configured_are_named(results):
    """Tokens and cost per agent come from agent.json's `api` (the credential proxy's totals);
    a provider that served another model than configured is a warning under the table."""
    _, cells, _ = leaderboard.build(**inputs(results))
    names = {a: label["display_name"] for a, label in AGENT_LABELS.items()}
    assert leaderboard.api_lines(cells, names) == [], "no API runs: nothing to say"
    first = cells["agent"].iloc[0]
    mine = cells["agent"] == first
    cells.loc[mine, "tokens"] = 1000.0
    cells.loc[mine, "cost_usd"] = 0.25
    cells.loc[cells.index[0], "served_other_model"] = "gemini-3.1-pro-preview"
    usage, warning = leaderboard.api_lines(cells, names)
    runs = int(mine.sum())
    assert usage == (
        f"API usage, from the providers' usage fields: {names[first]} ${0.25 * runs:,.2f}, "
        f"{1000 * runs:,} tokens ({runs} runs)."
    )
    assert warning == (
        "Warning: a model other than the configured one was served: "
        f"{names[first]}: gemini-3.1-pro-preview (1 runs)."
    )
    cells.loc[cells.index[1], "cost_usd"] = float("nan")  # a model without a price
    assert "cost unknown" in leaderboard.api_lines(cells, names)[0]


def test_equal_averages_share_a_rank():
    """Competition ranking (1, 1, 3): two agents with the same average are both first; a CI that
    overlaps the next row's is still marked `*`."""
    rows = []
    for agent, score in (("a", 0.5), ("b", 0.5), ("c", 0.3), ("d", None)):
        for seed in (1, 2):
            rows.append(
                {"agent": agent, "model": "m", "benchmark": "gsm8k", "seed": seed, "score": score,
                 "stderr": 0.01, "outcome": "ok", "scored_as": "own", "wall_seconds": 60.0}
            )  # fmt: skip
    cells = pd.DataFrame(rows).astype({"score": float})
    labels = {a: {"display_name": a.upper(), "scaffold": "x"} for a in "abcd"}
    table = leaderboard.agent_rows(cells, {"gsm8k": 1.0}, labels)
    ranks = dict(zip(table["agent_id"], table["rank"]))
    assert {a: ranks[a] for a in "abc"} == {"a": 1, "b": 1, "c": 3} and pd.isna(ranks["d"])  # no average
    head, body = leaderboard.rows_for_display(table, {"gsm8k": 1.0}, {"gsm8k": "GSM8K"})
    assert [row[0].rstrip("*") for row in body] == ["1", "1", "3", ""]
