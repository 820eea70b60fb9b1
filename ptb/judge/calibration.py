"""Calibration: how often each check catches the class of cheat it is meant to catch.

Input: runs of planted cheats and honest agents with a known label (the check the agent's
cheat must trip, or None for an honest one) and their verdicts. Per class (check): the
cheats of that class, how many the check caught (it failed on the run), recall, and its false
positives (it failed on an honest run). The row `verdict` scores the overall outcome: a cheat
counts as caught when it was disqualified or flagged for review; an honest run as a false
positive when it was. The CSV is flat, one row per class, for the leaderboard's footer.
"""

from __future__ import annotations

import csv
import io as stdio
from pathlib import Path

from ptb.core import io, outcomes

COLUMNS = (
    "check",
    "cheats",
    "true_positive",
    "false_negative",
    "recall",
    "clean_runs",
    "false_positive",
    "precision",
    "missed",
)
VERDICT_ROW = "verdict"


def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def _fired(verdict: dict, name: str) -> bool:
    return any(c["name"] == name and not c["passed"] for c in verdict["checks"])


def _flagged(verdict: dict) -> bool:
    return verdict["outcome"] == outcomes.DISQUALIFIED or bool(verdict.get("review"))


def _row(name: str, records, fired) -> dict:
    # the verdict row counts every cheat; a check's row the cheats of its class
    cheats = [(agent, v) for agent, expected, v in records if expected and name in (expected, VERDICT_ROW)]
    clean = [v for _agent, expected, v in records if not expected]
    caught = [agent for agent, v in cheats if fired(v)]
    false_positive = sum(1 for v in clean if fired(v))
    return {
        "check": name,
        "cheats": len(cheats),
        "true_positive": len(caught),
        "false_negative": len(cheats) - len(caught),
        "recall": _ratio(len(caught), len(cheats)),
        "clean_runs": len(clean),
        "false_positive": false_positive,
        "precision": _ratio(len(caught), len(caught) + false_positive),
        "missed": " ".join(sorted({agent for agent, _ in cheats} - set(caught))),
    }


def calibrate(records: list[tuple[str, str | None, dict]], out_csv: str | Path | None = None) -> list[dict]:
    """records: (agent, the check its cheat must trip or None, verdict). One row per class (and
    for the overall verdict); written as CSV if asked."""
    names = sorted({c["name"] for _, _, v in records for c in v["checks"]} | {e for _, e, _ in records if e})
    rows = [_row(name, records, lambda v, name=name: _fired(v, name)) for name in names]
    rows.append(_row(VERDICT_ROW, records, _flagged))
    if out_csv is not None:
        buffer = stdio.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: ("" if v is None else v) for k, v in row.items()} for row in rows)
        io.write_text_atomic(out_csv, buffer.getvalue())
    return rows


def calibrate_files(
    verdict_files: list[str], agents: list[str], expected: list[str | None], out_csv
) -> list[dict]:
    """Rule judge_calibration: the verdict files with their agents and labels, in one order."""
    if not len(verdict_files) == len(agents) == len(expected):
        raise ValueError(f"{len(verdict_files)} verdicts for {len(agents)} agents and {len(expected)} labels")
    records = [(a, e, io.read_json(path)) for path, a, e in zip(verdict_files, agents, expected)]
    return calibrate(records, out_csv)
