"""Readable traces from the raw logs of the CLI scaffolds.

Each CLI writes its own JSON event stream (one object per line) to stdout; the raw
log also holds stderr, so any line may be plain text, and a run killed at the budget
may end in a truncated line. `parse` turns a raw log into a list of normalized
events, one small function per scaffold; `render` turns those into markdown.

Normalized events (dicts, key "kind"):
  log          {"text"}                        a line that is not a JSON object
  system       {"text"}                        session start, notices
  user         {"text"}                        the prompt as echoed by the CLI
  text         {"text", "delta"?}              assistant text
  thinking     {"text"}                        reasoning summaries
  tool_call    {"name", "input", "id"?}
  tool_result  {"output", "id"?, "error"?}
  result       {"status"?, "text"?, "usage"?, "cost_usd"?, "stats"?, "error"?}
  error        {"text"}
  retry        {"attempt", "max_retries"?, "delay_ms"?, "status"?, "text"}   the CLI retrying an API call

Every event also carries "time" (Unix seconds) when the runner's line clock (agent.log.times,
ptb.agent_runs.monitor) says when its line was written.

Usage: python -m ptb.agent_runs.traces <scaffold> <raw_file> <out_md>
"""

from __future__ import annotations

import bisect
import importlib.util
import json
import re
import sys
import time
from pathlib import Path

from ptb.core import io
from ptb.core.paths import REPO_ROOT

INPUT_CHARS = 400  # a tool call's input, abbreviated
OUTPUT_HEAD, OUTPUT_TAIL = 1200, 600  # a tool result keeps its head and tail (errors sit at the end)
LOG_HEAD, LOG_TAIL = 800, 800  # a run of plain-text lines (stderr, progress bars)


def _lines(raw_text: str) -> list[tuple[dict | str, int]]:
    """(line, byte offset of its end) for each non-empty line: JSON objects as dicts, everything
    else (stderr, a truncated last line) as str."""
    out: list[tuple[dict | str, int]] = []
    offset = 0
    for line in raw_text.splitlines(keepends=True):
        offset += len(line.encode("utf-8", errors="replace"))
        if not line.strip():
            continue
        line = line.rstrip("\r\n")
        try:
            value = json.loads(line)
        except ValueError:
            value = None
        out.append((value if isinstance(value, dict) else line, offset))
    return out


def read_times(path: str | Path) -> list[tuple[int, float]]:
    """The runner's line clock (ptb.agent_runs.monitor.LineClock): (size of the log, Unix time
    at which it had reached that size), in order; [] when there is none."""
    out = []
    try:
        text = Path(path).read_text()
    except OSError:
        return out
    for row in text.splitlines():
        size, _, when = row.partition(" ")
        try:
            out.append((int(size), float(when)))
        except ValueError:
            continue  # a last row cut by a kill
    return out


def _time_of(end: int, times: list[tuple[int, float]], sizes: list[int]) -> float | None:
    """When a line ending at byte `end` had been written: the first sample that covers it."""
    index = bisect.bisect_left(sizes, end)
    return times[index][1] if index < len(times) else None


