"""One finished demo for the tests that read it: `make demo`, as the README gives it, in a copy of
the checkout (so the results lie where a newcomer's would: results/demo)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import checkout_env, copy_checkout

# make demo's setup step is up to date when its venv is newer than these (the copy's own, whose
# mtimes copytree keeps): set them back so that make finds the repository's venv installed
SETUP_INPUTS = ("requirements.txt", "requirements-nodeps.txt", "constraints.txt", "pyproject.toml")


@pytest.fixture(scope="session")
def demo_checkout(tmp_path_factory) -> Path:
    """A checkout copy after `make demo` (the venv linked in, nothing installed again)."""
    work = copy_checkout(tmp_path_factory.mktemp("made-demo") / "work")
    (work / ".venv").symlink_to(Path(sys.executable).parent.parent)  # the venv running the tests
    installed = (work / ".venv" / ".installed").stat().st_mtime
    for name in SETUP_INPUTS:
        os.utime(work / name, (installed - 60, installed - 60))
    proc = subprocess.run(
        ["make", "demo"], cwd=work, env=checkout_env(work), capture_output=True, text=True, timeout=3000
    )
    assert proc.returncode == 0, f"make demo failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-6000:]}"
    assert "| " in proc.stdout, "make demo prints the leaderboard"
    return work
