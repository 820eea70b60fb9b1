"""ptb.agent_runs.traces, event by event: the rarer events of each CLI's stream (errors, thinking, plans,
tool failures) and events of a shape no parser expects, which are kept raw rather than lost."""

from __future__ import annotations

import json

import pytest

from ptb.agent_runs import traces

CASES = [
    # Claude Code stream-json
    (
        "claude",
        {"type": "system", "subtype": "compact_boundary"},
        [{"kind": "system", "text": "compact_boundary"}],
    ),
    (
        "claude",
        {"type": "assistant", "message": {"content": [{"type": "thinking", "thinking": "plan the SFT"}]}},
        [{"kind": "thinking", "text": "plan the SFT"}],
    ),
    ("claude", {"type": "user", "message": {"content": "continue"}}, [{"kind": "user", "text": "continue"}]),
    (
        "claude",
        {
            "type": "user",
            "message": {
                "content": [
                    {"type": "text", "text": "note"},
                    {
                        "type": "tool_result",
                        "tool_use_id": "t1",
                        "is_error": True,
                        "content": [{"type": "text", "text": "No such file"}, {"type": "image"}],
                    },
                ]
            },
        },
        [
            {"kind": "user", "text": "note"},
            {"kind": "tool_result", "id": "t1", "output": "No such file\n[image]", "error": True},
        ],
    ),
    (
        "claude",
        {
            "type": "result",
            "subtype": "success",
            "is_error": True,
            "result": "API Error: 401",
            "num_turns": 1,
        },
        [
            {
                "kind": "result",
                "status": "error",
                "error": True,
                "text": "API Error: 401",
                "cost_usd": None,
                "usage": None,
                "stats": {"num_turns": 1, "is_error": True},
            }
        ],
    ),
    ("claude", {"type": "stream_event", "event": {"delta": "x"}}, []),
    # Codex exec --json
    (
        "codex",
        {"type": "turn.failed", "error": {"message": "quota exceeded"}},
        [{"kind": "error", "text": "quota exceeded"}],
    ),
    ("codex", {"type": "turn.failed"}, [{"kind": "error", "text": "turn failed"}]),
    ("codex", {"type": "error", "message": "stream closed"}, [{"kind": "error", "text": "stream closed"}]),
    ("codex", {"type": "turn.started"}, []),
    (
        "codex",
        {"type": "item.completed", "item": {"id": "i1", "type": "reasoning", "text": "think"}},
        [{"kind": "thinking", "text": "think"}],
    ),
    (
        "codex",
        {"type": "item.completed", "item": {"id": "i2", "type": "error", "message": "sandbox denied"}},
        [{"kind": "error", "text": "sandbox denied"}],
    ),
    (
        "codex",
        {
            "type": "item.completed",
            "item": {
                "id": "i3",
                "type": "todo_list",
                "items": [{"text": "train", "completed": True}, {"text": "evaluate", "completed": False}],
            },
        },
        [{"kind": "system", "text": "plan: [x] train; [ ] evaluate"}],
    ),
    ("codex", {"type": "item.updated", "item": {"id": "i3", "type": "todo_list"}}, []),
    ("codex", {"type": "item.completed", "item": {"id": "i9", "type": "unknown_kind"}}, []),
    (
        "codex",
        {
            "type": "item.completed",
            "item": {
                "id": "i4",
                "type": "mcp_tool_call",
                "server": "fs",
                "tool": "read",
                "arguments": {"path": "x"},
                "error": {"message": "denied"},
            },
        },
        [
            {"kind": "tool_call", "name": "fs.read", "input": {"path": "x"}, "id": "i4"},
            {"kind": "tool_result", "id": "i4", "output": "denied", "error": True},
        ],
    ),
    (
        "codex",
        {
            "type": "item.completed",
            "item": {
                "id": "i5",
                "type": "mcp_tool_call",
                "server": "fs",
                "tool": "ls",
                "arguments": {},
                "result": {"content": [{"type": "text", "text": "a.txt"}]},
            },
        },
        [
            {"kind": "tool_call", "name": "fs.ls", "input": {}, "id": "i5"},
            {"kind": "tool_result", "id": "i5", "output": "a.txt", "error": False},
        ],
    ),
    (
        "codex",
        {
            "type": "item.completed",
            "item": {"id": "i6", "type": "web_search", "query": "gsm8k", "status": "failed"},
        },
        [
            {"kind": "tool_call", "name": "web_search", "input": "gsm8k", "id": "i6"},
            {"kind": "tool_result", "id": "i6", "output": "failed", "error": True},
        ],
    ),
    # Gemini CLI stream-json
    ("gemini", {"type": "message", "role": "user", "content": "go"}, [{"kind": "user", "text": "go"}]),
    (
        "gemini",
        {"type": "tool_result", "tool_id": "g1", "status": "error", "error": {"message": "timed out"}},
        [{"kind": "tool_result", "id": "g1", "output": "timed out", "error": True}],
    ),
    (
        "gemini",
        {"type": "error", "severity": "warning", "message": "loop detected"},
        [{"kind": "error", "text": "warning: loop detected"}],
    ),
    ("gemini", {"type": "unknown"}, []),
    # OpenCode run --format json
    ("opencode", {"type": "reasoning", "part": {"text": "hmm"}}, [{"kind": "thinking", "text": "hmm"}]),
    (
        "opencode",
        {
            "type": "tool_use",
            "part": {"tool": "bash", "callID": "c1", "state": {"status": "error", "error": "exit 1"}},
        },
        [
            {"kind": "tool_call", "name": "bash", "input": None, "id": "c1"},
            {"kind": "tool_result", "id": "c1", "error": True, "output": "exit 1"},
        ],
    ),
    (
        "opencode",
        {"type": "error", "error": {"name": "ProviderAuthError", "data": {"message": "no key"}}},
        [{"kind": "error", "text": "ProviderAuthError: no key"}],
    ),
    ("opencode", {"type": "step_start", "part": {}}, []),
]


