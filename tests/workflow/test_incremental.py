"""Incremental rebuilds: after each kind of change, a dry run plans exactly the jobs that must re-run.

The workflow runs once (one cell: noop × tiny-qwen3 × gsm8k × seed 1, offline, ~40 s) in a copy
of the repository, so that code can be edited without touching the real one; each test restores
that finished state (same path, same mtimes, same .snakemake metadata), changes one thing and
reads the job table of `snakemake -n --quiet rules`.

Semantics under test (README "Re-running"): the profiles leave out the `code` rerun trigger;
agent_run has ancient() inputs and Untracked params (ptb/core/smk.py); judge, evaluate/baseline and
leaderboard carry a hash of their code and settings in params.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from helpers import SNAKEMAKE, copy_checkout, planned_jobs

from ptb.core import paths

pytestmark = pytest.mark.demo

RESULTS = "results/inc"  # relative: the metadata keys stay valid when the tree is restored
CELL = {"agent": "noop", "model": "tiny-qwen3", "benchmark": "gsm8k", "seed": 1}
SELECT = "select={agents: [noop], models: [tiny-qwen3], benchmarks: [gsm8k], seeds: [1]}"
CONFIG = [SELECT, "calibration=", f"results_dir={RESULTS}"]


def run(
    work: Path, *args: str, config: list[str] | None = None, targets: tuple[str, ...] = (), check: bool = True
) -> subprocess.CompletedProcess:
    """snakemake in the copy, importing the copy's `ptb` (the venv's editable install points at the repo)."""
    cmd = [SNAKEMAKE, *targets, "--profile", "profiles/demo", *args, "--config", *(config or CONFIG)]
    proc = subprocess.run(
        cmd,
        cwd=work,
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "PYTHONPATH": str(work)},
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}")
    return proc


def plan(
    work: Path, *args: str, extra: tuple[str, ...] = (), targets: tuple[str, ...] = ()
) -> dict[str, int]:
    return planned_jobs(
        run(work, "-n", "--quiet", "rules", *args, config=CONFIG + list(extra), targets=targets)
    )


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> tuple[Path, Path]:
    """(work dir, saved copy of it after one complete run)."""
    root = tmp_path_factory.mktemp("incremental")
    work, saved = root / "work", root / "saved"
    copy_checkout(work)
    imported = subprocess.run(
        [
            str(Path(SNAKEMAKE).with_name("python")),
            "-c",
            "import ptb.core.config; print(ptb.core.config.REPO_ROOT)",
        ],
        cwd=work,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(work)},
    ).stdout.strip()
    assert Path(imported) == work, "the copy's code must be the code under test"
    run(work)
    shutil.copytree(work, saved, symlinks=True)
    return work, saved


@pytest.fixture
def work(pristine) -> Path:
    """The finished run, restored: same path, mtimes and metadata as when it finished."""
    work, saved = pristine
    shutil.rmtree(work)
    shutil.copytree(saved, work, symlinks=True)
    return work


def edit(work: Path, *files: str) -> None:
    for rel in files:
        with open(work / rel, "a") as handle:
            handle.write("\n# an edit that changes nothing but the file's content\n")


LEADERBOARD_ONLY = {"leaderboard": 1, "all": 1}
PAGES = {"audit_cell": 1, "audit_agent": 1}  # the cell's audit page and its agent's page
JUDGE = {"judge": 1, **PAGES, **LEADERBOARD_ONLY}
EVAL = {"evaluate": 1, "baseline": 1, **PAGES, **LEADERBOARD_ONLY}
CELL_AGAIN = {"agent_run": 1, "canonical_model": 1, "judge": 1, "evaluate": 1, **PAGES, **LEADERBOARD_ONLY}


def test_a_finished_run_has_nothing_to_do(work):
    assert plan(work) == {}
    board = work / paths.fill(paths.LEADERBOARD_DIR, RESULTS)
    assert json.loads((board / "weights.json").read_text()) == {
        "mode": "pinned",
        "weights": {"gsm8k": 1.0},
        "protocol": "posttrainbench-v1-corrected",  # the demo's
        "max_tokens_cap": 256,  # the demo's CPU cap (evaluation.max_tokens)
    }
    assert "No-op (base model)" in (board / "leaderboard.md").read_text()


def test_a_moved_checkout_with_its_results_has_nothing_to_do(pristine, tmp_path):
    """Checkout and results copied elsewhere (README "Moving results"): nothing re-runs, no results
    file names the old place (rule params, manifests, metrics.json, pages record relative paths),
    and every link of the pages resolves in the copy."""
    work, saved = pristine
    moved = tmp_path / "elsewhere" / "checkout"
    shutil.copytree(saved, moved, symlinks=True)
    assert plan(moved) == {}
    results = moved / RESULTS
    files = [p for p in results.rglob("*") if p.is_file() and not p.is_symlink()]
    assert any(p.name == "metrics.json" for p in files) and any(p.suffix == ".html" for p in files)
    # the agent's job dir is left out: what it was handed (its prompt names the base model's path
    # in its box) and what it wrote, which nothing reads back as a path
    written = [p for p in files if "job" not in p.relative_to(results).parts]
    assert [p for p in written if str(work).encode() in p.read_bytes()] == []
    # the published pages (build/ holds the rule's copy, whose links hold where it is published)
    pages = list((moved / paths.fill(paths.LEADERBOARD_DIR, RESULTS)).rglob("*.html"))
    broken, checked, log_dirs = [], 0, []
    for page in pages:
        text = page.read_text()
        log_dirs += re.findall(r"inspect view --log-dir (\S+?)</code>", text)
        for target in Links.of(text):
            url = urlsplit(target)
            if url.scheme or url.netloc or not url.path:  # other sites, data: URIs, anchors
                continue
            checked += 1
            if not (page.parent / unquote(url.path)).exists():
                broken.append(f"{page.relative_to(moved)}: {target}")
    assert broken == [] and checked > 10
    assert log_dirs and all((moved / d).is_dir() for d in log_dirs), "the hint works from the copy"


class Links(HTMLParser):
    """The href and src of a page's tags (not what its scripts build)."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.found += [v for k, v in attrs if k in ("href", "src") and v]

    @classmethod
    def of(cls, text: str) -> list[str]:
        parser = cls()
        parser.feed(text)
        return parser.found


