"""Apptainer images: their paths, their digests, and the command that runs an agent in one.

With `container: apptainer` (workflow_config.yaml), evaluations run in the eval image
through snakemake (`--sdm apptainer`, rules/evaluate.smk) and an agent run wraps only
`solve.sh` in the agent image (ptb.agent_runs.box): the runner itself (budget, trace,
redaction, manifest) stays on the host, outside the agent's reach. With `container:
none` (the demo) the agent runs on the host, in a bubblewrap box.
"""

from __future__ import annotations

import functools
import os
import shutil
import sys
from pathlib import Path

from ptb.core import io

IMAGES = ("agent", "eval")
APPTAINER = os.environ.get("PTB_APPTAINER", "apptainer")


@functools.lru_cache(maxsize=None)  # asked once per planned job
def runtime_available() -> bool:
    """Whether snakemake can find a container runtime (it looks for apptainer, then singularity)."""
    return bool(shutil.which("apptainer") or shutil.which("singularity"))


_warned = []


def warn_no_runtime_once() -> None:
    if not _warned:
        _warned.append(True)
        print(
            "[containers] dry run: apptainer is not on PATH here; the plan is shown without the "
            "images (a real run needs apptainer)",
            file=sys.stderr,
        )


def image_digest(sif: str | Path, definition: str | Path | None = None) -> dict:
    """sha256 and size of a built image, with the definition it was built from."""
    sif = Path(sif)
    record = {"image": str(sif.absolute()), "sha256": io.sha256_file(sif), "bytes": sif.stat().st_size}
    if definition is not None and Path(definition).exists():
        record.update(definition=str(definition), definition_sha256=io.sha256_file(definition))
    return record
