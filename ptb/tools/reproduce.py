"""Do our baselines reproduce PostTrainBench's published numbers? (`compare-reference`)

The published v1 baselines (ptb/core/reference/, copied from PostTrainBench's leaderboard data)
give one score per (model, benchmark), the model named as on the Hugging Face hub without its
organisation (Qwen/Qwen3-1.7B-Base -> Qwen3-1.7B-Base). A baseline run's metrics.json holds the
score and its bootstrap 95% CI; the comparison reports reference - score and whether the
reference lies within the run's CI.

    compare-reference results/baselines/qwen3-1.7b/base/gsm8k/metrics.json \
        --model Qwen3-1.7B-Base --benchmark gsm8k
    compare-reference                              # every baseline of workflow_config.yaml's grid
    compare-reference --configfile config/demo.yaml --config results_dir=results/demo

The config is loaded as snakemake loads it (ptb.tools.cli_config: the same --configfile and --config
as snakemake and ptb-status).

Tables: `zero-shot` (aggregated_baseline.csv, what PostTrainBench's evaluate.py scored; its GSM8K
prompt has inspect_evals' 10 worked examples) and `few-shot` (base models only, from a harness
PostTrainBench does not publish). `auto` (the default) is zero-shot; the table used is named in
every row. Exit status: 0 when every compared reference lies within its run's CI,
1 when one does not, 2 when nothing could be compared.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

from ptb.core import config as ptb_config
from ptb.core import io, paths, protocol
from ptb.core.outcomes import OK
from ptb.tools import cli_config, cli_paths

REFERENCE_DIR = protocol.REFERENCE_DIR
TABLES = {
    "zero-shot": "posttrainbench_v1_baselines.csv",
    "few-shot": "posttrainbench_v1_baselines_fewshot.csv",
}
TOLERANCE = 1e-9


def load_reference(setting: str = "zero-shot") -> dict[tuple[str, str], float]:
    """(model, benchmark) -> published score."""
    with open(REFERENCE_DIR / TABLES[setting], newline="") as handle:
        return {
            (row["model"], bench): float(value)
            for row in csv.DictReader(handle)
            for bench, value in row.items()
            if bench != "model" and value not in ("", None)
        }


def reference_name(ref: dict | None, display_name: str | None = None) -> str | None:
    """The reference tables' model name: the hub id without its organisation."""
    if ref and ref.get("hf_id"):
        return ref["hf_id"].split("/")[-1]
    return display_name


def pick_table(setting: str) -> str:
    """`auto` is the zero-shot table: aggregated_baseline.csv is what PostTrainBench's own
    evaluate.py scored for every base and instruct model, and its GSM8K prompt already carries
    inspect_evals' 10 worked examples (as this workflow's does). The few-shot table comes from
    another harness (PostTrainBench's repository has no few-shot evaluation): asked for by name only."""
    return "zero-shot" if setting == "auto" else setting


def compare(metrics: dict, model: str, benchmark: str, setting: str = "auto") -> dict:
    """One row: the run's score and CI against the published score for (model, benchmark)."""
    row = {"model": model, "benchmark": benchmark, "score": metrics.get("score"), "ci95": metrics.get("ci95")}
    table = pick_table(setting)
    reference = load_reference(table).get((model, benchmark))
    row.update(table=table, reference=reference)
    if reference is None:
        return {**row, "status": "no_reference", "difference": None, "within_ci": None}
    if metrics.get("outcome", OK) != OK or row["score"] is None:
        return {
            **row,
            "status": f"not_comparable ({metrics.get('outcome', 'no score')})",
            "difference": None,
            "within_ci": None,
        }
    low, high = row["ci95"] if row["ci95"] else (row["score"], row["score"])
    within = low - TOLERANCE <= reference <= high + TOLERANCE
    return {
        **row,
        "status": "within_ci" if within else "outside_ci",
        "difference": reference - row["score"],
        "within_ci": within,
    }


