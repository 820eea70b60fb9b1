"""Infrastructure failures: the job fails (and the scheduler retries it) instead of writing a score.

A result file records what the *model* or the *agent* did. A full disk, a node out of memory, a
lost GPU, a killed inference server or an unreachable grader says nothing about either: written as
`eval_error`, `judge_error` or `infra_error` it would be a finished output that is never retried
and scores as the base model. So each stage asks `infra_cause` about a failure and raises
`InfraFailure` for those: snakemake marks the job failed, removes its outputs, and retries it
(`retries:` of evaluate and judge) or runs it again on the next invocation. docs/faults.md has the
whole table.

The check is a list of known causes, not a guess: anything else stays the stage's own outcome,
so a model that cannot be loaded is an `eval_error` (retrying it would fail again).
"""

from __future__ import annotations

import errno
import re

# errno values that mean the machine, not the work, failed
INFRA_ERRNOS = {
    errno.ENOSPC: "no space left on device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EIO: "I/O error",
    errno.EROFS: "read-only file system",
    errno.ENOMEM: "out of memory",
    errno.ESTALE: "stale file handle (shared filesystem)",
}

# messages of the same failures as they reach us through other libraries' wrappers
# (sqlite, inspect, httpx/openai, torch/CUDA, the vLLM server's own log lines)
INFRA_MESSAGES = re.compile(
    "|".join(
        (
            r"database or disk is full",
            r"No space left on device",
            r"Disk quota exceeded",
            r"Read-only file system",
            r"Input/output error",
            r"Stale file handle",
            r"Cannot allocate memory",
            r"CUDA out of memory",
            r"OutOfMemoryError",
            # a lost or broken GPU (not "CUDA error" alone: a model's NaN logits can trip a
            # device-side assert, which a retry would only repeat)
            r"no CUDA-capable device",
            r"No CUDA GPUs are available",
            r"CUDA-capable device\(s\) is/are busy or unavailable",
            r"CUDA error: unknown error",
            r"GPU is lost",
            r"uncorrectable ECC error",
            r"CUDA driver",
            r"NVIDIA driver",
            r"NCCL error",
            r"Connection refused",
            r"Connection reset by peer",
            r"ConnectError",
            r"APIConnectionError",
            r"RemoteProtocolError",
            r"Server disconnected",
            r"Broken pipe",
            # an API (the grader, the LLM judge) down or refusing load, after the client's retries
            r"RateLimitError",
            r"InternalServerError",
            r"APITimeoutError",
            r"ServiceUnavailable",
        )
    ),
    re.IGNORECASE,
)


class InfraFailure(RuntimeError):
    """The job's infrastructure failed: no result file may be written; the job must fail."""


def infra_cause(failure: BaseException | str | None) -> str | None:
    """Why `failure` is an infrastructure failure (a short phrase), or None if it is not one.

    An exception is looked at with its whole chain (__cause__ and __context__): inspect and the
    HTTP clients wrap the OSError that says "disk full" or "connection refused"."""
    if failure is None:
        return None
    if isinstance(failure, str):
        found = INFRA_MESSAGES.search(failure)
        return found.group(0) if found else None
    seen: set[int] = set()
    error: BaseException | None = failure
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, InfraFailure):
            return str(error)
        if isinstance(error, MemoryError):
            return "out of memory"
        if isinstance(error, OSError) and error.errno in INFRA_ERRNOS:
            return INFRA_ERRNOS[error.errno]
        found = INFRA_MESSAGES.search(f"{type(error).__name__}: {error}")
        if found:
            return found.group(0)
        error = error.__cause__ or error.__context__
    return None
