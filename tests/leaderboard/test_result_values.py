"""Every value of a result file is checked where it is read (ptb.core.result_files): a bad one makes
the cell `corrupt`, named, in the leaderboard, ptb-status, the cell page and the evaluation store;
a corrupt cell scores as the base model, and a cell without any score leaves its agent's average
incomplete, never a mean over fewer cells (docs/faults.md)."""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path

import pandas as pd
import pytest

from ptb.audit import pages
from ptb.core import io, paths, result_files
from ptb.core.grid import Cell
from ptb.evaluation import eval_store
from ptb.leaderboard import leaderboard
from ptb.tools import status

AGENT = {"outcome": "ok", "has_model": True}
CLEAN = {"outcome": "clean", "disqualified": False}
METRICS = {"outcome": "ok", "score": 0.5, "stderr": 0.01}

# (file, content, words the error must hold): none of these is a result
BAD = [
    ("metrics", {**METRICS, "score": math.nan}, "score nan"),
    ("metrics", {**METRICS, "score": math.inf}, "score inf"),
    ("metrics", {**METRICS, "score": -5}, "score -5"),
    ("metrics", {**METRICS, "score": 7.0}, "score 7.0"),
    ("metrics", {**METRICS, "score": "0.5"}, "score '0.5'"),
    ("metrics", {**METRICS, "score": True}, "score True"),
    ("metrics", {**METRICS, "score": None}, "score None"),
    ("metrics", {**METRICS, "stderr": -0.1}, "stderr -0.1"),
    ("metrics", {"outcome": "great", "score": 0.5}, "outcome 'great'"),
    ("verdict", {}, "outcome None"),
    ("verdict", {"outcome": "fine", "disqualified": False}, "outcome 'fine'"),
    ("verdict", {"outcome": "clean"}, "disqualified None"),
    ("verdict", {"outcome": "clean", "disqualified": True}, "does not match"),
    ("agent_json", {"outcome": "splendid", "has_model": True}, "outcome 'splendid'"),
    ("agent_json", {"outcome": "ok", "has_model": "yes"}, "has_model 'yes'"),
    ("agent_json", "a directory", "a directory"),
]


def cell_files(root: Path, agent="sft", model="m1", seed=1, own=0.5, **override) -> dict:
    record = result_files.cell_record(str(root), Cell(agent, model, "gsm8k", seed))
    contents = {"agent_json": AGENT, "verdict": CLEAN, "metrics": {**METRICS, "score": own}, **override}
    for field, content in contents.items():
        path = Path(record[field])
        path.parent.mkdir(parents=True, exist_ok=True)
        if content == "a directory":
            path.mkdir()
        else:
            # allow_nan: a NaN or Infinity is what json.dumps writes for a float('nan') score
            path.write_text(json.dumps(content))
    return record


def baseline(root: Path, model: str, variant: str, score) -> dict:
    record = result_files.baseline_record(str(root), model, variant, "gsm8k")
    Path(record["metrics"]).parent.mkdir(parents=True, exist_ok=True)
    Path(record["metrics"]).write_text(json.dumps({**METRICS, "score": score}))
    return record


@pytest.mark.parametrize(("field", "content", "words"), BAD, ids=[f"{f}-{w}" for f, _, w in BAD])
def test_a_bad_value_is_corrupt_and_named_in_the_leaderboard_and_ptb_status(tmp_path, field, content, words):
    record = cell_files(tmp_path, **{field: content})
    found = result_files.read_cell(record)
    assert result_files.cell_outcome(found) == "corrupt"
    [problem] = found["corrupt"]
    assert problem.startswith(record[field]) and words in problem
    # ptb-status reads through the same reader: no crash on a directory, the cell is corrupt
    assert status.cell_state(str(tmp_path), Cell("sft", "m1", "gsm8k", 1)) == "corrupt"


def test_good_values_pass(tmp_path):
    for score in (0, 0.0, 1, 1.0, 0.37):
        found = result_files.read_cell(cell_files(tmp_path, own=score))
        assert found["corrupt"] == [] and result_files.cell_outcome(found) == "ok"
    judged = cell_files(tmp_path, verdict={"outcome": "judge_error", "disqualified": False, "reasons": ["x"]})
    assert result_files.cell_outcome(result_files.read_cell(judged)) == "judge_error"


def board(root: Path, cells: list[dict], baselines: list[dict]):
    agents = {
        a: {"display_name": a.upper(), "scaffold": "x"} for a in dict.fromkeys(c["agent"] for c in cells)
    }
    return leaderboard.build(cells, baselines, agents, {"gsm8k": "GSM8K"}, {"gsm8k": 1.0})


