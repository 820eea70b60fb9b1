"""Leaderboard rebuild time: aggregation + rendering of 1,000 cells, the audit pages of 1,000
cells, the snakemake jobs that rewrite the pages after one cell changed, and the dry run after a
new cell.

Run: .venv/bin/python benchmarks/leaderboard_rebuild.py
Targets on 2 cores: aggregation + all outputs (tables, page, 4 charts × html/svg/png) < 5 s;
dry run of the production grid (every cell done, one new cell finished) < 3 s.
The synthetic cells have no agent.log and no .eval log: their pages are smaller than real ones.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
sys.path.insert(0, str(REPO))

from ptb.audit import pages  # noqa: E402
from ptb.core import config as ptb_config  # noqa: E402
from ptb.core import grid, paths, result_files  # noqa: E402
from ptb.inputs import containers  # noqa: E402
from ptb.leaderboard import leaderboard  # noqa: E402


def _json(path: str, data: dict, mtime: float) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(data))
    os.utime(path, (mtime, mtime))


def synthesize(config: dict, rng: random.Random, skip: grid.Cell | None = None) -> None:
    """Plausible result files for every cell and baseline of the config, and everything upstream
    (caches, images and their digests, calibration cells), each older than what it feeds, so a dry
    run sees a finished grid. `skip`: a cell whose agent run just finished (its agent files
    newest, no verdict or metrics yet)."""
    res = config["results_dir"]
    definitions = [REPO / "containers" / f"{name}.def" for name in containers.IMAGES]
    start = max([time.time() - 3000] + [d.stat().st_mtime + 1 for d in definitions if d.exists()])
    cache_t, image_t, digest_t, run_t, result_t = (start + i for i in range(5))
    chosen = ptb_config.selection(config)
    calibration = [c for c, _ in grid.calibration_cells(config.get("calibration"))]
    for name in containers.IMAGES if config["container"] == "apptainer" else ():
        sif = Path(config["images"][name])
        sif.parent.mkdir(parents=True, exist_ok=True)
        sif.write_bytes(b"")
        os.utime(sif, (image_t, image_t))
        _json(
            paths.fill(paths.IMAGE_DIGEST, res, image=name), {"image": str(sif), "sha256": "0" * 64}, digest_t
        )
    for model in set(chosen["models"]) | {c.model for c in calibration}:
        for variant in ("base", "instruct"):
            _json(
                paths.fill(paths.MODEL_MANIFEST, res, model=model, variant=variant), {"path": "/x"}, cache_t
            )
    for bench in set(chosen["benchmarks"]) | {c.benchmark for c in calibration}:
        _json(paths.fill(paths.DATASET_MANIFEST, res, benchmark=bench), {}, cache_t)
        view = Path(paths.fill(paths.AGENT_VIEW, res, benchmark=bench))
        view.mkdir(parents=True, exist_ok=True)
        os.utime(view, (cache_t, cache_t))
    for model, variant, bench in grid.baselines(
        ptb_config.selection(config), ptb_config.instruct_models(config)
    ):
        score = rng.uniform(0.0, 0.2) if variant == "base" else rng.uniform(0.4, 0.9)
        _json(
            paths.fill(paths.BASELINE_METRICS, res, model=model, variant=variant, benchmark=bench),
            {"outcome": "ok", "score": score, "stderr": 0.02},
            result_t,
        )
    for cell in list(grid.cells(ptb_config.selection(config))) + calibration:
        fields = cell.as_dict()
        outcome = rng.choices(["ok", "timeout", "no_model", "agent_error", "infra_error"], [85, 5, 5, 4, 1])[
            0
        ]
        has_model = outcome in ("ok", "timeout") or (outcome == "agent_error" and rng.random() < 0.5)
        t = time.time() if cell == skip else run_t
        agent = {
            "outcome": outcome,
            "has_model": has_model,
            "reason": outcome,
            "wall_seconds": rng.uniform(0.2, 1.0) * config["budget"]["hours"] * 3600,
        }
        for template, data in ((paths.AGENT_JSON, agent), (paths.MANIFEST, {}), (paths.HANDOUT, {})):
            _json(paths.fill(template, res, **fields), data, t)
        if cell == skip:
            continue
        disqualified = rng.random() < 0.05
        judge_error = not disqualified and rng.random() < 0.01
        _json(
            paths.fill(paths.VERDICT, res, **fields),
            {
                "outcome": "disqualified" if disqualified else "judge_error" if judge_error else "clean",
                "disqualified": disqualified,
                "reasons": ["contamination: 12 test items"] if disqualified else [],
            },
            result_t,
        )
        if not has_model:
            metrics = {"outcome": "no_model"}
        elif rng.random() < 0.02:
            metrics = {"outcome": "eval_error", "reason": "vllm crashed"}
        else:
            metrics = {"outcome": "ok", "score": rng.uniform(0.05, 0.8), "stderr": rng.uniform(0.01, 0.05)}
        _json(paths.fill(paths.METRICS, res, **fields), metrics, result_t)
    if calibration:
        table = Path(f"{res}/judge/calibration.csv")
        table.write_text(
            "check,true_positive,false_positive,false_negative,precision,recall\nverdict,3,0,0,1.0,1.0\n"
        )
        os.utime(table, (result_t, result_t))


def write_leaderboard(config: dict, out_dir: Path):
    """What the leaderboard rule does for this config (the records and labels its params carry)."""
    sweep = ptb_config.sweep(config)
    return leaderboard.write(
        out_dir,
        cells=[result_files.cell_record(sweep.results, cell) for cell in sweep.cells],
        baselines=[result_files.baseline_record(sweep.results, *b) for b in sweep.baselines],
        agents={
            a: {
                "display_name": config["agents"][a].get("display_name", a),
                "scaffold": config["agents"][a]["scaffold"],
            }
            for a in sweep.selection["agents"]
        },
        benchmarks={b: config["benchmarks"][b].get("display_name", b) for b in sweep.selection["benchmarks"]},
        weights=config["leaderboard"]["weights"],
        budget_hours=config["budget"]["hours"],
    )


def write_pages(config: dict) -> tuple[int, float]:
    """Every audit page of the config's cells and agents, in one process: (pages, seconds)."""
    sweep = ptb_config.sweep(config)
    res, start, written = sweep.results, time.perf_counter(), 0
    board = paths.fill(paths.LEADERBOARD_HTML, res)
    by_agent: dict[str, tuple[list, list]] = {a: ([], []) for a in sweep.selection["agents"]}
    for cell in sweep.cells:
        fields = cell.as_dict()
        record = {
            **result_files.cell_record(res, cell),
            "manifest": paths.fill(paths.MANIFEST, res, **fields),
            "handout": paths.fill(paths.HANDOUT, res, **fields),
        }
        base = paths.fill(
            paths.BASELINE_METRICS, res, model=cell.model, variant="base", benchmark=cell.benchmark
        )
        page = paths.fill(paths.AUDIT_CELL, res, **fields)
        summary = paths.fill(paths.AUDIT_CELL_SUMMARY, res, **fields)
        pages.write_cell(
            record, base, page, summary, board, paths.fill(paths.AUDIT_AGENT, res, agent=cell.agent)
        )
        by_agent[cell.agent][0].append(summary)
        by_agent[cell.agent][1].append(page)
        written += 1
    for agent, (summaries, cell_pages) in by_agent.items():
        labels = {b: b for b in sweep.selection["benchmarks"]}
        pages.write_agent(
            agent,
            agent,
            labels,
            summaries,
            cell_pages,
            paths.fill(paths.AUDIT_AGENT, res, agent=agent),
            board,
        )
        written += 1
    return written, time.perf_counter() - start