def test_a_new_finished_cell_runs_its_judge_eval_and_the_leaderboard(work):
    run_dir = Path(paths.fill(paths.RUN, RESULTS, **CELL))
    new_dir = Path(paths.fill(paths.RUN, RESULTS, **{**CELL, "seed": 2}))
    shutil.copytree(work / run_dir, work / new_dir, symlinks=True)  # its agent run finished elsewhere
    seeds = SELECT.replace("seeds: [1]", "seeds: [1, 2]")
    # its own page and its agent's page; the first cell's page is not rewritten
    assert plan(work, extra=(seeds,)) == {
        "canonical_model": 1,
        "judge": 1,
        "evaluate": 1,
        **PAGES,
        **LEADERBOARD_ONLY,
    }


@pytest.mark.parametrize("change", ["config", "code"])
def test_a_judge_change_reruns_judges_and_the_leaderboard(work, change):
    if change == "config":
        assert plan(work, extra=("judge={disqualify: [tamper, secrets]}",)) == JUDGE
    else:
        edit(work, "ptb/judge/common.py")
        assert plan(work) == JUDGE


@pytest.mark.parametrize("setting", ["evaluation: {epochs: 2}", "code"])
def test_an_eval_change_reruns_evals_baselines_and_the_leaderboard(work, tmp_path, setting):
    if setting == "code":
        edit(work, "ptb/evaluation/evaluation.py")
        assert plan(work) == EVAL
    else:  # numbers from --config arrive as strings; a config file keeps their type
        extra = tmp_path / "eval.yaml"
        extra.write_text(setting + "\n")
        assert plan(work, "--configfile", "workflow_config.yaml", "config/demo.yaml", str(extra)) == EVAL


def test_throughput_settings_rerun_no_evaluation(work, tmp_path):
    """More concurrency or GPU memory changes speed, not scores: nothing re-runs."""
    extra = tmp_path / "fast.yaml"
    extra.write_text(
        "evaluation: {max_connections: 128, grader_max_connections: 64, gpu_memory_utilization: 0.9}\n"
    )
    assert plan(work, "--configfile", "workflow_config.yaml", "config/demo.yaml", str(extra)) == {}


