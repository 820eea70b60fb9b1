"""Check `tamper`: the handed-out files (evaluate.py, task.py, ...) are still what was handed out.

The reference hashes come from the workflow (recorded outside the job dir), never from the job dir.
"""

from __future__ import annotations

from pathlib import Path

from ptb.core import io
from ptb.judge.common import result

NAME = "tamper"


def check(job_dir: str | Path, handout: dict[str, str]) -> dict:
    job_dir = Path(job_dir)
    missing, modified = [], []
    for rel, expected in sorted(handout.items()):
        path = job_dir / rel
        if path.is_symlink():
            # a link can be re-pointed after the judge looked: a replaced file, whatever it reads now
            modified.append(rel)
        elif not path.is_file():
            missing.append(rel)
        elif io.sha256_file(path) != expected:
            modified.append(rel)
    passed = not missing and not modified
    if passed:
        summary = f"all {len(handout)} handed-out files unchanged"
    else:
        summary = f"{len(modified)} handed-out file(s) modified, {len(missing)} missing"
    return result(NAME, passed, summary, checked=len(handout), missing=missing, modified=modified)
