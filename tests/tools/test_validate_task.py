"""validate-task: the seven tasks pass; broken task folders fail with the file and field named."""

from __future__ import annotations

import re

import pytest

from ptb.core.tasks import TASKS_DIR
from ptb.tools import skeleton
from ptb.tools.validate_task import Report, check_spec, main, validate

TASKS = ["aime2025", "arenahardwriting", "bfcl", "gpqamain", "gsm8k", "healthbench", "humaneval"]


def errors(report) -> str:
    return "\n".join(f"{where}: {message}" for _, where, message in report.errors)


def test_every_task_in_the_repo_passes():
    assert sorted(p.parent.name for p in TASKS_DIR.glob("*/task.yaml")) == TASKS
    for name in TASKS:
        report = validate(name, limit=3)
        assert report.passed, report.render()
        assert any("scorer" in where and level == "ok" for level, where, _ in report.lines), report.render()


@pytest.fixture
def scaffolded(tmp_path):
    """A fresh `new-task demo_v` folder under tmp_path/tasks; returns (tasks dir, task dir)."""
    skeleton.new_task("demo_v", tmp_path)
    return tmp_path / "tasks", tmp_path / "tasks" / "demo_v"


def edit(path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new))


def test_a_fresh_scaffold_passes_with_a_warning_about_its_placeholder_pin(scaffolded, capsys):
    root, _ = scaffolded
    report = validate("demo_v", root)
    assert report.passed, report.render()
    warned = " ".join(f"{w} {m}" for _, w, m in report.warnings)
    assert "task.yaml: dataset.revision" in warned and "placeholder" in warned
    assert "reference_completion -> 1 on 5/5" in report.render()
    assert main(["demo_v", "--tasks-dir", str(root)]) == 0
    assert "demo_v: OK" in capsys.readouterr().out


def test_task_yaml_problems_name_the_field(scaffolded, capsys):
    root, folder = scaffolded
    spec = folder / "task.yaml"
    edit(spec, 'revision: "0000000000000000000000000000000000000000"', "revision: main")
    edit(spec, "  max_tokens: 512\n", "")
    edit(spec, "name: demo_v", "name: other")
    edit(spec, "version: 1.0.0", "version: one")
    report = validate("demo_v", root)
    text = errors(report)
    assert not report.passed
    assert re.search(r"task\.yaml: dataset\.revision: 'main' is not pinned.*40-hex", text)
    assert "task.yaml: generation: 'max_tokens' is a required property" in text
    assert "task.yaml: name: 'other' differs from the folder name 'demo_v'" in text
    assert "task.yaml: version" in text
    assert main(["demo_v", "--tasks-dir", str(root)]) == 1
    assert "FAILED" in capsys.readouterr().out


@pytest.mark.parametrize(
    "revision, ok",
    [
        ("v1.2.0", True),
        ("refs/tags/release-3", True),
        ("2.0", True),
        ("e53f048856ff4f594e959d75785d2c2d37b678ee", True),
        ("e53f0488", False),
        ("master", False),
        ("HEAD", False),
    ],
)
def test_pinned_revision_is_a_commit_or_a_tag(scaffolded, revision, ok):
    root, folder = scaffolded
    edit(
        folder / "task.yaml",
        'revision: "0000000000000000000000000000000000000000"',
        f'revision: "{revision}"',
    )
    report = Report("demo_v")
    check_spec("demo_v", folder, report)
    assert report.passed is ok, report.render()


def test_data_rows_that_do_not_parse_or_convert(scaffolded):
    root, folder = scaffolded
    data = folder / "data" / "test.jsonl"
    lines = data.read_text().splitlines()
    lines[2] = '{"id": "example-3", "question": "broken'
    lines[3] = '{"id": "example-4", "prompt": "What colour?", "answer": "green"}'
    data.write_text("\n".join(lines) + "\n")
    text = errors(validate("demo_v", root))
    assert "data/test.jsonl:3: not JSON" in text
    assert (
        "data/test.jsonl:4: record_to_sample: no field 'question' in the record (fields: answer, id, prompt)"
        in text
    )


def test_a_scorer_that_reads_thinking_is_caught(scaffolded):
    root, folder = scaffolded
    edit(
        folder / "task.py",
        "for line in reversed(strip_thinking(completion).splitlines()):",
        "for line in reversed(completion.splitlines()):",
    )
    text = errors(validate("demo_v", root))
    assert "'<think>answer</think>' scores differently from the thinking-stripped reply" in text
    assert "strip <think> blocks before scoring" in text


