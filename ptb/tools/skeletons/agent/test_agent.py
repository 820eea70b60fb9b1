"""agents/{{name}}/solve.sh against a fake CLI, and its trace parser (scaffolded by `new-agent {{name}}`).

The fake CLI records its argv, prints a short JSON event stream and leaves
final_model/config.json, as the real CLI would after a successful run.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCAFFOLD = "{{name}}"
CLI = "{{cli}}"
PROMPT = "Train `tiny` to excel at gsm8k.\nRules: don't touch \"evaluate.py\"; cost is $0.\n"
EVENTS = [
    {"type": "init", "session_id": "s-1", "model": "some-model"},
    {"type": "text", "text": "I will check the time budget first."},
    {"type": "tool_call", "id": "t1", "name": "shell", "input": {"command": "bash timer.sh"}},
    {"type": "tool_result", "id": "t1", "output": "9h 59m left"},
    {"type": "result", "status": "success", "usage": {"input": 10, "output": 20}},
]
FAKE_CLI = """#!/bin/bash
printf '%s\\0' "$@" > {rec}/argv
echo "{cli}: a warning on stderr" >&2
cat {events}
mkdir -p final_model && echo '{{}}' > final_model/config.json
"""


def trace_module():
    loaded = importlib.util.spec_from_file_location(f"trace_{SCAFFOLD}", REPO / "agents" / SCAFFOLD / "trace.py")
    module = importlib.util.module_from_spec(loaded)
    loaded.loader.exec_module(module)
    return module


def run_solve(tmp_path: Path):
    """Run solve.sh as the runner does: cwd = job dir, a clean minimal environment."""
    fake_bin, job, rec = tmp_path / "bin", tmp_path / "job", tmp_path / "rec"
    for folder in (fake_bin, job, rec):
        folder.mkdir()
    (tmp_path / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in EVENTS))
    cli = fake_bin / CLI
    cli.write_text(FAKE_CLI.format(rec=rec, cli=CLI, events=tmp_path / "events.jsonl"))
    cli.chmod(0o755)
    (job / "prompt.md").write_text(PROMPT)
    env = {"PATH": f"{fake_bin}:/usr/bin:/bin", "HOME": str(tmp_path / "home"),
           "PTB_PROMPT_FILE": str(job / "prompt.md"), "PTB_AGENT_LLM": "some-model",
           "PTB_BASE_MODEL": str(tmp_path / "base"), "PTB_AGENT_OPTIONS": "{}", "PTB_DEADLINE": "4102444800"}
    proc = subprocess.run([shutil.which("bash"), str(REPO / "agents" / SCAFFOLD / "solve.sh")], cwd=job, env=env,
                          capture_output=True, text=True, timeout=30)
    return proc, job, (rec / "argv").read_text().split("\0")[:-1] if (rec / "argv").exists() else []


def test_solve_runs_the_cli_headless(tmp_path):
    proc, job, argv = run_solve(tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert PROMPT.rstrip("\n") in argv, "the prompt arrives as one argument, verbatim (less its final newline)"
    assert "some-model" in argv
    assert (job / "final_model" / "config.json").exists()


def test_trace_is_readable(tmp_path, monkeypatch):
    from ptb.agent_runs import traces  # noqa: PLC0415 (after the parser's registration)

    proc, _, _ = run_solve(tmp_path)
    monkeypatch.setattr(traces, "PARSERS", dict(traces.PARSERS))
    monkeypatch.setattr(traces, "_END", dict(traces._END))
    trace_module().register()
    markdown = traces.render(SCAFFOLD, proc.stdout + proc.stderr)
    assert "I will check the time budget first." in markdown
    assert "bash timer.sh" in markdown and "9h 59m left" in markdown
    assert "## Result: success" in markdown
    assert "a warning on stderr" in markdown, "stderr is kept as plain log"
