"""Run untrusted, model-written Python in a child process with limits.

The program counts as passing only if the harness prints a per-run random token
*after* the tests ran: exit(), sys.exit(), os._exit(), killing the interpreter,
or replacing the test function cannot produce that token, and neither can
a timeout. This is a process sandbox (separate interpreter, temp dir, CPU, memory
and time limits, clean environment), not a security boundary against a
determined attacker: run it inside the evaluation container in production.
"""

from __future__ import annotations

import os
import resource
import secrets
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass

# The token is read before the program runs and kept in a closure under a random
# name, so the program cannot print it without searching the interpreter for it.
HARNESS = """
{report} = (lambda t: lambda: (
    # what the program printed is still in sys.stdout's buffer: out before the token, not after
    [stream.flush() for stream in (__import__("sys").stdout, __import__("sys").stderr)],
    __import__("os").write(1, ("\\n" + t + "\\n").encode()),
))(__import__("sys").stdin.readline().strip())
{program}

{test}
check({entry_point})
{report}()
"""


@dataclass
class Result:
    passed: bool
    reason: str
    output: str


def _limits(memory_mb: int, cpu_seconds: int):
    def apply():  # pragma: no cover (runs in the forked child before exec: coverage records nothing there)
        os.setsid()
        resource.setrlimit(resource.RLIMIT_AS, (memory_mb << 20, memory_mb << 20))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
        resource.setrlimit(resource.RLIMIT_FSIZE, (10 << 20, 10 << 20))

    return apply


def run_tests(
    program: str, test: str, entry_point: str, timeout: float = 10.0, memory_mb: int = 1024
) -> Result:
    token = secrets.token_hex(16)
    report = f"_done_{secrets.token_hex(8)}"
    source = HARNESS.format(report=report, program=program, test=test, entry_point=entry_point)
    with tempfile.TemporaryDirectory(prefix="ptb-sandbox-") as workdir:
        path = os.path.join(workdir, "program.py")
        with open(path, "w") as handle:
            handle.write(source)
        proc = subprocess.Popen(
            [sys.executable, "-I", "-B", path],
            cwd=workdir,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env={"PATH": "/usr/bin:/bin", "PYTHONHASHSEED": "0", "HOME": workdir},
            preexec_fn=_limits(memory_mb, int(timeout) + 1),
        )
        try:
            out, _ = proc.communicate((token + "\n").encode(), timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            return Result(False, "timeout", "")
        finally:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    text = out.decode(errors="replace")[-4000:]
    lines = text.splitlines()
    if proc.returncode == 0 and lines and lines[-1].strip() == token:
        return Result(True, "passed", text.replace(token, ""))
    reason = "failed" if token not in text else "output after tests"
    return Result(False, f"{reason} (exit {proc.returncode})", text.replace(token, ""))
