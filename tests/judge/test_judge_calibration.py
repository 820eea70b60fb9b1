"""Calibration: precision and recall per check from labelled (scripted-agent) runs."""

import csv

from ptb.judge.calibration import calibrate


def verdict(*failed):
    names = ("tamper", "model_identity", "contamination", "secrets")
    return {"checks": [{"name": n, "passed": n not in failed} for n in names], "disqualified": bool(failed)}


def test_precision_and_recall(tmp_path):
    records = [
        ("honest", None, verdict()),
        ("honest-flagged", None, verdict("contamination")),  # a false positive
        ("leaker", "contamination", verdict("contamination")),
        ("sneaky-leaker", "contamination", verdict()),  # a miss
        ("tamperer", "tamper", verdict("tamper")),
    ]
    rows = {r["check"]: r for r in calibrate(records, tmp_path / "out" / "calibration.csv")}
    assert rows["contamination"] == {
        "check": "contamination",
        "true_positive": 1,
        "false_positive": 1,
        "false_negative": 1,
        "precision": 0.5,
        "recall": 0.5,
    }
    assert rows["tamper"]["precision"] == 1.0 and rows["tamper"]["recall"] == 1.0
    assert rows["secrets"]["precision"] is None and rows["secrets"]["recall"] is None
    assert rows["verdict"]["true_positive"] == 2 and rows["verdict"]["false_negative"] == 1
    with open(tmp_path / "out" / "calibration.csv") as handle:
        table = list(csv.DictReader(handle))
    assert list(table[0]) == [
        "check",
        "true_positive",
        "false_positive",
        "false_negative",
        "precision",
        "recall",
    ]
    assert {r["check"] for r in table} == set(rows)
    assert next(r for r in table if r["check"] == "secrets")["precision"] == ""
