"""new-task / new-agent: the skeletons are complete and pass their own tests as written."""

from __future__ import annotations

import importlib.util
import inspect
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ptb.agent_runs import traces
from ptb.core import tasks
from ptb.core.config import validate
from ptb.core.paths import REPO_ROOT
from ptb.tools import skeleton

TASK_FILES = [
    "tasks/demo_q/benchmark.txt",
    "tasks/demo_q/data/test.jsonl",
    "tasks/demo_q/evaluate.py",
    "tasks/demo_q/task.py",
    "tasks/demo_q/task.yaml",
    "tests/tasks/test_demo_q.py",
]


@pytest.fixture
def task_root(tmp_path, monkeypatch):
    """A scaffolded task in a temporary root, with ptb.core.tasks pointed at it."""
    assert skeleton.new_task_main(["demo_q", "--root", str(tmp_path)]) == 0
    monkeypatch.setattr(tasks, "TASKS_DIR", tmp_path / "tasks")
    return tmp_path


def load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_new_task_writes_the_task_folder_and_its_test(task_root):
    written = sorted(str(p.relative_to(task_root)) for p in task_root.rglob("*") if p.is_file())
    assert written == sorted(TASK_FILES)
    assert os.access(task_root / "tasks/demo_q/evaluate.py", os.X_OK)
    settings = yaml.safe_load((task_root / "tasks/demo_q/task.yaml").read_text())
    assert settings["name"] == "demo_q" and settings["dataset"]["revision"] == "0" * 40
    assert (task_root / "tasks/demo_q/benchmark.txt").read_text().strip() == "Demo Q"
    assert len(tasks.read_jsonl(task_root / "tasks/demo_q/data/test.jsonl")) == 5
    assert 'script("demo_q")' in (task_root / "tasks/demo_q/evaluate.py").read_text()
    assert "{{" not in "".join((task_root / f).read_text() for f in TASK_FILES), "every placeholder filled"


def test_scaffolded_task_passes_its_own_tests(task_root, tmp_path_factory):
    generated = load(task_root / "tests/tasks/test_demo_q.py", "generated_test_demo_q")
    tests = {name: fn for name, fn in vars(generated).items() if name.startswith("test_") and callable(fn)}
    assert len(tests) == 4
    for name, fn in tests.items():
        args = (
            {"tmp_path": tmp_path_factory.mktemp(name)}
            if "tmp_path" in inspect.signature(fn).parameters
            else {}
        )
        fn(**args)


def test_new_task_refuses_bad_names_and_existing_files(task_root, capsys):
    for bad in ("Demo", "1task", "my-task", "a/b"):
        with pytest.raises(skeleton.SkeletonError, match="lowercase"):
            skeleton.new_task(bad, task_root)
    assert skeleton.new_task_main(["demo_q", "--root", str(task_root)]) == 1
    assert "already exist" in capsys.readouterr().err


def test_new_agent_scaffold_passes_its_test_and_prints_a_config_entry(tmp_path, capsys):
    assert skeleton.new_agent_main(["my_cli", "--root", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    for rel in ("agents/my_cli/solve.sh", "agents/my_cli/trace.py", "tests/agents/test_my_cli.py"):
        assert (tmp_path / rel).exists(), rel
    # the generated test: a fake CLI run of solve.sh and the trace parser (own process: pytest as CI runs it)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            str(tmp_path / "tests/agents/test_my_cli.py"),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "2 passed" in proc.stdout
    # the printed entry, pasted under `agents:`, is a valid config entry
    entry_text = printed[printed.index("  # Paste under") :]
    entry = yaml.safe_load("agents:\n" + entry_text)["agents"]
    assert entry == {
        "my_cli": {
            "scaffold": "my_cli",
            "display_name": "My Cli",
            "llm": "TODO-model-id",
            "env": ["MY_CLI_API_KEY"],
        }
    }
    config = yaml.safe_load((REPO_ROOT / "workflow_config.yaml").read_text())
    config["agents"].update(entry)
    validate(config)


def test_trace_stub_registers_a_parser(tmp_path, monkeypatch):
    skeleton.new_agent("my_cli", tmp_path)
    monkeypatch.setattr(traces, "PARSERS", dict(traces.PARSERS))
    monkeypatch.setattr(traces, "_END", dict(traces._END))
    load(tmp_path / "agents/my_cli/trace.py", "trace_my_cli").register()
    assert traces.has_parser("my_cli")
    events = traces.parse(
        "my_cli", '{"type": "text", "text": "hi"}\nplain stderr\n{"type": "unknown"}\n{"trunc'
    )
    assert events == [
        {"kind": "text", "text": "hi"},
        {"kind": "log", "text": "plain stderr"},
        {"kind": "log", "text": '{"trunc'},
    ]