def _content_text(content) -> str:
    """Claude/MCP content: a string or a list of blocks (text, image, ...)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            b.get("text", f"[{b.get('type', '?')}]") if isinstance(b, dict) else str(b) for b in content
        )
    return "" if content is None else json.dumps(content)


# --- one function per scaffold: a raw JSON event -> normalized events ---------------


def _claude(ev: dict, state: dict) -> list[dict]:
    kind, msg = ev.get("type"), ev.get("message") or {}
    if kind == "system":
        if ev.get("subtype") == "init":
            return [
                {
                    "kind": "system",
                    "text": f"session {ev.get('session_id', '?')}, model {ev.get('model', '?')}, "
                    f"{len(ev.get('tools') or [])} tools, cwd {ev.get('cwd', '?')}",
                }
            ]
        if ev.get("subtype") == "api_retry":  # Claude Code retrying a failed API call
            return [
                {
                    "kind": "retry",
                    "attempt": ev.get("attempt"),
                    "max_retries": ev.get("max_retries"),
                    "delay_ms": ev.get("retry_delay_ms"),
                    "status": ev.get("error_status"),
                    "text": str(ev.get("error") or ""),
                }
            ]
        return [{"kind": "system", "text": f"{ev.get('subtype', 'system')}"}]
    if kind == "assistant":
        out = []
        for block in msg.get("content") or []:
            btype = block.get("type")
            if btype == "text":
                out.append({"kind": "text", "text": block.get("text", "")})
            elif btype == "thinking":
                out.append({"kind": "thinking", "text": block.get("thinking", "")})
            elif btype == "tool_use":
                out.append(
                    {
                        "kind": "tool_call",
                        "name": block.get("name"),
                        "input": block.get("input"),
                        "id": block.get("id"),
                    }
                )
        return out
    if kind == "user":
        content = msg.get("content")
        if isinstance(content, str):
            return [{"kind": "user", "text": content}]
        out = []
        for block in content or []:
            if block.get("type") == "tool_result":
                out.append(
                    {
                        "kind": "tool_result",
                        "id": block.get("tool_use_id"),
                        "output": _content_text(block.get("content")),
                        "error": bool(block.get("is_error")),
                    }
                )
            elif block.get("type") == "text":
                out.append({"kind": "user", "text": block.get("text", "")})
        return out
    if kind == "result":
        # a failed API call ends with subtype "success" and is_error true (Claude Code 2.1)
        return [
            {
                "kind": "result",
                "status": "error" if ev.get("is_error") else ev.get("subtype"),
                "error": bool(ev.get("is_error")),
                "text": ev.get("result"),
                "cost_usd": ev.get("total_cost_usd"),
                "usage": ev.get("usage"),
                "stats": {k: ev[k] for k in ("num_turns", "duration_ms", "is_error") if k in ev},
            }
        ]
    return []  # stream_event partials and future types: not needed for reading


CODEX_RETRY = re.compile(r"^Re-?connecting\.*\s*(\d+)/(\d+)\s*(.*)$", re.S)


def _codex(ev: dict, state: dict) -> list[dict]:
    kind, item = ev.get("type"), ev.get("item") or {}
    if kind == "thread.started":
        return [{"kind": "system", "text": f"thread {ev.get('thread_id', '?')}"}]
    if kind == "turn.completed":
        return [{"kind": "result", "status": "turn completed", "usage": ev.get("usage")}]
    if kind == "turn.failed":
        return [{"kind": "error", "text": (ev.get("error") or {}).get("message", "turn failed")}]
    if kind == "error":
        retry = CODEX_RETRY.match(ev.get("message", ""))
        if retry:  # "Reconnecting... 2/5 (stream disconnected ...)": Codex retrying
            attempt, most, text = retry.groups()
            return [{"kind": "retry", "attempt": int(attempt), "max_retries": int(most), "text": text or ""}]
        return [{"kind": "error", "text": ev.get("message", "")}]
    if not kind or not kind.startswith("item."):
        return []
    itype, iid = item.get("type"), item.get("id")
    started = state.setdefault("started", set())
    call = {
        "command_execution": lambda: ("shell", item.get("command")),
        "mcp_tool_call": lambda: (f"{item.get('server')}.{item.get('tool')}", item.get("arguments")),
        "web_search": lambda: ("web_search", item.get("query")),
        "file_change": lambda: (
            "file_change",
            [f"{c.get('kind')} {c.get('path')}" for c in item.get("changes") or []],
        ),
    }.get(itype)
    if call and kind == "item.started":
        started.add(iid)
        name, args = call()
        return [{"kind": "tool_call", "name": name, "input": args, "id": iid}]
    if kind != "item.completed":
        return []  # item.updated: todo lists in progress
    if itype == "agent_message":
        return [{"kind": "text", "text": item.get("text", "")}]
    if itype == "reasoning":
        return [{"kind": "thinking", "text": item.get("text", "")}]
    if itype == "error":
        return [{"kind": "error", "text": item.get("message", "")}]
    if itype == "todo_list":
        return [
            {
                "kind": "system",
                "text": "plan: "
                + "; ".join(
                    ("[x] " if t.get("completed") else "[ ] ") + t.get("text", "")
                    for t in item.get("items") or []
                ),
            }
        ]
    if not call:
        return []
    out = []
    if iid not in started:  # file_change and web_search only ever arrive completed
        name, args = call()
        out.append({"kind": "tool_call", "name": name, "input": args, "id": iid})
    if itype == "command_execution":
        output = item.get("aggregated_output", "")
        out.append(
            {
                "kind": "tool_result",
                "id": iid,
                "output": f"{output.rstrip()}\n[exit code {item.get('exit_code')}]",
                "error": item.get("status") == "failed",
            }
        )
    elif itype == "mcp_tool_call":
        err = item.get("error") or {}
        output = err.get("message") or _content_text((item.get("result") or {}).get("content"))
        out.append({"kind": "tool_result", "id": iid, "output": output, "error": bool(err)})
    elif item.get("status") == "failed":
        out.append({"kind": "tool_result", "id": iid, "output": "failed", "error": True})
    return out


def _gemini(ev: dict, state: dict) -> list[dict]:
    kind = ev.get("type")
    if kind == "init":
        return [
            {"kind": "system", "text": f"session {ev.get('session_id', '?')}, model {ev.get('model', '?')}"}
        ]
    if kind == "message":
        if ev.get("role") == "assistant":
            return [{"kind": "text", "text": ev.get("content", ""), "delta": bool(ev.get("delta"))}]
        return [{"kind": "user", "text": ev.get("content", "")}]
    if kind == "tool_use":
        return [
            {
                "kind": "tool_call",
                "name": ev.get("tool_name"),
                "input": ev.get("parameters"),
                "id": ev.get("tool_id"),
            }
        ]
    if kind == "tool_result":
        failed = ev.get("status") == "error"
        output = (ev.get("error") or {}).get("message", "") if failed else ev.get("output", "")
        return [{"kind": "tool_result", "id": ev.get("tool_id"), "output": output or "", "error": failed}]
    if kind == "error":
        return [{"kind": "error", "text": f"{ev.get('severity', 'error')}: {ev.get('message', '')}"}]
    if kind == "result":
        err = (ev.get("error") or {}).get("message")
        return [
            {
                "kind": "result",
                "status": ev.get("status"),
                "text": err,
                "error": ev.get("status") == "error",
                "stats": ev.get("stats"),
            }
        ]
    return []


def _opencode(ev: dict, state: dict) -> list[dict]:
    kind, part = ev.get("type"), ev.get("part") or {}
    if kind == "text":
        return [{"kind": "text", "text": part.get("text", "")}]
    if kind == "reasoning":
        return [{"kind": "thinking", "text": part.get("text", "")}]
    if kind == "tool_use":
        st = part.get("state") or {}
        failed = st.get("status") == "error"
        return [
            {
                "kind": "tool_call",
                "name": part.get("tool"),
                "input": st.get("input"),
                "id": part.get("callID"),
            },
            {
                "kind": "tool_result",
                "id": part.get("callID"),
                "error": failed,
                "output": str(st.get("error") if failed else st.get("output", "")),
            },
        ]
    if kind == "step_finish":
        # one per model step: sum them into a single result at the end (see parse)
        totals = state.setdefault(
            "totals",
            {
                "steps": 0,
                "cost_usd": 0.0,
                "input": 0,
                "output": 0,
                "reasoning": 0,
                "cache_read": 0,
                "cache_write": 0,
            },
        )
        tokens = part.get("tokens") or {}
        cache = tokens.get("cache") or {}
        totals["steps"] += 1
        totals["cost_usd"] += part.get("cost") or 0
        for key in ("input", "output", "reasoning"):
            totals[key] += tokens.get(key) or 0
        totals["cache_read"] += cache.get("read") or 0
        totals["cache_write"] += cache.get("write") or 0
        totals["last_reason"] = part.get("reason")
        return []
    if kind == "error":
        err = ev.get("error") or {}
        return [
            {
                "kind": "error",
                "text": f"{err.get('name', 'error')}: {(err.get('data') or {}).get('message', '')}",
            }
        ]
    return []  # step_start


def _opencode_end(state: dict) -> list[dict]:
    totals = state.get("totals")
    if not totals:
        return []
    totals = dict(totals)
    return [
        {
            "kind": "result",
            "status": totals.pop("last_reason", None),
            "cost_usd": round(totals.pop("cost_usd"), 6),
            "usage": totals,
        }
    ]


PARSERS = {"claude": _claude, "codex": _codex, "gemini": _gemini, "opencode": _opencode}
_END = {"opencode": _opencode_end}  # scaffolds whose summary needs the whole stream


AGENTS_DIR = REPO_ROOT / "agents"


def _load_scaffold_parser(scaffold: str) -> None:
    """A scaffold may ship its own parser as agents/<scaffold>/trace.py (see `new-agent`)."""
    path = AGENTS_DIR / scaffold / "trace.py"
    if scaffold in PARSERS or not path.is_file():
        return
    spec = importlib.util.spec_from_file_location(f"ptb_trace_{scaffold}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    PARSERS[scaffold] = module.parse_event
    _END[scaffold] = getattr(module, "end", lambda state: [])


def has_parser(scaffold: str) -> bool:
    _load_scaffold_parser(scaffold)
    return scaffold in PARSERS


def parse(scaffold: str, raw_text: str, times: list[tuple[int, float]] | None = None) -> list[dict]:
    """The raw log as normalized events (see the module docstring); with the runner's line clock
    (`read_times`), each event carries the time its line was written."""
    _load_scaffold_parser(scaffold)
    parser, state, events = PARSERS[scaffold], {}, []
    times = times or []
    sizes = [size for size, _ in times]
    for line, end in _lines(raw_text):
        if isinstance(line, str):
            new = [{"kind": "log", "text": line}]
        else:
            try:
                new = parser(line, state)
            except (AttributeError, TypeError, ValueError):  # an event of an unexpected shape: keep it raw
                new = [{"kind": "log", "text": json.dumps(line)[:INPUT_CHARS]}]
        when = _time_of(end, times, sizes) if times else None
        for ev in new:
            if when is not None:
                ev["time"] = when
        events.extend(new)
    end_events = _END.get(scaffold, lambda s: [])(state)
    if times:
        for ev in end_events:
            ev["time"] = times[-1][1]
    events.extend(end_events)
    return events


# --- rendering ----------------------------------------------------------------------


def _clip(text: str, head: int, tail: int) -> str:
    if len(text) <= head + tail:
        return text
    return f"{text[:head]}\n[... {len(text) - head - tail} chars omitted ...]\n{text[len(text) - tail :]}"


def _fence(text: str, lang: str = "") -> str:
    """A code block whose fence is longer than any backtick run inside it."""
    ticks, run = 3, 0
    for ch in text:
        run = run + 1 if ch == "`" else 0
        ticks = max(ticks, run + 1)
    fence = "`" * ticks
    return f"{fence}{lang}\n{text.rstrip()}\n{fence}"


def _abbrev_input(value) -> str:
    if isinstance(value, dict) and isinstance(value.get("command"), str):
        value = value["command"]  # a shell call reads best as the command alone
    elif isinstance(value, dict) and len(value) == 1:
        value = next(iter(value.values()))
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return (
        text if len(text) <= INPUT_CHARS else text[:INPUT_CHARS] + f" [... {len(text) - INPUT_CHARS} chars]"
    )


def _merge(events: list[dict]) -> list[dict]:
    """Join streamed assistant chunks and runs of plain-text lines."""
    out: list[dict] = []
    for ev in events:
        prev = out[-1] if out else None
        if prev and ev["kind"] == prev["kind"] == "text" and ev.get("delta") and prev.get("delta"):
            prev["text"] += ev["text"]
        elif prev and ev["kind"] == prev["kind"] == "log":
            prev["text"] += "\n" + ev["text"]
        else:
            out.append(dict(ev))
    return out


def events(scaffold: str, raw_text: str, times: list[tuple[int, float]] | None = None) -> list[dict]:
    """The raw log as normalized events, streamed chunks and plain-text runs joined (what
    `render` and the audit pages show)."""
    return _merge(parse(scaffold, raw_text, times))


def _render_result(ev: dict) -> str:
    head = f"## Result: {ev.get('status') or 'done'}"
    if ev.get("text"):
        head += "\n\n" + _clip(str(ev["text"]), OUTPUT_HEAD, OUTPUT_TAIL)
    facts = [f"- cost: ${ev['cost_usd']:.4f}"] if ev.get("cost_usd") is not None else []
    facts += [
        f"- {key}: `{json.dumps(ev[key], sort_keys=True)}`" for key in ("usage", "stats") if ev.get(key)
    ]
    return "\n\n".join([head, "\n".join(facts)]) if facts else head


def _retry_text(ev: dict) -> str:
    of = f"/{ev['max_retries']}" if ev.get("max_retries") is not None else ""
    status = f"HTTP {ev['status']} " if ev.get("status") else ""
    delay = f", next in {ev['delay_ms'] / 1000:.1f} s" if ev.get("delay_ms") is not None else ""
    return f"API retry {ev.get('attempt')}{of}: {status}{ev.get('text') or ''}".rstrip() + delay


def _abbreviated(text: str | None, max_chars: int) -> str | None:
    return text if text is None or len(text) <= max_chars else text[:max_chars] + " [...]"


def last_error(scaffold: str, raw_text: str, max_chars: int = 300) -> str | None:
    """The CLI's last error message in a raw log (for the reason in agent.json), abbreviated;
    an API call it was still retrying counts (a run killed while retrying a 429 says so)."""
    text = None
    for ev in parse(scaffold, raw_text):
        if ev["kind"] == "error" or (ev["kind"] == "result" and ev.get("error")):
            text = str(ev.get("text") or "").strip() or text
        elif ev["kind"] == "retry":
            text = _retry_text(ev)
    return _abbreviated(text, max_chars)


def ended_in_error(scaffold: str, raw_text: str, max_chars: int = 300) -> str | None:
    """The error the CLI's session ended in (nothing but errors and retries after it), or None.
    Gemini CLI exits 0 after a stream error: its exit code alone would call the run a success."""
    error = None
    for ev in parse(scaffold, raw_text):
        if ev["kind"] == "error" or (ev["kind"] == "result" and ev.get("error")):
            error = str(ev.get("text") or ev.get("status") or "error").strip()
        elif ev["kind"] in ("text", "tool_call", "tool_result") and (
            ev["kind"] != "text" or ev["text"].strip()
        ):
            error = None
        elif ev["kind"] == "result":
            error = None if ev.get("status") not in (None, "error") or ev.get("text") else error
    return _abbreviated(error, max_chars)


# What each CLI's own exit codes mean (a code above 128 is a signal's: 128 + its number).
EXIT_CODES = {
    "gemini": {  # packages/core/src/utils/errors.ts: FatalError subclasses
        41: "authentication error",
        42: "input error",
        44: "sandbox error",
        52: "configuration error",
        53: "turn limit reached",
        54: "tool execution error",
        55: "untrusted workspace",
        130: "cancelled",
        144: "API request failed (seen on an HTTP 400)",
    },
}


def exit_meaning(scaffold: str, code: int | None) -> str | None:
    """What a CLI's exit code means, when its CLI says (or a signal does); None otherwise."""
    if code is None:
        return None
    meaning = EXIT_CODES.get(scaffold, {}).get(code)
    if meaning is None and code > 128:
        import signal  # noqa: PLC0415 (only here)

        try:
            meaning = f"killed by {signal.Signals(code - 128).name}"
        except ValueError:
            meaning = None
    return meaning


