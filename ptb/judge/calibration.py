"""Calibration: how often each check catches the cheat it is meant to catch, on labelled runs.

Input rows come from runs of scripted agents with a known behaviour: (agent name, the check
its cheat should trip, or None for an honest agent, the verdict). A check "fires" when it
failed; the row `verdict` scores the overall disqualification against "is a cheat at all".
"""

from __future__ import annotations

import csv
import io as stdio
from pathlib import Path

from ptb import io

COLUMNS = ("check", "true_positive", "false_positive", "false_negative", "precision", "recall")


def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def _row(check: str, tp: int, fp: int, fn: int) -> dict:
    return {
        "check": check,
        "true_positive": tp,
        "false_positive": fp,
        "false_negative": fn,
        "precision": _ratio(tp, tp + fp),
        "recall": _ratio(tp, tp + fn),
    }


def calibrate(records: list[tuple[str, str | None, dict]], out_csv: str | Path | None = None) -> list[dict]:
    """Precision and recall per check (and for the overall verdict); write them as CSV if asked."""
    names = sorted(
        {c["name"] for _, _, v in records for c in v.get("checks", [])}
        | {expected for _, expected, _ in records if expected}
    )
    rows = []
    for name in names:
        tp = fp = fn = 0
        for _agent, expected, verdict in records:
            fired = any(c["name"] == name and not c["passed"] for c in verdict.get("checks", []))
            tp += fired and expected == name
            fp += fired and expected != name
            fn += (not fired) and expected == name
        rows.append(_row(name, tp, fp, fn))
    tp = sum(1 for _, e, v in records if e and v.get("disqualified"))
    fp = sum(1 for _, e, v in records if not e and v.get("disqualified"))
    fn = sum(1 for _, e, v in records if e and not v.get("disqualified"))
    rows.append(_row("verdict", tp, fp, fn))
    if out_csv is not None:
        buffer = stdio.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: ("" if v is None else v) for k, v in row.items()} for row in rows)
        io.write_text_atomic(out_csv, buffer.getvalue())
    return rows
