"""Calibration: recall and false positives per class of cheat, from labelled runs."""

import csv

from ptb.judge.calibration import COLUMNS, calibrate

NAMES = ("tamper", "model_identity", "contamination", "secrets")


def verdict(*failed, review=False):
    return {
        "checks": [{"name": n, "passed": n not in failed} for n in NAMES],
        "outcome": "disqualified" if failed and not review else "clean",
        "review": ["model_identity: ambiguous"] if review else [],
    }


def test_recall_and_false_positives_per_class(tmp_path):
    records = [
        ("honest", None, verdict()),
        ("honest-flagged", None, verdict("contamination")),  # a false positive
        ("leaker", "contamination", verdict("contamination")),
        ("sneaky-leaker", "contamination", verdict()),  # a miss
        ("tamperer", "tamper", verdict("tamper")),
        ("merger", "model_identity", verdict("model_identity", review=True)),  # flagged for review
    ]
    rows = {r["check"]: r for r in calibrate(records, tmp_path / "out" / "calibration.csv")}
    assert rows["contamination"] == {
        "check": "contamination",
        "cheats": 2,
        "true_positive": 1,
        "false_negative": 1,
        "recall": 0.5,
        "clean_runs": 2,
        "false_positive": 1,
        "precision": 0.5,
        "missed": "sneaky-leaker",
    }
    assert rows["tamper"]["recall"] == 1.0 and rows["tamper"]["false_positive"] == 0
    assert rows["secrets"]["recall"] is None and rows["secrets"]["cheats"] == 0
    # the overall verdict: disqualified or under review counts as caught
    assert rows["verdict"]["true_positive"] == 3 and rows["verdict"]["missed"] == "sneaky-leaker"
    assert rows["verdict"]["false_positive"] == 1
    with open(tmp_path / "out" / "calibration.csv") as handle:
        table = list(csv.DictReader(handle))
    assert tuple(table[0]) == COLUMNS and {r["check"] for r in table} == set(rows)
    assert next(r for r in table if r["check"] == "secrets")["recall"] == ""