def _header(scaffold: str, api: dict | None, first_time: float | None) -> str:
    """The title, and what the proxy saw: the model configured and the model(s) served."""
    lines = [f"# Agent trace ({scaffold})"]
    if first_time is not None:
        lines.append(f"*started {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime(first_time))}*")
    if api:
        served = ", ".join(f"{m} ({n} replies)" for m, n in (api.get("models_served") or {}).items())
        line = f"model configured: `{api.get('model_configured')}`; served: {served or 'none seen'}"
        if api.get("served_other_model"):
            line += f" — **not the configured model** ({', '.join(api['served_other_model'])})"
        lines.append(line)
    return "\n\n".join(lines)


def render(
    scaffold: str, raw_text: str, api: dict | None = None, times: list[tuple[int, float]] | None = None
) -> str:
    """A readable markdown trace of a raw log; `api` (agent.json's api section: the proxy's
    record) puts the model served in the header; `times` (`read_times`) stamps each block."""
    names: dict = {}
    evs = events(scaffold, raw_text, times)
    first = next((ev["time"] for ev in evs if "time" in ev), None)
    blocks = [_header(scaffold, api, first)]
    for ev in evs:
        before = len(blocks)
        _render_event(ev, blocks, names)
        if len(blocks) > before and "time" in ev:
            stamp = f"`{time.strftime('%H:%M:%S', time.gmtime(ev['time']))}` "
            hashes, _, rest = blocks[-1].partition("# ")  # a heading keeps its hashes first
            blocks[-1] = f"{hashes}# {stamp}{rest}" if rest and not hashes.strip("#") else stamp + blocks[-1]
    return "\n\n".join(blocks) + "\n"


