"""Every command of the README's bash blocks works as written on a checkout after `make demo`
(tests/workflow/conftest.py), or is named in NOT_RUN with the reason; a command added to the
README without either fails here."""

from __future__ import annotations

import json
import re
import subprocess
import time
import urllib.request

import pytest
from helpers import REPO, bash_blocks, checkout_env

pytestmark = pytest.mark.demo

NOT_RUN = {
    "make demo": "the fixture: demo_checkout runs it",
    "make test": "this suite",
    "snakemake --profile slurm": "needs a SLURM cluster: tests/workflow/test_slurm.py submits jobs in CI",
    "snakemake --report results/report.html": "needs the production grid's results; its demo form runs",
    "new-task NAME && validate-task NAME": "tests/workflow/test_guide.py runs docs/adding-a-task.md's forms",
    "new-agent NAME": "tests/workflow/test_guide.py runs docs/adding-a-task.md's forms",
}
# planned only (-n added): a production GPU job, and the demo's few CPU minutes, whose rule code
# tests/evaluation/test_profiling.py runs
PLANNED = ("snakemake profiling", "snakemake --profile profiles/demo profiling")
INSPECT_PORT = 7575  # inspect view's default


def readme_commands() -> list[str]:
    commands = []
    for block in bash_blocks((REPO / "README.md").read_text()):
        for line in block.splitlines():
            command = re.sub(r"\s{2,}#.*$", "", line).strip()  # a comment after two spaces
            if command and not command.startswith("#"):
                commands.append(command)
    return commands


def run(work, command: str, codes=(0,)) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        ["bash", "-c", command], cwd=work, env=checkout_env(work), capture_output=True, text=True, timeout=900
    )
    assert proc.returncode in codes, f"{command}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


def served_logs(work, command: str) -> list[str]:
    """The .eval logs `inspect view` serves, read from its API while it runs."""
    server = subprocess.Popen(
        ["bash", "-c", f"exec {command}"],
        cwd=work,
        env=checkout_env(work),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{INSPECT_PORT}/api/log-files", timeout=5
                ) as reply:
                    return [entry["name"] for entry in json.loads(reply.read())["files"]]
            except OSError:
                assert server.poll() is None, f"{command} exited: {server.stdout.read()[-3000:]}"
                assert time.monotonic() < deadline, f"{command} did not answer in 120 s"
                time.sleep(1)
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_every_readme_command_is_run_or_excused():
    commands = readme_commands()
    assert "make demo" in commands and "snakemake -n" in commands
    unknown = [c for c in commands if c not in NOT_RUN and not RUNS.get(c.split()[0])]
    assert not unknown, f"README commands neither run by this test nor in NOT_RUN: {unknown}"
    assert not set(NOT_RUN) - set(commands), "NOT_RUN names a command the README no longer gives"


def check_snakemake(work, command: str) -> None:
    if command in PLANNED:
        command += " -n"
    said = run(work, command)
    text = said.stdout + said.stderr
    if " -n" in command:
        assert "This was a dry-run" in text or "Nothing to be done" in text, text[-2000:]
    report = re.search(r"--report (\S+)", command)
    if report:
        assert "leaderboard" in (work / report.group(1)).read_text()


def check_inspect_view(work, command: str) -> None:
    logs = served_logs(work, command)
    if "results/demo" in command:
        assert logs and all(name.endswith(".eval") for name in logs), logs


def check_ptb_status(work, command: str) -> None:
    said = run(work, command).stdout
    if "config/demo.yaml" in command:
        assert re.search(r"\b8\b", said) and "done" in said, said  # the demo's 8 cells, all done


def check_compare_reference(work, command: str) -> None:
    """After the demo nothing has a published number (the demo's models are not PostTrainBench's):
    it prints the baselines it found and says so, exiting 2."""
    said = run(work, command, codes=(2,))
    assert "nothing compared: no metrics with a published reference" in said.stderr
    if "config/demo.yaml" in command:
        assert "| SmolLM2-135M-Instruct | gsm8k |" in said.stdout, said.stdout  # the demo's baseline, scored


RUNS = {
    "snakemake": check_snakemake,
    "inspect": check_inspect_view,
    "ptb-status": check_ptb_status,
    "compare-reference": check_compare_reference,
}


@pytest.mark.parametrize("command", [c for c in readme_commands() if c not in NOT_RUN])
def test_readme_command_works_after_make_demo(demo_checkout, command):
    RUNS[command.split()[0]](demo_checkout, command)
