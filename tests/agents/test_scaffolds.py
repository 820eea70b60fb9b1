"""The four CLI scaffolds (agents/<name>/solve.sh) against fake CLIs, and their trace parsers.

Each fake CLI records its argv and the names of its environment variables, replays
a recorded event stream (fixtures/<name>.jsonl) on stdout, and leaves
final_model/config.json, as the real CLI would after a successful run.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ptb.agent_runs import traces

REPO = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures"
BASH = shutil.which("bash")
MODEL = "some-model"
FAKE_KEY = "sk-fake-0123456789abcdef"
# a multi-line prompt with quotes and a dollar sign: it must arrive as one argument, verbatim
PROMPT = 'We want to train `tiny` to excel at gsm8k.\nRules: don\'t touch "evaluate.py"; cost is $0.\n'

SCAFFOLDS = {
    # name: (key variable, flags the CLI must get, assistant text and tool call in the trace)
    "claude": (
        "ANTHROPIC_API_KEY",
        ["--print", "--output-format", "stream-json", "--verbose", "--dangerously-skip-permissions"],
        "I'll start by checking the time budget",
        "bash timer.sh && ls -la $PTB_BASE_MODEL",
    ),
    "codex": (
        "OPENAI_API_KEY",
        ["exec", "--json", "--dangerously-bypass-approvals-and-sandbox", "--skip-git-repo-check"],
        "First I will look at the time budget",
        "bash -lc 'python train.py --out final_model'",
    ),
    "gemini": (
        "GEMINI_API_KEY",
        ["--output-format", "stream-json", "--yolo"],
        "Let me check the time budget and the base model first.",
        "python train.py --out final_model",
    ),
    "opencode": (
        "ANTHROPIC_API_KEY",
        ["run", "--format", "json"],
        "I will check the time budget and the base model first.",
        "python train.py --out final_model",
    ),
}

FAKE_CLI = """#!/bin/bash
printf '%s\\0' "$@" > {rec}/argv
cat > {rec}/stdin
compgen -e > {rec}/env_names
echo "{name}: a warning on stderr" >&2
cat {fixture}
mkdir -p final_model && echo '{{}}' > final_model/config.json
"""


def run_solve(
    scaffold: str,
    tmp_path: Path,
    *,
    with_cli: bool = True,
    effort: str | None = None,
    extra_env: dict | None = None,
    fake: str = FAKE_CLI,
):
    """Run solve.sh as the runner does: cwd = job dir, a clean minimal environment."""
    fake_bin, job, rec = tmp_path / "bin", tmp_path / "job", tmp_path / "rec"
    for folder in (fake_bin, job, rec):
        folder.mkdir()
    if with_cli:
        cli = fake_bin / scaffold
        cli.write_text(fake.format(rec=rec, name=scaffold, fixture=FIXTURES / f"{scaffold}.jsonl"))
        cli.chmod(0o755)
    (job / "prompt.md").write_text(PROMPT)
    env = {
        "PATH": f"{fake_bin}:/usr/bin:/bin" if with_cli else str(fake_bin),  # missing: nothing else to find
        "HOME": str(tmp_path / "home"),
        "PTB_PROMPT_FILE": str(job / "prompt.md"),
        "PTB_AGENT_LLM": MODEL,
        "PTB_BASE_MODEL": str(tmp_path / "base"),
        "PTB_AGENT_OPTIONS": "{}",
        "PTB_DEADLINE": "4102444800",
        SCAFFOLDS[scaffold][0]: FAKE_KEY,
    }
    if effort:
        env["PTB_AGENT_EFFORT"] = effort
    env.update(extra_env or {})
    proc = subprocess.run(
        [BASH, str(REPO / "agents" / scaffold / "solve.sh")],
        cwd=job,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        stdin=subprocess.DEVNULL,  # as the runner does
    )
    return proc, job, rec


def recorded(rec: Path) -> tuple[list[str], set[str]]:
    argv = (rec / "argv").read_text().split("\0")[:-1]
    return argv, set((rec / "env_names").read_text().split())


@pytest.mark.parametrize("scaffold", sorted(SCAFFOLDS))
def test_solve_runs_cli_headless_and_trace_is_readable(scaffold, tmp_path):
    key, flags, assistant_text, tool_command = SCAFFOLDS[scaffold]
    proc, job, rec = run_solve(scaffold, tmp_path)
    assert proc.returncode == 0, proc.stderr
    argv, env_names = recorded(rec)
    for flag in flags:
        assert flag in argv, f"{scaffold} CLI did not get {flag}: {argv}"
    assert argv[argv.index("--model") + 1] == MODEL
    if scaffold == "opencode":  # `opencode run` would quote an argument: the prompt goes on stdin
        assert (rec / "stdin").read_text() == PROMPT, "the prompt must arrive verbatim on stdin"
    else:
        # verbatim, as one argument (claude: PostTrainBench's non-interactive note after it)
        assert any(a.startswith(PROMPT.rstrip("\n")) for a in argv[-1:]), "the prompt, verbatim, last"
    assert key in env_names and "PTB_AGENT_LLM" in env_names
    assert FAKE_KEY not in proc.stdout + proc.stderr, "solve.sh must never echo a key"
    assert (job / "final_model" / "config.json").exists()
    # the runner captures stdout+stderr together: the parser must cope with the stderr line
    trace = traces.render(scaffold, proc.stderr + proc.stdout)
    assert assistant_text in trace
    assert tool_command in trace
    assert "a warning on stderr" in trace


@pytest.mark.parametrize("scaffold", sorted(SCAFFOLDS))
def test_solve_fails_clearly_without_cli(scaffold, tmp_path):
    proc, job, _ = run_solve(scaffold, tmp_path, with_cli=False)
    assert proc.returncode == 127
    assert f"'{scaffold}'" in proc.stderr and "not on PATH" in proc.stderr
    assert not (job / "final_model").exists()


@pytest.mark.parametrize(
    "scaffold, effort, check",
    [
        ("codex", "high", lambda argv, env: "model_reasoning_effort=high" in argv),
        ("opencode", "high", lambda argv, env: argv[argv.index("--variant") + 1] == "high"),
        ("claude", "max", lambda argv, env: "CLAUDE_CODE_EFFORT_LEVEL" in env),
    ],
)
def test_effort_reaches_the_cli(scaffold, effort, check, tmp_path):
    proc, _, rec = run_solve(scaffold, tmp_path, effort=effort)
    assert proc.returncode == 0, proc.stderr
    assert check(*recorded(rec))


def test_no_effort_flags_when_unset(tmp_path):
    _, _, rec = run_solve("codex", tmp_path)
    argv, env_names = recorded(rec)
    assert not any("reasoning_effort" in a for a in argv)
    assert "CODEX_API_KEY" in env_names  # the OpenAI key is handed to codex exec


@pytest.mark.parametrize("scaffold", sorted(SCAFFOLDS))
def test_parse_fixture_has_calls_results_and_summary(scaffold):
    events = traces.parse(scaffold, (FIXTURES / f"{scaffold}.jsonl").read_text())
    kinds = [ev["kind"] for ev in events]
    assert "log" not in kinds, "every recorded line is a known event"
    assert {"text", "tool_call", "tool_result", "result"} <= set(kinds)
    calls = [ev for ev in events if ev["kind"] == "tool_call"]
    assert len(calls) == 3 and all(ev["name"] for ev in calls)


@pytest.mark.parametrize("scaffold", sorted(SCAFFOLDS))
def test_parser_survives_plain_text_and_truncated_last_line(scaffold):
    lines = (FIXTURES / f"{scaffold}.jsonl").read_text().splitlines()
    raw = "\n".join(
        ["Loading checkpoint shards: 100%|##########| 2/2", "[1, 2]", *lines[:-1], lines[-1][:25]]
    )
    events = traces.parse(scaffold, raw)
    logs = [ev["text"] for ev in events if ev["kind"] == "log"]
    assert logs[0].startswith("Loading checkpoint") and logs[1] == "[1, 2]" and logs[-1] == lines[-1][:25]
    rendered = traces.render(scaffold, raw)
    assert "Loading checkpoint shards" in rendered and SCAFFOLDS[scaffold][2] in rendered


def test_render_abbreviates_inputs_and_truncates_outputs():
    long_input = {"file_path": "x.py", "content": "a" * 5000}
    raw = "\n".join(
        [
            '{"type":"assistant","message":{"content":[{"type":"tool_use","id":"t1","name":"Write","input":%s}]}}'
            % json.dumps(long_input),
            '{"type":"user","message":{"content":[{"type":"tool_result","tool_use_id":"t1","content":"%s"}]}}'
            % ("line\\n" * 3000 + "FINAL ERROR"),
        ]
    )
    out = traces.render("claude", raw)
    assert "a" * 5000 not in out and "chars]" in out
    assert "chars omitted" in out and "FINAL ERROR" in out  # the tail of an output is kept
    assert len(out) < 5000


def test_fence_survives_backticks_in_output():
    raw = '{"type":"tool_result","tool_id":"t","status":"success","output":"```\\ncode\\n```"}'
    out = traces.render("gemini", raw)
    assert "````\n```\ncode\n```\n````" in out


def test_registry_and_cli(tmp_path):
    assert all(traces.has_parser(name) for name in SCAFFOLDS)
    assert not traces.has_parser("noop") and not traces.has_parser("sft")
    out = tmp_path / "trace.md"
    proc = subprocess.run(
        [sys.executable, "-m", "ptb.agent_runs.traces", "codex", str(FIXTURES / "codex.jsonl"), str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Done: SFT on the training split" in out.read_text()
    bad = subprocess.run(
        [sys.executable, "-m", "ptb.agent_runs.traces", "noop", str(FIXTURES / "codex.jsonl"), str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and "no trace parser" in bad.stderr


# --- parity with PostTrainBench's launch scripts (agents/<name>/solve.sh there) -------------


def test_claude_gets_posttrainbench_timeout_and_non_interactive_note(tmp_path):
    proc, _, rec = run_solve("claude", tmp_path)
    assert proc.returncode == 0, proc.stderr
    argv, env_names = recorded(rec)
    assert "BASH_MAX_TIMEOUT_MS" in env_names
    prompt = argv[-1]
    assert prompt.startswith(PROMPT.rstrip("\n")), "the task prompt first, verbatim"
    assert prompt.endswith(
        "make sure every process you are running finishes before you write your last message."
    )


def test_claude_timeout_is_overridable_by_the_entry(tmp_path):
    fake = FAKE_CLI.replace("compgen -e", 'echo "$BASH_MAX_TIMEOUT_MS" > {rec}/timeout; compgen -e')
    proc, _, rec = run_solve("claude", tmp_path, fake=fake)
    assert (rec / "timeout").read_text().strip() == "36000000"  # PostTrainBench's 10 hours
    shutil.rmtree(tmp_path / "bin"), shutil.rmtree(tmp_path / "job"), shutil.rmtree(rec)
    proc, _, rec = run_solve("claude", tmp_path, fake=fake, extra_env={"BASH_MAX_TIMEOUT_MS": "600000"})
    assert (rec / "timeout").read_text().strip() == "600000"


def test_codex_gets_posttrainbench_flags_and_no_reprompt_by_default(tmp_path):
    proc, _, rec = run_solve("codex", tmp_path)
    assert proc.returncode == 0, proc.stderr
    argv, _ = recorded(rec)
    assert argv[:2] == ["--search", "exec"], "live web search is a top-level flag, before exec"
    assert "model_reasoning_summary=detailed" in argv
    assert "background_terminal_max_timeout=36000000" in argv
    assert "resume" not in argv


# each call records its argv (call.<n>, NUL-separated) and takes 2 s, as a session would
FAKE_CODEX_CALLS = """#!/bin/bash
printf '%s\\0' "$@" > {rec}/call.$(ls {rec} | wc -l)
sleep 2
"""


@pytest.mark.parametrize("minutes_left, calls", [(29, 1), (30, 2)])
def test_codex_reprompt_resumes_while_30_minutes_remain(tmp_path, minutes_left, calls):
    """PostTrainBench's *_reprompt loop: resume the last session while 30 minutes or more
    remain. With 30 min 3 s left, one resume (2 s per call: then 29 min 59 s); with 29, none."""
    deadline = int(__import__("time").time()) + minutes_left * 60 + 3
    proc, _, rec = run_solve(
        "codex",
        tmp_path,
        fake=FAKE_CODEX_CALLS,
        extra_env={"PTB_DEADLINE": str(deadline), "PTB_AGENT_OPTIONS": json.dumps({"reprompt": True})},
    )
    assert proc.returncode == 0, proc.stderr
    made = [(rec / f"call.{n}").read_text().split("\0")[:-1] for n in range(len(list(rec.iterdir())))]
    assert len(made) == calls, made
    if calls == 2:
        resume = made[1]
        assert resume[:4] == ["--search", "exec", "resume", "--last"]
        assert resume[-1].startswith("You still have 0h 30m remaining.")
        assert "model_reasoning_summary=detailed" in resume


def test_gemini_runs_without_its_own_sandbox(tmp_path):
    fake = FAKE_CLI.replace("compgen -e", 'echo "$GEMINI_SANDBOX" > {rec}/sandbox; compgen -e')
    proc, _, rec = run_solve("gemini", tmp_path, fake=fake)
    assert proc.returncode == 0 and (rec / "sandbox").read_text().strip() == "false"


@pytest.mark.parametrize(
    "llm, keys, expected",
    [
        ("anthropic/claude-sonnet-4-6", {"ANTHROPIC_API_KEY": FAKE_KEY}, "{env:ANTHROPIC_API_KEY}"),
        ("zai/glm-5", {"ZAI_API_KEY": FAKE_KEY}, "{env:ZAI_API_KEY}"),
        ("mygateway/some-model", {"GATEWAY_API_KEY": FAKE_KEY}, "{env:GATEWAY_API_KEY}"),
    ],
)
def test_opencode_custom_provider_names_its_key(tmp_path, llm, keys, expected):
    """A provider the AI SDK does not know sends no key unless the config names one."""
    fake = FAKE_CLI.replace("compgen -e", 'printf %s "$OPENCODE_CONFIG_CONTENT" > {rec}/config; compgen -e')
    env = {"PTB_AGENT_LLM": llm, "ANTHROPIC_API_KEY": "", **keys}  # empty: not given
    proc, _, rec = run_solve("opencode", tmp_path, fake=fake, extra_env=env)
    assert proc.returncode == 0, proc.stderr
    config = json.loads((rec / "config").read_text())
    provider = llm.split("/")[0]
    assert config["provider"][provider]["options"]["apiKey"] == expected
    assert FAKE_KEY not in (rec / "config").read_text(), "the key is referenced, never copied"