def time_page_jobs(config: dict, tmp: Path) -> tuple[float, dict]:
    """Wall time of the snakemake run that follows a change to one cell's metrics.json: its page
    and its agent's page (the leaderboard left out: its time is the rendering figure above)."""
    res = config["results_dir"]
    cell = grid.cells(ptb_config.selection(config))[0]
    os.utime(paths.fill(paths.METRICS, res, **cell.as_dict()))
    targets = [
        paths.fill(paths.AUDIT_CELL, res, **cell.as_dict()),
        paths.fill(paths.AUDIT_AGENT, res, agent=cell.agent),
    ]
    grid_arg = (
        "grid={" + ", ".join(f"{k}: [{', '.join(map(str, v))}]" for k, v in config["grid"].items()) + "}"
    )
    cmd = [
        SNAKEMAKE,
        *targets,
        "-j1",
        "--config",
        f"results_dir={res}",
        grid_arg,
        "calibration=null",
        "container=none",
    ]
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-3000:])
    ran = {}
    for line in proc.stderr.splitlines():
        if line.startswith(("rule ", "localrule ")):
            name = line.split()[1].rstrip(":")
            ran[name] = ran.get(name, 0) + 1
    return elapsed, ran


def time_rendering(tmp: Path) -> float:
    config = ptb_config.load(
        overrides={
            "results_dir": str(tmp / "synthetic"),
            "grid": {
                "agents": ["claude-opus-4.6", "codex-gpt-5.3", "gemini-3-pro", "opencode-sonnet-4.6", "sft"],
                "models": ["qwen3-1.7b", "qwen3-4b", "smollm3-3b", "gemma3-4b"],
                "benchmarks": ["aime2025", "bfcl", "gpqamain", "gsm8k", "humaneval"],
                "seeds": list(range(1, 11)),
            },
            "calibration": None,
        },
    )
    assert len(grid.cells(ptb_config.selection(config))) == 1000
    synthesize(config, random.Random(0))
    start = time.perf_counter()
    table = write_leaderboard(config, tmp / "synthetic" / "leaderboard")
    elapsed = time.perf_counter() - start
    assert len(table) == 7, table  # 5 agents + base + instruct rows
    count, seconds = write_pages(config)
    print(f"1,000 cells: every audit page ({count} pages) written in one process: {seconds:.2f} s")
    took, ran = time_page_jobs(config, tmp)
    print(f"1,000 cells, one cell's metrics.json changed: snakemake rewrote {ran} in {took:.2f} s (wall)")
    return elapsed