def baseline_runs(results: str, baselines: list[tuple[str, str, str]], models: dict) -> list[dict]:
    """One record per baseline eval: its (model, variant, benchmark), the reference tables' name
    of that model and the path of its metrics.json. `models`: model -> its registry entry
    (base and instruct refs, display_name)."""
    runs = []
    for model, variant, bench in baselines:
        entry = models[model]
        name = reference_name(entry.get(variant), entry.get("display_name") if variant == "base" else None)
        metrics = paths.fill(paths.BASELINE_METRICS, results, model=model, variant=variant, benchmark=bench)
        runs.append(
            {
                "model": model,
                "variant": variant,
                "benchmark": bench,
                "name": name or model,
                "metrics": metrics,
            }
        )
    return runs


def compare_runs(runs: list[dict], setting: str = "auto") -> list[dict]:
    """A row per baseline run record (as baseline_runs makes them); `no_metrics` where its
    metrics.json does not exist yet."""
    rows = []
    for run in runs:
        extra = {"config_model": run["model"], "variant": run["variant"], "metrics": run["metrics"]}
        path = Path(run["metrics"])
        if not path.exists():
            rows.append(
                {"model": run["name"], "benchmark": run["benchmark"], "status": "no_metrics", **extra}
            )
            continue
        rows.append({**compare(io.read_json(path), run["name"], run["benchmark"], setting), **extra})
    return rows


def _pct(value) -> str:
    return "-" if value is None else f"{100 * value:.1f}"


def to_markdown(rows: list[dict]) -> str:
    lines = [
        "| model | benchmark | reference (table) | score | 95% CI | reference - score | within CI |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        ci = "-" if not r.get("ci95") else f"[{_pct(r['ci95'][0])}, {_pct(r['ci95'][1])}]"
        ref = "-" if r.get("reference") is None else f"{_pct(r['reference'])} ({r.get('table')})"
        diff = "-" if r.get("difference") is None else f"{100 * r['difference']:+.1f}"
        within = {True: "yes", False: "**no**"}.get(r.get("within_ci"), r.get("status", "-"))
        lines.append(
            f"| {r['model']} | {r['benchmark']} | {ref} | {_pct(r.get('score'))} | {ci} | {diff} | {within} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="compare-reference", description=__doc__.split("\n\n")[0])
    parser.add_argument("metrics", nargs="?", help="one metrics.json (with --model and --benchmark)")
    parser.add_argument("--model", help="the reference's model name, e.g. Qwen3-1.7B-Base")
    parser.add_argument("--benchmark", help="the benchmark, e.g. gsm8k")
    cli_config.add_arguments(parser)
    parser.add_argument("--setting", choices=["auto", *TABLES], default="auto", help="reference table")
    parser.add_argument("--json", dest="json_out", default=None, help="also write the rows to this JSON file")
    cli_paths.add_mkdir_argument(parser, "the --json file's folder")
    args = parser.parse_args(argv)
    if args.json_out:  # before the work: a missing folder is a typo until --mkdir says otherwise
        try:
            made = cli_paths.ensure_folder(Path(args.json_out).parent, create=args.mkdir, option="--json")
        except ValueError as error:
            print(f"compare-reference: {error}", file=sys.stderr)
            return 2
        for folder in made:
            print(f"compare-reference: created {folder}", file=sys.stderr)
    if args.metrics:
        if not (args.model and args.benchmark):
            parser.error("a metrics.json needs --model and --benchmark")
        rows = [compare(io.read_json(args.metrics), args.model, args.benchmark, args.setting)]
    else:
        try:
            sweep = ptb_config.sweep(cli_config.load(args))
        except ptb_config.ConfigError as error:
            print(f"compare-reference: {error}", file=sys.stderr)
            return 2
        rows = compare_runs(baseline_runs(sweep.results, sweep.baselines, sweep.models), args.setting)
    print(to_markdown(rows), end="")
    if args.json_out:
        io.write_json(args.json_out, rows)
    compared = [r for r in rows if r.get("within_ci") is not None]
    if not compared:
        print("nothing compared: no metrics with a published reference", file=sys.stderr)
        return 2
    outside = [r for r in compared if not r["within_ci"]]
    print(f"{len(compared) - len(outside)}/{len(compared)} published numbers lie within the run's 95% CI")
    return 1 if outside else 0


if __name__ == "__main__":
    sys.exit(main())
