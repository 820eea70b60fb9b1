"""The fixtures recorded from PostTrainBench v1's own code for the LLM-graded tasks
(tests/fixtures/posttrainbench_v1/graded/, see its README), and a task folder's scoring module."""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json

from ptb.paths import REPO_ROOT

FIXTURES = REPO_ROOT / "tests" / "fixtures" / "posttrainbench_v1" / "graded"


@functools.cache
def fixture(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


@functools.cache
def scoring(task: str):
    """tasks/<task>/scoring.py (task folders are not a package)."""
    spec = importlib.util.spec_from_file_location(
        f"ptb_scoring_{task}", REPO_ROOT / "tasks" / task / "scoring.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
