"""Trace parser of the {{name}} scaffold: one raw JSON event -> normalized events.

Scaffolded by `new-agent {{name}}`. The runner renders agents/<scaffold>/trace.py parsers
through ptb.agent_runs.traces (normalized event kinds in its docstring: text, thinking, tool_call,
tool_result, result, error, system, user). Adapt the event types below to what the CLI
prints with its JSON output flag; lines that are not JSON objects are kept as plain log.
"""

from __future__ import annotations

SCAFFOLD = "{{name}}"


def parse_event(ev: dict, state: dict) -> list[dict]:
    """One JSON object from the CLI's stdout -> zero or more normalized events."""
    kind = ev.get("type")
    if kind == "init":  # TODO the CLI's session-start event
        return [{"kind": "system", "text": f"session {ev.get('session_id', '?')}, model {ev.get('model', '?')}"}]
    if kind == "text":
        return [{"kind": "text", "text": ev.get("text", "")}]
    if kind == "thinking":
        return [{"kind": "thinking", "text": ev.get("text", "")}]
    if kind == "tool_call":
        return [{"kind": "tool_call", "name": ev.get("name"), "input": ev.get("input"), "id": ev.get("id")}]
    if kind == "tool_result":
        return [{"kind": "tool_result", "id": ev.get("id"), "output": ev.get("output", ""),
                 "error": bool(ev.get("error"))}]
    if kind == "error":
        return [{"kind": "error", "text": ev.get("message", "")}]
    if kind == "result":
        return [{"kind": "result", "status": ev.get("status"), "text": ev.get("text"),
                 "usage": ev.get("usage"), "cost_usd": ev.get("cost_usd")}]
    return []  # events not needed for reading the trace


def end(state: dict) -> list[dict]:
    """Events to add after the last line (e.g. totals summed over the stream); optional."""
    return []


def register() -> None:
    """Add this parser to ptb.agent_runs.traces (what its per-scaffold loader does for agents/*/trace.py)."""
    from ptb.agent_runs import traces  # noqa: PLC0415 (the runner imports this file: no cycle)

    traces.PARSERS[SCAFFOLD] = parse_event
    traces._END[SCAFFOLD] = end