@pytest.mark.parametrize("scaffold, event, expected", CASES)
def test_event(scaffold, event, expected):
    assert traces.parse(scaffold, json.dumps(event)) == expected


ODD = {  # a field of the wrong type: a string or list where the CLI sends an object
    "claude": {"type": "assistant", "message": {"content": ["not a block"]}},
    "codex": {"type": "item.completed", "item": ["not an item"]},
    "gemini": {"type": "tool_result", "status": "error", "error": "not an object"},
    "opencode": {"type": "tool_use", "part": {"tool": "bash", "state": "not an object"}},
}


@pytest.mark.parametrize("scaffold", sorted(ODD))
def test_an_event_of_an_unexpected_shape_is_kept_raw(scaffold):
    """The odd event stays in the trace as raw JSON, and the events after it still parse."""
    after = {
        "claude": {"type": "user", "message": {"content": "next"}},
        "codex": {"type": "error", "message": "next"},
        "gemini": {"type": "message", "role": "user", "content": "next"},
        "opencode": {"type": "text", "part": {"text": "next"}},
    }[scaffold]
    events = traces.parse(scaffold, json.dumps(ODD[scaffold]) + "\n" + json.dumps(after))
    assert events[0] == {"kind": "log", "text": json.dumps(ODD[scaffold])}
    assert len(events) == 2 and events[1]["text"].endswith("next")


def test_opencode_sums_its_steps_into_one_result():
    steps = [
        {
            "type": "step_finish",
            "part": {"cost": 0.25, "reason": "tool-calls", "tokens": {"input": 10, "output": 2}},
        },
        {
            "type": "step_finish",
            "part": {"cost": 0.5, "reason": "stop", "tokens": {"input": 5, "cache": {"read": 7, "write": 1}}},
        },
    ]
    [result] = traces.parse("opencode", "\n".join(json.dumps(s) for s in steps))
    assert result == {
        "kind": "result",
        "status": "stop",
        "cost_usd": 0.75,
        "usage": {"steps": 2, "input": 15, "output": 2, "reasoning": 0, "cache_read": 7, "cache_write": 1},
    }


