"""Helpers for scripts that Snakemake runs through `script:`."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from pathlib import Path


class Untracked:
    """A rule param that never re-runs a finished job: `params: settings=Untracked({...})`.

    Snakemake's params trigger compares only values of builtin types and skips any other
    object (persistence._serialize_param: UNREPRESENTABLE). Agent runs pass their values
    this way, so a config edit can never re-run finished GPU-hours by accident;
    tests/workflow/test_incremental.py checks it. The script reads `.value`.
    """

    def __init__(self, value):
        self.value = value


@contextlib.contextmanager
def logged(snakemake):
    """Send the script's stdout, stderr and logging to the rule's log file."""
    log_file = Path(snakemake.log[0])
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with (
        open(log_file, "a") as handle,
        contextlib.redirect_stdout(handle),
        contextlib.redirect_stderr(handle),
    ):
        logging.basicConfig(
            stream=handle,
            level=logging.INFO,
            force=True,
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        )
        os.environ.setdefault("OMP_NUM_THREADS", str(snakemake.threads))
        log = logging.getLogger(snakemake.rule)
        try:
            yield log
        except BaseException:
            log.exception("%s failed", snakemake.rule)  # the traceback belongs in the rule's log
            raise
        finally:
            handle.flush()
    sys.stdout.flush()
