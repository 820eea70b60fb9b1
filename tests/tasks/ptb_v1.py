"""The fixtures recorded from PostTrainBench v1's own code (tests/fixtures/ptb_v1/, see its README)
and what the side-by-side tests share: a task folder's scoring module and the grader's replies
as PostTrainBench's code path received them."""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json

from ptb.paths import REPO_ROOT

FIXTURES = REPO_ROOT / "tests" / "fixtures" / "ptb_v1"


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