def test_a_scaffold_ships_its_own_parser(tmp_path, monkeypatch):
    """agents/<scaffold>/trace.py (new-agent's skeleton): parse_event and an optional end()."""
    folder = tmp_path / "mycli"
    folder.mkdir()
    (folder / "trace.py").write_text(
        "def parse_event(ev, state):\n"
        "    state['n'] = state.get('n', 0) + 1\n"
        "    return [{'kind': 'text', 'text': ev['say']}]\n"
        "def end(state):\n"
        "    return [{'kind': 'result', 'status': f\"{state['n']} events\"}]\n"
    )
    monkeypatch.setattr(traces, "AGENTS_DIR", tmp_path)
    monkeypatch.setattr(traces, "PARSERS", dict(traces.PARSERS))  # the loaded parser goes with the test
    monkeypatch.setattr(traces, "_END", dict(traces._END))
    assert traces.has_parser("mycli")
    events = traces.parse("mycli", '{"say": "hi"}\nplain stderr line\n{"say": "bye"}')
    assert events == [
        {"kind": "text", "text": "hi"},
        {"kind": "log", "text": "plain stderr line"},
        {"kind": "text", "text": "bye"},
        {"kind": "result", "status": "2 events"},
    ]
    assert not traces.has_parser("nothing-here")


def test_the_cli_explains_its_usage(capsys):
    assert traces.main(["claude"]) == 2
    assert "usage: python -m ptb.agent_runs.traces" in capsys.readouterr().err


# --- retries, sessions that end in an error, exit codes, times, the model served ------------

CLAUDE_RETRY = {
    "type": "system",
    "subtype": "api_retry",
    "attempt": 3,
    "max_retries": 10,
    "retry_delay_ms": 2400,
    "error_status": 429,
    "error": "rate_limit",
}


def test_claude_retry_events_are_parsed_rendered_and_name_the_last_error():
    raw = json.dumps(CLAUDE_RETRY)
    [event] = traces.parse("claude", raw)
    assert event == {
        "kind": "retry",
        "attempt": 3,
        "max_retries": 10,
        "delay_ms": 2400,
        "status": 429,
        "text": "rate_limit",
    }
    assert "*API retry 3/10: HTTP 429 rate_limit, next in 2.4 s*" in traces.render("claude", raw)
    # a run killed at the budget while retrying says why in its reason
    assert traces.last_error("claude", raw) == "API retry 3/10: HTTP 429 rate_limit, next in 2.4 s"


def test_codex_reconnect_messages_are_retries_not_errors():
    raw = json.dumps(
        {"type": "error", "message": "Reconnecting... 2/5 (stream disconnected before completion)"}
    )
    [event] = traces.parse("codex", raw)
    assert event["kind"] == "retry" and event["attempt"] == 2 and event["max_retries"] == 5
    assert "stream disconnected" in event["text"]


GEMINI_STREAM_ERROR = [
    {"type": "init", "session_id": "s", "model": "gemini-2.5-pro"},
    {"type": "message", "role": "assistant", "content": "Let me look.", "delta": True},
    {"type": "error", "severity": "error", "message": "Model stream ended with an invalid chunk"},
    {"type": "result", "status": "error", "error": {"message": "Model stream ended with an invalid chunk"}},
]


