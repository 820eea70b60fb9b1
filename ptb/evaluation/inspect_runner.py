"""inspect's eval(), run so that a tracer (coverage.py) still sees the lines after it.

CPython 3.11 drops the trace "call" event of a coroutine resumed after it caught a cancelled
task's CancelledError (python/cpython#106749, fixed in 3.12); anyio's task groups do that at the
end of every inspect eval. A tracer that keeps a frame stack, coverage.py's, then pops one frame
too many, and every line after the eval in the frames that called it goes unrecorded (or is
credited to another file). Under a tracer on 3.11 the eval runs in a worker thread instead: that
thread's tracer stack ends with the thread, and the caller's stays aligned. Without a tracer (any
production run) the eval runs in the calling thread as usual.
"""

from __future__ import annotations

import logging
import sys
from concurrent.futures import ThreadPoolExecutor

from inspect_ai import eval as inspect_eval

CPYTHON_106749 = sys.version_info < (3, 12)


def run(tasks, **kwargs) -> list:
    """inspect_ai.eval(tasks, **kwargs): its logs."""
    if not (CPYTHON_106749 and sys.gettrace() is not None):
        return inspect_eval(tasks, **kwargs)
    with ThreadPoolExecutor(1, thread_name_prefix="inspect-eval") as pool:
        return pool.submit(inspect_eval, tasks, **kwargs).result()


class _JobLog(logging.Handler):
    """Hands inspect_ai's records at INFO and above to the job log's handlers."""

    def __init__(self, handlers: list[logging.Handler]):
        super().__init__(logging.INFO)
        self.handlers = handlers

    def emit(self, record: logging.LogRecord) -> None:
        for handler in self.handlers:
            handler.handle(record)


def log_to_job_log() -> None:
    """Each record once in a rule's log (ptb.core.smk.logged sends the root logger there).

    inspect's own handler sits on the root logger too and prints every record it displays to
    stderr, which is the same log file: each progress line came twice, once wrapped by rich, and
    transformers' warnings a third time through its own stderr handler. inspect's handler keeps
    capturing records into the .eval log but displays nothing; inspect_ai's records (a logger that
    does not propagate) reach the job log's handlers; transformers' propagate to the root.
    """
    import transformers.utils.logging as transformers_logging  # noqa: PLC0415
    from inspect_ai._util import logger as inspect_logger  # noqa: PLC0415 (no public hook for this)

    transformers_logging.disable_default_handler()
    transformers_logging.enable_propagation()
    inspect_logger.init_logger("info")  # what eval(log_level="info") would create, created now
    inspect_handler = inspect_logger._logHandler["handler"]
    inspect_handler.display_level = logging.CRITICAL + 1
    job_handlers = [h for h in logging.getLogger().handlers if h is not inspect_handler]
    package = logging.getLogger("inspect_ai")
    package.handlers = [h for h in package.handlers if not isinstance(h, _JobLog)] + [_JobLog(job_handlers)]
