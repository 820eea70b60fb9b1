"""docs/adding-a-task.md runs as written: its bash blocks, in order, in a fresh copy of the repo.

new-task demo_task -> validate-task -> its scaffolded tests -> one config line -> the demo grid
(noop agent, tiny-qwen3) -> the leaderboard has a demo_task column; and new-agent likewise.
The copy's ptb is the one imported (PYTHONPATH), so nothing is written to this checkout.
"""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import REPO, bash_blocks, checkout_env, copy_checkout

GUIDE = REPO / "docs" / "adding-a-task.md"


@pytest.fixture(scope="module")
def copy(tmp_path_factory) -> Path:
    return copy_checkout(tmp_path_factory.mktemp("guide") / "repo")


def test_the_copy_imports_its_own_ptb(copy):
    proc = subprocess.run(
        [sys.executable, "-c", "import ptb.core.config; print(ptb.core.config.REPO_ROOT)"],
        cwd=copy,
        env=checkout_env(copy),
        capture_output=True,
        text=True,
        check=True,
    )
    assert Path(proc.stdout.strip()) == copy


def test_the_guide_has_the_commands_in_order():
    commands = "\n".join(bash_blocks(GUIDE.read_text()))
    order = [
        "new-task demo_task",
        "validate-task demo_task",
        "pytest tests/tasks/test_demo_task.py",
        "demo_task: {display_name: Demo Task, data: local}",
        "snakemake --profile profiles/demo",
        "leaderboard/leaderboard.md",
    ]
    positions = [commands.index(step) for step in order]
    assert positions == sorted(positions)


def test_guide_commands_run_and_the_task_gets_its_leaderboard_column(copy):
    blocks = bash_blocks(GUIDE.read_text())
    assert len(blocks) >= 6
    for block in blocks:
        proc = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", block],
            cwd=copy,
            env=checkout_env(copy),
            capture_output=True,
            text=True,
            timeout=1200,
        )
        assert proc.returncode == 0, (
            f"guide block failed:\n{block}\n--- stdout\n{proc.stdout[-4000:]}\n"
            f"--- stderr\n{proc.stderr[-6000:]}"
        )
        if block.startswith("validate-task"):
            assert "demo_task: OK" in proc.stdout
    assert not (REPO / "tasks" / "demo_task").exists(), "the guide ran in the copy only"
    for rel in ("tasks/demo_task/task.py", "tests/tasks/test_demo_task.py", "agents/my_cli/solve.sh"):
        assert (copy / rel).exists(), rel
    assert "`demo_task`" in (copy / "tasks" / "README.md").read_text(), "the task table lists it"
    results = copy / "results" / "demo_task"
    metrics = results / "eval" / "noop" / "tiny-qwen3" / "demo_task" / "seed1" / "metrics.json"
    assert metrics.exists()
    with open(results / "leaderboard" / "leaderboard.csv", newline="") as handle:
        header = next(csv.reader(handle))
    assert "demo_task" in header
    md = (results / "leaderboard" / "leaderboard.md").read_text()
    assert "Demo Task" in md or "demo_task" in md
    # what new-task and new-agent wrote passes the project's lint as written (make test runs it)
    written = [
        "tasks/demo_task",
        "agents/my_cli",
        "tests/tasks/test_demo_task.py",
        "tests/agents/test_my_cli.py",
    ]
    for lint in (["format", "--check"], ["check"]):
        proc = subprocess.run(
            [sys.executable, "-m", "ruff", *lint, *written], cwd=copy, capture_output=True, text=True
        )
        assert proc.returncode == 0, f"ruff {' '.join(lint)}:\n{proc.stdout}{proc.stderr}"