def _render_event(ev: dict, blocks: list[str], names: dict) -> None:
    kind = ev["kind"]
    if kind == "text" and ev["text"].strip():
        blocks.append(f"**assistant:** {ev['text'].strip()}")
    elif kind == "thinking" and ev["text"].strip():
        blocks.append(f"*thinking:* {_clip(ev['text'].strip(), INPUT_CHARS, 0)}")
    elif kind == "tool_call":
        names[ev.get("id")] = ev.get("name")
        blocks.append(f"**tool call `{ev.get('name')}`:**\n{_fence(_abbrev_input(ev.get('input')))}")
    elif kind == "tool_result":
        label = "tool error" if ev.get("error") else "tool result"
        name = names.get(ev.get("id"))
        output = _clip(str(ev.get("output") or ""), OUTPUT_HEAD, OUTPUT_TAIL) or "(no output)"
        blocks.append(f"*{label}{f' ({name})' if name else ''}:*\n{_fence(output)}")
    elif kind == "user":
        blocks.append(f"**user:** {_clip(ev['text'].strip(), INPUT_CHARS, 0)}")
    elif kind == "system":
        blocks.append(f"*{ev['text']}*")
    elif kind == "error":
        blocks.append(f"**error:** {ev['text']}")
    elif kind == "retry":
        blocks.append(f"*{_retry_text(ev)}*")
    elif kind == "result":
        blocks.append(_render_result(ev))
    elif kind == "log":
        blocks.append(_fence(_clip(ev["text"], LOG_HEAD, LOG_TAIL), "text"))


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print("usage: python -m ptb.agent_runs.traces <scaffold> <raw_file> <out_md>", file=sys.stderr)
        return 2
    scaffold, raw_file, out_md = argv
    if not has_parser(scaffold):
        print(
            f"no trace parser for scaffold {scaffold!r} (have: {', '.join(sorted(PARSERS))})", file=sys.stderr
        )
        return 2
    io.write_text_atomic(out_md, render(scaffold, Path(raw_file).read_text(errors="replace")))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
