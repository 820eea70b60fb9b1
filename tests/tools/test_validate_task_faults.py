"""validate-task on task folders broken one way each: the report names the file (and line or
field) and says what is wrong. One table; each row plants one fault in a fresh new-task skeleton."""

from __future__ import annotations

import pytest

from ptb.tools import skeleton
from ptb.tools.validate_task import validate


def replace(relpath: str, old: str, new: str):
    def plant(folder):
        path = folder / relpath
        text = path.read_text()
        assert old in text, (relpath, old)
        path.write_text(text.replace(old, new))

    return plant


def write(relpath: str, text: str):
    def plant(folder):
        (folder / relpath).write_text(text)

    return plant


def remove(relpath: str):
    def plant(folder):
        (folder / relpath).unlink()

    return plant


def both(*plants):
    def plant(folder):
        for one in plants:
            one(folder)

    return plant


RECORD_TO_SAMPLE = 'return Sample(id=record["id"], input=record["question"], target=record["answer"])'
TEST_TEXTS = 'return [record["question"], record["answer"]]'
TASK_FUNCTION = "def demo_f(data_dir: str, limit: int | None = None) -> Task:"
SAMPLES = 'samples = [record_to_sample(r) for r in read_jsonl(Path(data_dir) / "test.jsonl")]'

# (fault, plant, level, where, message fragment)
FAULTS = [
    ("task.yaml not YAML", write("task.yaml", "name: [demo_f\n"), "error", "task.yaml", "not valid YAML"),
    (
        "task.yaml a list",
        write("task.yaml", "- name\n- version\n"),
        "error",
        "task.yaml",
        "must be a mapping",
    ),
    (
        "revision read as a number",
        replace("task.yaml", 'revision: "0000000000000000000000000000000000000000"', "revision: 1234"),
        "error",
        "dataset.revision",
        "quote the revision",
    ),
    (
        "unknown key",
        replace("task.yaml", "  max_tokens: 512\n", "  max_tokens: 512\n  colour: red\n"),
        "error",
        "task.yaml: generation",
        "allowed:",
    ),
    (
        "empty score range",
        replace("task.yaml", "epochs: 1\n", "epochs: 1\nscore_range: [1, 0]\n"),
        "error",
        "score_range",
        "is empty",
    ),
    ("placeholder hub id", lambda folder: None, "warn", "dataset.hub_id", "is a placeholder"),
    ("no task.yaml", remove("task.yaml"), "error", "task.yaml", "missing (new-task NAME writes one)"),
    (
        "task.py does not import",
        replace("task.py", "from pathlib import Path", "from pathlib import Path\nimport no_such_module"),
        "error",
        "task.py",
        "does not import: ModuleNotFoundError",
    ),
    (
        "no @task function of the folder's name",
        replace("task.py", "def demo_f(", "def other_name("),
        "error",
        "task.py",
        "no @task function named 'demo_f'",
    ),
    (
        "the @task takes no limit",
        replace("task.py", TASK_FUNCTION, "def demo_f(data_dir: str) -> Task:\n    limit = None"),
        "error",
        "task.py: demo_f()",
        "takes no 'limit' argument",
    ),
    (
        "a record that is a JSON list",
        lambda folder: (folder / "data" / "test.jsonl").open("a").write("[1, 2]\n"),
        "error",
        "data/test.jsonl:6",
        "a JSON list, not an object",
    ),
    (
        "no test records",
        remove("data/test.jsonl"),
        "error",
        "data/test.jsonl",
        "missing: the offline test records",
    ),
    ("empty test records", write("data/test.jsonl", "\n"), "error", "data/test.jsonl", "no records"),
    (
        "record_to_sample raises",
        replace("task.py", RECORD_TO_SAMPLE, "raise ValueError('bad record')"),
        "error",
        "data/test.jsonl:1",
        "record_to_sample failed: ValueError: bad record",
    ),
    (
        "record_to_sample returns no Sample",
        replace("task.py", RECORD_TO_SAMPLE, "return dict(record)"),
        "error",
        "data/test.jsonl:1",
        "returned dict, not a Sample",
    ),
    (
        "the @task's dataset holds no Samples",
        replace("task.py", RECORD_TO_SAMPLE, "return dict(record)"),
        "error",
        "demo_f(data_dir, limit=5)",
        "the dataset holds dict, not Samples",
    ),
    (
        "record_to_sample gives an empty input",
        replace("task.py", RECORD_TO_SAMPLE, 'return Sample(id=record["id"], input="", target="x")'),
        "error",
        "data/test.jsonl:1",
        "empty input",
    ),
    (
        "no record_to_sample",
        replace("task.py", "record_to_sample", "to_sample"),
        "warn",
        "data/test.jsonl",
        "task.py has no record_to_sample(record)",
    ),
    (
        "test_texts raises",
        replace("task.py", TEST_TEXTS, "raise KeyError('question')"),
        "error",
        "test_texts(record)",
        "KeyError",
    ),
    (
        "test_texts returns a string",
        replace("task.py", TEST_TEXTS, 'return record["question"]'),
        "error",
        "test_texts(record)",
        "must return a list of strings",
    ),
    (
        "test_texts returns no text",
        replace("task.py", TEST_TEXTS, 'return [" "]'),
        "error",
        "test_texts(record)",
        "no text for records (lines) [1, 2, 3, 4, 5]",
    ),
    (
        "the @task raises",
        replace("task.py", SAMPLES, SAMPLES + "\n    raise RuntimeError('cannot build')"),
        "error",
        "demo_f(data_dir, limit=5)",
        "the @task failed: RuntimeError: cannot build",
    ),
    (
        "sample ids repeat",
        replace("task.py", 'Sample(id=record["id"]', 'Sample(id="same"'),
        "error",
        "demo_f(data_dir)",
        "sample ids repeat",
    ),
    (
        "offline_records raises",
        replace(
            "task.py",
            "def normalise(",
            "def offline_records():\n    raise OSError('no package')\n\n\ndef normalise(",
        ),
        "error",
        "offline_records()",
        "OSError: no package",
    ),
    (
        "record_to_sample takes more than a record",
        both(
            replace(
                "task.py",
                "def record_to_sample(record: dict)",
                "def record_to_sample(record: dict, tag: str)",
            ),
            replace("task.py", "record_to_sample(r)", "record_to_sample(r, 'tag')"),
        ),
        "ok",
        "data/test.jsonl",
        "record_to_sample takes more than a record",
    ),
]


@pytest.mark.parametrize("fault, plant, level, where, message", FAULTS, ids=[f[0] for f in FAULTS])
def test_a_planted_fault_is_reported_where_it_is(tmp_path, fault, plant, level, where, message):
    skeleton.new_task("demo_f", tmp_path)
    plant(tmp_path / "tasks" / "demo_f")
    report = validate("demo_f", tmp_path / "tasks")
    found = [(lv, w, m) for lv, w, m in report.lines if lv == level and where in w and message in m]
    assert found, f"{fault}: no {level} at {where!r} saying {message!r} in\n{report.render()}"
    assert report.passed == (level != "error"), report.render()
