"""Run untrusted, model-written Python in a child process with limits.

The program counts as passing only if the harness prints a per-run random token
*after* the tests ran: exit(), sys.exit(), os._exit(), killing the interpreter,
or replacing the test function cannot produce that token, and neither can
a timeout. This is a process sandbox (separate interpreter, temp dir, CPU, memory
and time limits, clean environment), not a security boundary against a
determined attacker: run it inside the evaluation container in production.

Under posttrainbench-v1, HumanEval runs instead as PostTrainBench ran it (run_python_c): a bare
`python -c` whose exit status decides, with inspect's limits and no others.
"""

from __future__ import annotations

import os
import re
import resource
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
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


# --- posttrainbench-v1: `python -c` as inspect's local sandbox ran PostTrainBench's HumanEval ----

# inspect 0.3.145's SandboxEnvironmentLimits.MAX_EXEC_OUTPUT_SIZE: past it, its subprocess() kills
# the process and its local sandbox raises OutputLimitExceededError (the sample, so the eval, errors)
V1_OUTPUT_LIMIT = 10 * 1024**2
SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|CREDENTIAL", re.IGNORECASE)


class SandboxOutputError(RuntimeError):
    """What errored PostTrainBench's sample: more than 10 MiB on a stream, or output that is not
    UTF-8 (inspect decoded it strictly)."""


def run_python_c(code: str, timeout: float = 30.0, output_limit: int = V1_OUTPUT_LIMIT) -> Result:
    """`python -c code` in a fresh temporary directory, as inspect_evals' humaneval scorer ran it in
    inspect's local sandbox for PostTrainBench: no memory, CPU or file-size limit; both streams read
    to their end (a child still holding them keeps the run going); passed when the exit status is 0
    (a program calling exit(0) passes: v1's bug); the timeout fails the sample. Differences that
    cannot move a score: the environment is this process's without secrets (PostTrainBench's
    whole environment), and what the program left running is killed once it is scored.
    """
    env = {k: v for k, v in os.environ.items() if not SECRET_NAME.search(k)}
    with tempfile.TemporaryDirectory(prefix="ptb-v1-sandbox-") as workdir:
        proc = subprocess.Popen(
            [sys.executable, "-c", code],
            cwd=workdir,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            start_new_session=True,
        )
        streams = {"stdout": bytearray(), "stderr": bytearray()}
        readers = [
            threading.Thread(target=_read_stream, args=(pipe, streams[name], output_limit, proc), daemon=True)
            for name, pipe in (("stdout", proc.stdout), ("stderr", proc.stderr))
        ]
        deadline = time.monotonic() + timeout
        try:
            for reader in readers:
                reader.start()
            for reader in readers:
                reader.join(max(0.0, deadline - time.monotonic()))
            if any(reader.is_alive() for reader in readers):
                return Result(False, "timeout", "")
            returncode = proc.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            return Result(False, "timeout", "")
        finally:
            _kill_group(proc)
    try:
        stdout, stderr = (bytes(streams[name]).decode() for name in ("stdout", "stderr"))
    except UnicodeDecodeError as error:
        raise SandboxOutputError(f"the program's output is not UTF-8: {error}") from None
    if max(len(streams["stdout"]), len(streams["stderr"])) > output_limit:
        raise SandboxOutputError(f"the program wrote more than {output_limit} bytes to one stream")
    reason = "passed" if returncode == 0 else f"failed (exit {returncode})"
    return Result(returncode == 0, reason, (stdout + stderr)[-4000:])


def _read_stream(pipe, into: bytearray, limit: int, proc: subprocess.Popen) -> None:
    while chunk := pipe.read1(65536):
        into.extend(chunk)
        if len(into) > limit:
            _kill_group(proc)
            return


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
