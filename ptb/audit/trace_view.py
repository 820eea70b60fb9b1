"""The agent's trace on a cell page: the CLI's event stream (ptb.agent_runs.traces parses each scaffold's)
as a list of collapsible events, and the run's cost and tokens from its result events.

A scaffold without a trace parser (the offline agents) shows its raw log. Everything is
untrusted text: escaped by ptb.audit.html, never a link.
"""

from __future__ import annotations

import json
from pathlib import Path

from markupsafe import Markup

from ptb.agent_runs import traces
from ptb.audit.html import clipped, details, esc, event, join, para, pre

MAX_EVENTS = 3000  # beyond this the page would outgrow a browser tab; the raw log is linked
OUTPUT_CHARS = 6000


def _usage_tokens(usage) -> int | None:
    if not isinstance(usage, dict):
        return None
    keys = ("input_tokens", "output_tokens", "input", "output", "reasoning", "cache_read_input_tokens")
    found = [usage[k] for k in keys if isinstance(usage.get(k), int | float)]
    return int(sum(found)) if found else None


def totals(events: list[dict]) -> dict:
    """cost_usd and tokens summed over the result events (None where no event says)."""
    results = [e for e in events if e.get("kind") == "result"]
    costs = [e["cost_usd"] for e in results if isinstance(e.get("cost_usd"), int | float)]
    tokens = [t for e in results if (t := _usage_tokens(e.get("usage"))) is not None]
    return {
        "cost_usd": round(sum(costs), 6) if costs else None,
        "tokens": sum(tokens) if tokens else None,
        "tool_calls": sum(1 for e in events if e.get("kind") == "tool_call"),
    }


def _input_text(value) -> str:
    if isinstance(value, dict) and isinstance(value.get("command"), str):
        return value["command"]
    return value if isinstance(value, str) else json.dumps(value, indent=1, ensure_ascii=False)


def _event(ev: dict, names: dict) -> Markup:
    kind = ev.get("kind")
    if kind == "tool_call":
        names[ev.get("id")] = ev.get("name")
        text = _input_text(ev.get("input"))
        first = text.strip().splitlines()[0][:120] if text.strip() else ""
        return details(
            f"tool call {ev.get('name')}: {first}", clipped(text, OUTPUT_CHARS), cls="event tool_call"
        )
    if kind == "tool_result":
        label = "tool error" if ev.get("error") else "tool result"
        name = names.get(ev.get("id"))
        output = str(ev.get("output") or "(no output)")
        summary = f"{label}{f' ({name})' if name else ''}: {len(output):,} chars"
        return details(
            summary,
            clipped(output, OUTPUT_CHARS),
            cls="event " + ("error" if ev.get("error") else "tool_result"),
        )
    if kind == "result":
        facts = {k: ev.get(k) for k in ("status", "cost_usd", "usage", "stats") if ev.get(k) is not None}
        body = pre(json.dumps(facts, indent=1, sort_keys=True, default=str)) + (
            clipped(ev["text"]) if ev.get("text") else ""
        )
        return details(f"result: {ev.get('status') or 'done'}", body, open_=True, cls="event")
    text = str(ev.get("text") or "")
    if kind in ("text", "thinking", "user") and not text.strip():
        return esc("")
    label = {
        "text": "assistant",
        "thinking": "thinking",
        "user": "user",
        "system": "system",
        "error": "error",
        "log": "log",
    }.get(kind, str(kind))
    cls = "event " + ("error" if kind == "error" else "text" if kind == "text" else "")
    if kind == "log":
        return details(f"log: {len(text.splitlines())} line(s)", clipped(text, OUTPUT_CHARS), cls=cls)
    return event(label, clipped(text, OUTPUT_CHARS), cls)


def render(scaffold: str, raw_log: Path) -> tuple[Markup, dict]:
    """(HTML of the trace, totals); a missing log renders as a note."""
    if not raw_log.is_file():
        return para("no agent.log", "missing"), totals([])
    raw = raw_log.read_text(errors="replace")
    if not traces.has_parser(scaffold):
        return (
            para(f"scaffold {scaffold} writes no event stream; its raw log:", "muted") + clipped(raw, 20000),
            totals([]),
        )
    events = traces.events(scaffold, raw)
    names: dict = {}
    shown = join(_event(ev, names) for ev in events[:MAX_EVENTS])
    if len(events) > MAX_EVENTS:
        shown += para(f"[{len(events) - MAX_EVENTS:,} more events: see the raw log]", "muted")
    return shown, totals(events)