@pytest.mark.parametrize(
    "scaffold, lines, expected",
    [
        ("gemini", GEMINI_STREAM_ERROR, "Model stream ended with an invalid chunk"),
        ("gemini", GEMINI_STREAM_ERROR[:3] + GEMINI_STREAM_ERROR[1:2], None),  # work went on after it
        ("claude", [CLAUDE_RETRY, {"type": "result", "subtype": "success", "is_error": False}], None),
        (
            "claude",
            [
                CLAUDE_RETRY,
                {"type": "result", "subtype": "success", "is_error": True, "result": "API Error: 429"},
            ],
            "API Error: 429",
        ),
        (
            "opencode",
            [{"type": "error", "error": {"name": "APIError", "data": {"message": "overloaded"}}}],
            "APIError: overloaded",
        ),
    ],
)
def test_a_session_that_ends_in_an_error_is_told_apart(scaffold, lines, expected):
    raw = "\n".join(json.dumps(line) for line in lines)
    assert traces.ended_in_error(scaffold, raw) == expected


def test_exit_codes_have_their_clis_meaning():
    assert traces.exit_meaning("gemini", 41) == "authentication error"
    assert traces.exit_meaning("gemini", 144) == "API request failed (seen on an HTTP 400)"
    assert traces.exit_meaning("claude", 143) == "killed by SIGTERM"
    assert traces.exit_meaning("codex", 1) is None and traces.exit_meaning("codex", None) is None


def test_the_line_clock_stamps_each_event_with_when_its_line_was_written(tmp_path):
    lines = [
        json.dumps({"type": "thread.started", "thread_id": "t"}),
        "plain stderr line",
        '{"type": "turn.completed"}',
    ]
    raw = "\n".join(lines) + "\n"
    first = len(lines[0]) + 1
    # the runner saw the log at the first line's end at t=100, and whole at t=160
    clock = tmp_path / "agent.log.times"
    clock.write_text(f"{first} 100.0\n{len(raw.encode())} 160.0\n12")  # a last row cut by a kill
    times = traces.read_times(clock)
    assert times == [(first, 100.0), (len(raw.encode()), 160.0)]
    events = traces.parse("codex", raw, times)
    assert [ev.get("time") for ev in events] == [100.0, 160.0, 160.0]
    rendered = traces.render("codex", raw, times=times)
    assert "*started 1970-01-01 00:01:40 UTC*" in rendered
    assert "`00:01:40` *thread t*" in rendered and "## `00:02:40` Result" in rendered
    assert traces.read_times(tmp_path / "absent") == [] and "started" not in traces.render("codex", raw)


def test_the_header_shows_the_model_served_and_names_a_mismatch():
    api = {
        "model_configured": "gemini-3-pro-preview",
        "models_served": {"gemini-3.1-pro-preview": 7},
        "served_other_model": ["gemini-3.1-pro-preview"],
    }
    header = traces.render("gemini", "", api=api).split("\n\n")[1]
    assert "model configured: `gemini-3-pro-preview`" in header
    assert "served: gemini-3.1-pro-preview (7 replies)" in header and "not the configured model" in header
    same = {"model_configured": "m", "models_served": {"m": 2}, "served_other_model": []}
    assert "not the configured" not in traces.render("gemini", "", api=same)


def test_the_outcome_names_a_cli_error_that_exited_0_a_provider_error_and_the_exit_codes_meaning():
    from ptb.agent_runs.agent_run import classify  # noqa: PLC0415
    from ptb.core import outcomes  # noqa: PLC0415

    done = {"exit_code": 0, "timed_out": False, "stopped": None, "wall_seconds": 12.0}
    assert classify(done, True) == (outcomes.OK, "final_model collected")
    outcome, reason = classify(done, True, ended_in_error="Model stream ended with an invalid chunk")
    assert outcome == outcomes.AGENT_ERROR and "exited 0 but" in reason and "invalid chunk" in reason
    failed = dict(done, exit_code=144)
    assert classify(failed, False, exit_meaning="API request failed (seen on an HTTP 400)")[1] == (
        "solve.sh exited with code 144 (API request failed (seen on an HTTP 400))"
    )
    looped = dict(
        done, timed_out=False, stopped=["provider_error", "provider failure: the same error 20 times"]
    )
    outcome, reason = classify(looped, False, "prompt is too long")
    assert outcome == outcomes.AGENT_ERROR and reason.startswith("provider failure: the same error 20 times")
    assert "killed at the budget" not in reason