def time_dry_run(tmp: Path) -> tuple[float, str]:
    results = tmp / "production"
    images = {name: str(tmp / "images" / f"{name}.sif") for name in containers.IMAGES}
    config = ptb_config.load(overrides={"results_dir": str(results), "images": images})
    new = grid.cells(ptb_config.selection(config))[-1]
    synthesize(config, random.Random(1), skip=new)
    write_leaderboard(config, results / "leaderboard")  # as it was before the new cell finished
    write_pages(config)
    for path in (results / "leaderboard").rglob("*"):
        os.utime(path, (time.time() - 2,) * 2)
    for path in (results / "leaderboard" / "agents").glob("*"):  # newer than the cell summaries they read
        os.utime(path, (time.time() - 1,) * 2)
    os.utime(Path(paths.fill(paths.AGENT_JSON, str(results), **new.as_dict())))  # the newest file
    images_arg = "images={" + ", ".join(f"{k}: {v}" for k, v in images.items()) + "}"
    cmd = [SNAKEMAKE, "-n", "--quiet", "rules", "--config", f"results_dir={results}", images_arg]
    best, out = float("inf"), ""
    for _ in range(3):
        start = time.perf_counter()
        proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=True)
        best = min(best, time.perf_counter() - start)
        out = proc.stdout + proc.stderr
    planned = {
        p[0]: int(p[1])
        for p in (line.split() for line in out.splitlines())
        if len(p) == 2 and p[1].isdigit() and p[0] != "total"
    }
    return best, planned


def main() -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    with tempfile.TemporaryDirectory() as tmp:
        rendering = time_rendering(Path(tmp))
        print(
            f"1,000 cells: aggregation + rendering (csv, md, html, weights, cells, 4 charts × html/svg/png): "
            f"{rendering:.2f} s (target < 5 s)"
        )
        dry, planned = time_dry_run(Path(tmp))
        print(
            f"production grid, one new cell finished: dry run {dry:.2f} s (best of 3, target < 3 s); "
            f"planned: {planned}"
        )


if __name__ == "__main__":
    main()
