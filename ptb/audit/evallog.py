"""Per-sample results of an inspect `.eval` log, read without importing inspect_ai.

An `.eval` log is a zip of JSON documents (`header.json`, `samples/<id>_epoch_<n>.json`, ...),
compressed with zstd by inspect >= 0.3.2xx; `zipfile_zstd` (an inspect dependency) teaches
Python's zipfile to read those. Importing inspect_ai costs seconds per process, which a
rule run once per cell cannot pay; tests/audit/test_audit.py holds this reader to
inspect_ai.log.read_eval_log on a log inspect wrote.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import zipfile_zstd  # noqa: F401  (registers zstd with zipfile)

ANSWER_CHARS = 300


def _completion(sample: dict) -> str:
    output = sample.get("output") or {}
    if output.get("completion"):
        return output["completion"]
    choices = output.get("choices") or []
    content = ((choices[0] or {}).get("message") or {}).get("content") if choices else None
    if isinstance(content, list):
        # the reply's text blocks, as inspect's ModelOutput.completion (reasoning is not the reply)
        return "\n".join(
            c.get("text", "") for c in content if isinstance(c, dict) and c.get("type") == "text"
        )
    return content or ""


def _error(sample: dict) -> str | None:
    error = sample.get("error")
    if isinstance(error, dict):
        return error.get("message") or json.dumps(error)[:ANSWER_CHARS]
    return error or None


def sample_rows(sample: dict) -> list[dict]:
    """One row per scorer of a sample record: item, epoch, target, extracted answer, value,
    error, and the model's completion (the scorer's answer is None for some scorers)."""
    scores = sample.get("scores") or {"": {}}
    target = sample.get("target")
    return [
        {
            "id": sample.get("id"),
            "epoch": sample.get("epoch"),
            "scorer": scorer,
            "target": " | ".join(map(str, target)) if isinstance(target, list) else target,
            "answer": (score or {}).get("answer"),
            "value": (score or {}).get("value"),
            "error": _error(sample),
            "completion": _completion(sample),
        }
        for scorer, score in scores.items()
    ]


def read_samples(log_file: str | Path) -> dict:
    """{status, task, model, rows}: the log's header facts and one row per sample and scorer,
    ordered by item then epoch."""
    with zipfile.ZipFile(log_file) as archive:
        names = archive.namelist()
        header = json.loads(archive.read("header.json")) if "header.json" in names else {}
        records = [
            json.loads(archive.read(n)) for n in names if n.startswith("samples/") and n.endswith(".json")
        ]
    records.sort(key=lambda s: (str(s.get("id")), s.get("epoch") or 0))
    spec = header.get("eval") or {}
    return {
        "status": header.get("status"),
        "task": spec.get("task"),
        "model": spec.get("model"),
        "rows": [row for record in records for row in sample_rows(record)],
    }


def correct(value) -> bool | None:
    """Whether a score value counts as correct: inspect's C/I letters, booleans, numbers > 0."""
    if isinstance(value, str):
        return {"C": True, "I": False, "P": None}.get(value.upper())
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value > 0
    return None