@pytest.mark.parametrize(
    "rel", ["ptb/leaderboard/leaderboard.py", "ptb/leaderboard/charts.py", "scripts/leaderboard.py"]
)
def test_leaderboard_code_reruns_the_leaderboard_only(work, rel):
    edit(work, rel)
    assert plan(work) == LEADERBOARD_ONLY


def test_the_outcome_rules_rerun_the_leaderboard_and_the_pages(work):
    edit(work, "ptb/core/outcomes.py")  # both classify cells with it
    assert plan(work) == {**PAGES, **LEADERBOARD_ONLY}


def test_a_display_name_reruns_the_leaderboard_and_the_agent_page_only(work):
    plan_ = plan(work, extra=("agents={noop: {display_name: Nothing at all}}",))
    assert plan_ == {"audit_agent": 1, **LEADERBOARD_ONLY}


@pytest.mark.parametrize("rel", ["ptb/audit/html.py", "scripts/audit_cell.py"])
def test_audit_page_code_rewrites_the_pages_only(work, rel):
    edit(work, rel)
    assert plan(work) == {**PAGES, "all": 1}


def test_agent_code_and_touched_inputs_never_rerun_an_agent(work):
    edit(
        work, "ptb/agent_runs/agent_run.py", "scripts/agent_run.py", "agents/noop/solve.sh", "rules/agent.smk"
    )
    manifest = work / paths.fill(paths.MODEL_MANIFEST, RESULTS, model="tiny-qwen3", variant="base")
    for path in (
        manifest,
        work / paths.fill(paths.AGENT_VIEW, RESULTS, benchmark="gsm8k"),
        work / paths.fill(paths.DATASET_MANIFEST, RESULTS, benchmark="gsm8k"),
    ):
        os.utime(path)
    assert plan(work) == {}
    # a base model whose manifest really changed: its baseline re-runs (and the judges' index of
    # the models in play is rewritten), the agent run and its judge do not
    manifest.write_text(json.dumps(json.loads(manifest.read_text())))
    assert plan(work) == {"baseline": 1, "judged_models": 1, **PAGES, **LEADERBOARD_ONLY}


def test_an_agent_config_edit_never_reruns_a_finished_run(work):
    """The agent rule's values travel as Untracked params: editing the entry re-runs nothing."""
    assert plan(work, extra=("agents={noop: {llm: another-llm, options: {steps: 3}}}",)) == {}


def test_an_agent_reruns_on_an_explicit_request_only(work):
    agent_json = paths.fill(paths.AGENT_JSON, RESULTS, **CELL)
    assert plan(work, "--forcerun", "agent_run") == CELL_AGAIN
    assert plan(work, "--forcerun", agent_json) == CELL_AGAIN  # one cell
    (work / agent_json).unlink()
    assert plan(work) == {}  # a lost agent.json is not re-run behind one's back ...
    assert plan(work, targets=(agent_json,)) == {"agent_run": 1}  # ... only when asked for


def test_the_leaderboard_waits_for_the_judge_calibration_when_configured(work):
    target = paths.fill(paths.LEADERBOARD_BUILD_DIR, RESULTS) + "/leaderboard.csv"  # the rule's output
    proc = run(
        work,
        "-n",
        "--quiet",
        "rules",
        "--forcerun",
        "leaderboard",
        targets=(target,),
        config=[SELECT.replace("seeds: [1]}", "seeds: [1], calibration: true}"), f"results_dir={RESULTS}"],
    )
    assert planned_jobs(proc)["judge_calibration"] == 1


def test_report_is_one_shareable_html(work, tmp_path):
    report = tmp_path / "report.html"
    run(work, "--report", str(report))
    text = report.read_text()
    for name in (
        "leaderboard.html",
        "leaderboard.csv",
        "cells.csv",
        "ranking.svg",
        "heatmap.svg",
        "time.svg",
        "outcomes.svg",
    ):
        assert name in text, name
    assert "weighted average score" in text  # a caption