def test_a_scorer_that_crashes_on_empty_output_is_caught(scaffolded):
    root, folder = scaffolded
    edit(
        folder / "task.py",
        "    for line in reversed(strip_thinking(completion).splitlines()):",
        "    if not completion:\n        raise ValueError('nothing to parse')\n"
        "    for line in reversed(strip_thinking(completion).splitlines()):",
    )
    text = errors(validate("demo_v", root))
    assert re.search(r"sample 'example-1', an empty reply: error .*nothing to parse", text)


def test_values_outside_the_documented_range_and_empty_scoring_above_zero(scaffolded):
    root, folder = scaffolded
    edit(
        folder / "task.py",
        "value=CORRECT if answer is not None and answer == normalise(target.text) else INCORRECT",
        "value=2.0 if answer is not None and answer == normalise(target.text) else 0.5",
    )
    text = errors(validate("demo_v", root))
    assert "value 2.0 is outside the documented range [0, 1] (task.yaml score_range)" in text
    assert "an empty reply scores above 0" in text
    edit(
        folder / "task.yaml", "epochs: 1\n", "epochs: 1\nscore_range: [0, 2]\n"
    )  # documented: only the 0.5 on empty
    text = errors(validate("demo_v", root))
    assert "outside the documented range" not in text and "an empty reply scores above 0" in text


def test_missing_pieces(scaffolded):
    root, folder = scaffolded
    edit(folder / "task.py", "def test_texts(record: dict)", "def texts(record: dict)")
    (folder / "benchmark.txt").write_text("")
    edit(folder / "evaluate.py", 'script("demo_v")', 'script("gsm8k")')
    text = errors(validate("demo_v", root))
    assert "task.py: no test_texts(record) function" in text
    assert "benchmark.txt: empty" in text
    assert 'evaluate.py: must call ptb.evaluation.agent_eval.script("demo_v")' in text
    assert "no such task folder" in errors(validate("nope", root))


# --- planted faults: each part that can break is named, and the rest of the check still runs ---

FAULTS = {
    "the @task raises": (
        "    samples = [record_to_sample(r)",
        "    raise RuntimeError('no GPU here')\n    samples = [record_to_sample(r)",
        "demo_v(data_dir, limit=5): the @task failed: RuntimeError: no GPU here",
    ),
    "test_texts raises": (
        '    return [record["question"], record["answer"]]',
        '    return [record["prompt"]]',
        "data/test.jsonl:1: test_texts(record): KeyError: 'prompt'",
    ),
    "test_texts returns what JSON cannot hold": (
        '    return [record["question"], record["answer"]]',
        '    return [record["question"], {record["answer"]}]',
        "test_texts(record): must return a list of strings, got ['What is 2 + 3?', {'5'}]",
    ),
    "reference_completion raises": (
        '    return f"The answer follows.\\nANSWER: {sample.target}"',
        "    return sample.metadata['reference']",
        "reference_completion(sample) failed: TypeError",
    ),
    "reference_completion is wrong": (
        '    return f"The answer follows.\\nANSWER: {sample.target}"',
        '    return "ANSWER: 0"',
        "reference_completion does not score 1 on samples ['example-1'",
    ),
    "the scorer gives a value no metric reads": (
        "value=CORRECT if answer is not None and answer == normalise(target.text) else INCORRECT",
        "value='maybe'",
        "value 'maybe' is outside the documented range [0, 1]",
    ),
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_a_planted_fault_is_named(scaffolded, fault):
    root, folder = scaffolded
    old, new, message = FAULTS[fault]
    edit(folder / "task.py", old, new)
    report = validate("demo_v", root, limit=5)
    assert not report.passed
    assert message in errors(report), errors(report)


def test_a_boolean_score_counts_as_0_or_1(scaffolded):
    root, folder = scaffolded
    edit(
        folder / "task.py",
        "value=CORRECT if answer is not None and answer == normalise(target.text) else INCORRECT",
        "value=answer is not None and answer == normalise(target.text)",
    )
    report = validate("demo_v", root, limit=5)
    assert report.passed, report.render()
    assert "reference_completion -> 1 on 5/5" in report.render()


def test_without_reference_completion_a_target_no_reply_matches_is_a_warning(scaffolded):
    root, folder = scaffolded
    edit(folder / "task.py", "def reference_completion(sample: Sample)", "def _unused(sample: Sample)")
    edit(
        folder / "task.py",
        "value=CORRECT if answer is not None and answer == normalise(target.text) else INCORRECT",
        "value=CORRECT if answer == 'never' else INCORRECT",
    )
    report = validate("demo_v", root, limit=5)
    assert report.passed, report.render()
    assert any("define reference_completion(sample)" in message for _, _, message in report.warnings)