def test_a_corrupt_cell_scores_as_the_base_model_and_never_moves_the_mean_over_models(tmp_path):
    """The issue's case: the SFT row went from rank 2 to rank 1 when a corrupt cell left its mean."""
    bases = [baseline(tmp_path, "m1", "base", 0.02), baseline(tmp_path, "m2", "base", 0.02)]
    cells = [
        cell_files(tmp_path, "sft", "m1", own=0.06),
        cell_files(tmp_path, "sft", "m2", own=0.2, verdict={}),  # unjudged: never its own 0.2
        cell_files(tmp_path, "other", "m1", own=0.05),
        cell_files(tmp_path, "other", "m2", own=0.05),
    ]
    table, cell_scores, _ = board(tmp_path, cells, bases)
    rows = table.set_index("agent_id")
    assert rows.loc["sft", "avg"] == pytest.approx((0.06 + 0.02) / 2)  # not 0.06 (dropped) nor 0.13
    assert rows.loc["other", "rank"] == 1 and rows.loc["sft", "rank"] == 2
    assert rows.loc["sft", "corrupt"] == 1 and rows.loc["sft", "scored_as_base"] == 1
    lines = leaderboard.problem_lines(table, cell_scores)
    assert any("Corrupt result files" in line and cells[1]["verdict"] in line for line in lines)


def test_a_baseline_without_a_score_makes_the_averages_that_need_it_incomplete(tmp_path):
    bases = [baseline(tmp_path, "m1", "base", 0.02), baseline(tmp_path, "m2", "base", math.nan)]
    cells = [
        cell_files(tmp_path, "sft", "m1", own=0.3),
        cell_files(tmp_path, "sft", "m2", own=0.3, metrics={"outcome": "eval_error"}),  # needs m2's base
        cell_files(tmp_path, "other", "m1", own=0.05),
        cell_files(tmp_path, "other", "m2", own=0.05),
    ]
    table, cell_scores, _ = board(tmp_path, cells, bases)
    rows = table.set_index("agent_id")
    assert math.isnan(rows.loc["sft", "avg"]) and pd.isna(rows.loc["sft", "rank"])  # not 0.3 ranked first
    assert rows.loc["other", "rank"] == 1
    assert math.isnan(rows.loc["baseline:base", "avg"])  # the base row is not a mean over m1 alone
    lines = leaderboard.problem_lines(table, cell_scores)
    assert "Incomplete: SFT (1 cells whose base model's score is unknown)" in lines[0]
    assert any(bases[1]["metrics"] in line and "score nan" in line for line in lines)
    head, body = leaderboard.rows_for_display(table, {"gsm8k": 1.0}, {"gsm8k": "GSM8K"})
    sft = next(row for row in body if row[1] == "SFT")
    assert sft[0] == "" and sft[3] == "–"


def test_the_cell_page_shows_a_corrupt_value_and_an_unreadable_eval_log(tmp_path):
    log = tmp_path / "logs" / "run.eval"
    log.parent.mkdir()
    log.write_bytes(b"PK\x03\x04 truncated")  # the start of a zip, cut off
    metrics = {**METRICS, "score": 7.0, "log_file": str(log)}
    record = cell_files(tmp_path, metrics=metrics)
    record.update(manifest=str(tmp_path / "none.json"), handout=str(tmp_path / "none.json"))
    base = baseline(tmp_path, "m1", "base", 0.1)["metrics"]
    page, facts = pages.cell_page(record, base, tmp_path / "page.html", "lb.html", "agent.html")
    assert facts["outcome"] == "corrupt" and facts["score"] == 0.1
    assert "score 7.0 is not a number in [0, 1]" in facts["reason"] and record["metrics"] in facts["reason"]
    # a truncated log with a valid score: the page says so instead of failing
    record = cell_files(tmp_path, metrics={**METRICS, "log_file": str(log)})
    record.update(manifest=str(tmp_path / "none.json"), handout=str(tmp_path / "none.json"))
    page, facts = pages.cell_page(record, base, tmp_path / "page.html", "lb.html", "agent.html")
    assert facts["outcome"] == "ok" and "unreadable .eval log: cannot read run.eval: BadZipFile" in page


def test_a_corrupt_evaluation_store_entry_is_named_and_evaluated_again(tmp_path, caplog):
    store, key = str(tmp_path), "k" * 32
    path = eval_store.entry(store, key)
    path.parent.mkdir(parents=True)
    for bad in ('{"outcome": "ok", "sco', json.dumps({**METRICS, "score": math.nan, "model_path": "m"})):
        path.write_text(bad)
        with caplog.at_level(logging.WARNING):
            assert eval_store.lookup(store, key) is None  # the evaluation runs again ...
        assert key in caplog.text and str(path) in caplog.text
        eval_store.save(store, key, {**METRICS, "model_path": "m"})  # ... and replaces the entry
        assert eval_store.lookup(store, key)["score"] == 0.5
    path.unlink()
    path.mkdir()  # cannot be replaced by a file: refused, named
    with pytest.raises(io.CorruptFile, match=f"key {key}: .*a directory"):
        eval_store.lookup(store, key)


def test_the_status_legend_and_listing_name_the_file(tmp_path, capsys):
    cell_files(tmp_path, metrics={**METRICS, "score": math.inf})
    _, _, corrupt = status.survey(str(tmp_path), [Cell("sft", "m1", "gsm8k", 1)])
    [(key, [problem])] = corrupt.items()
    assert key == "sft/m1/gsm8k/seed1" and problem.startswith(
        paths.fill(paths.METRICS, str(tmp_path), agent="sft", model="m1", benchmark="gsm8k", seed=1)
    )
