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
