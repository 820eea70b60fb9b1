"""Do our baselines reproduce PostTrainBench's published numbers? (`compare-reference`)

The published v1 baselines (ptb/reference/, copied from PostTrainBench's leaderboard data)
give one score per (model, benchmark), the model named as on the Hugging Face hub without its
organisation (Qwen/Qwen3-1.7B-Base -> Qwen3-1.7B-Base). A baseline run's metrics.json holds the
score and its bootstrap 95% CI; the comparison reports reference - score and whether the
reference lies within the run's CI.

    compare-reference results/baselines/qwen3-1.7b/base/gsm8k/metrics.json \
        --model Qwen3-1.7B-Base --benchmark gsm8k
    compare-reference --results results            # every baseline of the config's grid
    compare-reference --config workflow_config.yaml config/demo.yaml --results results/demo

Tables: `zero-shot` (aggregated_baseline.csv, what PostTrainBench's evaluate.py scored; its GSM8K
prompt has inspect_evals' 10 worked examples) and `few-shot` (base models only, from a harness
PostTrainBench does not publish). `auto` (the default) is zero-shot; the table used is named in
every row. Exit status: 0 when every compared reference lies within its run's CI,
1 when one does not, 2 when nothing could be compared.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

from ptb import config as ptb_config
from ptb import grid, paths
from ptb.paths import REPO_ROOT

REFERENCE_DIR = Path(__file__).resolve().parent / "reference"
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
    if metrics.get("outcome", "ok") != "ok" or row["score"] is None:
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


def compare_config(config: dict, setting: str = "auto") -> list[dict]:
    """Every baseline (model, variant, benchmark) of the config's selection that has a metrics.json."""
    rows = []
    for model, variant, bench in grid.baselines(
        ptb_config.selection(config), ptb_config.instruct_models(config)
    ):
        path = Path(
            paths.fill(
                paths.BASELINE_METRICS, config["results_dir"], model=model, variant=variant, benchmark=bench
            )
        )
        entry = config["models"][model]
        name = reference_name(entry.get(variant), entry.get("display_name") if variant == "base" else None)
        if not path.exists():
            rows.append(
                {
                    "model": name or model,
                    "benchmark": bench,
                    "status": "no_metrics",
                    "config_model": model,
                    "variant": variant,
                    "metrics": str(path),
                }
            )
            continue
        row = compare(json.loads(path.read_text()), name or model, bench, setting)
        rows.append({**row, "config_model": model, "variant": variant, "metrics": str(path)})
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


def _merge(base: dict, over: dict) -> dict:
    for key, value in over.items():
        base[key] = (
            _merge(dict(base.get(key) or {}), value)
            if isinstance(value, dict) and isinstance(base.get(key), dict)
            else value
        )
    return base


def load_configs(paths_: list[str], results: str | None) -> dict:
    import yaml

    merged: dict = {}
    for path in paths_:
        merged = _merge(merged, yaml.safe_load(Path(path).read_text()))
    if results:
        merged["results_dir"] = results
    return ptb_config.validate(merged)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="compare-reference", description=__doc__.split("\n\n")[0])
    parser.add_argument("metrics", nargs="?", help="one metrics.json (with --model and --benchmark)")
    parser.add_argument("--model", help="the reference's model name, e.g. Qwen3-1.7B-Base")
    parser.add_argument("--benchmark", help="the benchmark, e.g. gsm8k")
    parser.add_argument(
        "--config",
        nargs="+",
        default=None,
        help="config file(s), merged in order (default: workflow_config.yaml)",
    )
    parser.add_argument("--results", default=None, help="results dir (default: the config's results_dir)")
    parser.add_argument("--setting", choices=["auto", *TABLES], default="auto", help="reference table")
    parser.add_argument("--json", dest="json_out", default=None, help="also write the rows to this JSON file")
    args = parser.parse_args(argv)
    if args.metrics:
        if not (args.model and args.benchmark):
            parser.error("a metrics.json needs --model and --benchmark")
        rows = [compare(json.loads(Path(args.metrics).read_text()), args.model, args.benchmark, args.setting)]
    else:
        config = load_configs(args.config or [str(REPO_ROOT / "workflow_config.yaml")], args.results)
        rows = compare_config(config, args.setting)
    print(to_markdown(rows), end="")
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(rows, indent=2) + "\n")
    compared = [r for r in rows if r.get("within_ci") is not None]
    if not compared:
        print("nothing compared: no metrics with a published reference", file=sys.stderr)
        return 2
    outside = [r for r in compared if not r["within_ci"]]
    print(f"{len(compared) - len(outside)}/{len(compared)} published numbers lie within the run's 95% CI")
    return 1 if outside else 0


if __name__ == "__main__":
    sys.exit(main())
