"""A scripted model server on 127.0.0.1 that the real agent CLIs talk to.

It speaks the streaming wire protocols of the four CLIs: Anthropic Messages (Claude
Code, OpenCode), OpenAI Responses (Codex) and Chat Completions, and Gemini
generateContent / streamGenerateContent (Gemini CLI). It plays a script: for a request
that offers a shell tool, step N (= the number of tool results already in the
conversation) asks the CLI to run command N; after the last command it answers with
a final text and the CLI ends its session. Requests without a shell tool (titles,
summaries, "who speaks next" checks) get a short text. Every request is recorded, so
tests can assert what each CLI sent: model, effort, system prompt, tool results, keys.

Faults: `fail_status` answers every request with that HTTP status; `hang` accepts
requests and never answers (until `close`). `serve_as` names another model in every reply
(a provider that serves something else than was asked for). `fault` plays one of FAULTS on
every model request: `disconnect` (the reply's headers and first event, then the connection
closes), `context_length` (the provider's own 400 for a prompt over the context window),
`malformed` (a 200 event stream of lines that are not JSON), `slow` (each event of a normal
reply `slow_seconds` after the last).
"""

from __future__ import annotations

import contextlib
import json
import re
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SHELL_TOOL = re.compile(r"^(bash|shell|shell_command|exec_command|run_shell_command|local_shell)$", re.I)
FINAL_TEXT = "All steps are done: final_model/ is saved."
USAGE_IN, USAGE_OUT = 1234, 56
FAULTS = ("disconnect", "context_length", "malformed", "slow")
# each provider's own words for a prompt over the context window (HTTP 400)
CONTEXT_LENGTH = {
    "anthropic": {
        "type": "error",
        "error": {
            "type": "invalid_request_error",
            "message": "prompt is too long: 212345 tokens > 200000 maximum",
        },
    },
    "responses": {
        "error": {
            "message": "Your input exceeds the context window of this model.",
            "type": "invalid_request_error",
            "code": "context_length_exceeded",
        }
    },
    "gemini": {
        "error": {
            "code": 400,
            "message": "The input token count (1212345) exceeds the maximum number of tokens "
            "allowed (1048576).",
            "status": "INVALID_ARGUMENT",
        }
    },
}
CONTEXT_LENGTH["chat"] = {
    "error": dict(CONTEXT_LENGTH["responses"]["error"], message="maximum context length exceeded")
}


class ScriptedLLM:
    """Start with `with ScriptedLLM(commands) as llm:`; llm.url is the base URL."""

    def __init__(
        self,
        commands: list[str],
        *,
        fail_status: int | None = None,
        hang: bool = False,
        serve_as: str | None = None,
        fault: str | None = None,
        slow_seconds: float = 1.0,
        tls: tuple[str, str] | None = None,
    ):
        if fault is not None and fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}: one of {', '.join(FAULTS)}")
        self.fault, self.slow_seconds = fault, slow_seconds
        self.commands = list(commands)
        self.fail_status = fail_status
        self.serve_as = serve_as
        self.hang = hang
        self.requests: list[dict] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        if tls:  # (certificate, key): HTTPS, as a provider's official host (the production path)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
            self.url = f"https://127.0.0.1:{self.port}"

    def __enter__(self) -> ScriptedLLM:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()

    def record(self, entry: dict) -> None:
        with self._lock:
            self.requests.append(entry)

    def scripted(self) -> list[dict]:
        """The recorded requests that offered a shell tool (the agent's own turns)."""
        return [r for r in self.requests if r.get("shell_tool")]

    # -- the script: what to answer, given how many tool results the conversation holds --

    def next_action(self, tool_results: int) -> tuple[str, str]:
        if tool_results < len(self.commands):
            return "tool", self.commands[tool_results]
        return "text", FINAL_TEXT


def _shell_arguments(schema: dict, command: str) -> dict:
    """Arguments for the shell tool, shaped by its parameter schema (string or argv list)."""
    props = (schema or {}).get("properties") or {}
    key = "command" if "command" in props or not props else ("cmd" if "cmd" in props else next(iter(props)))
    kind = (props.get(key) or {}).get("type")
    args: dict = {key: ["bash", "-lc", command] if kind == "array" else command}
    if "yield_time_ms" in props:  # Codex's exec_command returns after 10 s by default, process still running
        args["yield_time_ms"] = 300_000
    for name in (schema or {}).get("required") or []:
        if name == "description" and name not in args:
            args[name] = "run a step of the script"
    return args


def _handler(llm: ScriptedLLM):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # quiet: the tests read llm.requests
            pass

        def do_GET(self) -> None:
            llm.record({"method": "GET", "path": self.path, "headers": dict(self.headers)})
            if self.path.split("?")[0].rstrip("/").endswith("/models"):
                return self._json(200, {"object": "list", "data": [], "models": []})
            self._json(404, {"error": {"message": f"no GET {self.path}"}})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                body = {"_raw": raw.decode(errors="replace")}
            path = self.path.split("?")[0]
            api = _api(path)
            entry = {"method": "POST", "path": self.path, "api": api, "headers": dict(self.headers)}
            entry["body"] = body
            if api:
                entry.update(_PARSE[api](body))
            llm.record(entry)
            if llm.hang:
                llm._stop.wait()
                return
            if llm.fail_status:
                status = llm.fail_status
                message = "overloaded, try later" if status == 429 else "internal error"
                return self._json(
                    status, {"error": {"type": "api_error", "code": status, "message": message}}
                )
            if path.endswith("/count_tokens"):
                return self._json(200, {"input_tokens": USAGE_IN})
            if not api:
                return self._json(404, {"error": {"message": f"no POST {self.path}"}})
            if llm.fault == "context_length":
                return self._json(400, CONTEXT_LENGTH[api])
            if llm.fault == "malformed":
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(b"event: message\ndata: {not json at all\n\ndata: <html>502</html>\n\n")
                self.close_connection = True
                return None
            if entry.get("running_session") is not None:
                action = ("poll", entry["running_session"])
            elif entry.get("shell_tool"):
                action = llm.next_action(entry["tool_results"])
            else:
                action = ("text", _side_answer(body))
            stream = api == "gemini" and "streamGenerateContent" in path or bool(body.get("stream"))
            model = llm.serve_as or body.get("model") or _gemini_model(path)
            _WRITE[api](self, action, entry, model, stream)

        # -- writing ------------------------------------------------------------------

        def _json(self, status: int, payload: dict) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if llm.fault == "disconnect" and status == 200:
                self.wfile.write(data[: len(data) // 2])
                return self._cut()
            self.wfile.write(data)

        def _cut(self) -> None:
            """Close the connection mid-reply, as a provider's dropped stream."""
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)

        def sse(self, events: list[tuple[str | None, dict]]) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Connection", "close")
            cut = llm.fault == "disconnect"
            if cut:  # as the providers stream: chunked, so a cut is a cut, not the body's end
                self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for index, (name, data) in enumerate(events):
                if llm.fault == "slow" and index:
                    time.sleep(llm.slow_seconds)
                chunk = ((f"event: {name}\n" if name else "") + f"data: {json.dumps(data)}\n\n").encode()
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk) if cut else chunk)
                self.wfile.flush()
                if cut:
                    return self._cut()
            self.close_connection = True

    return Handler


def _api(path: str) -> str | None:
    if path.endswith("/messages") or path.endswith("/messages/count_tokens"):
        return "anthropic"
    if path.endswith("/responses"):
        return "responses"
    if path.endswith("/chat/completions"):
        return "chat"
    if path.lower().endswith("generatecontent"):
        return "gemini"
    return None


def _gemini_model(path: str) -> str:
    match = re.search(r"models/([^/:]+):", path)
    return match.group(1) if match else "?"


def _side_answer(body: dict) -> str:
    """Side requests: Gemini's next-speaker check wants JSON; the rest, a short title."""
    config = body.get("generationConfig") or {}
    if config.get("responseMimeType") == "application/json" or config.get("responseJsonSchema"):
        return json.dumps({"reasoning": "the task is finished", "next_speaker": "user"})
    return "Scripted session"


# -- reading each API's request: the shell tool offered, tool results, system prompt -----


def _text_of(content) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            _text_of(c.get("text", c.get("content", ""))) for c in content if isinstance(c, dict)
        )
    return ""


def _parse_anthropic(body: dict) -> dict:
    tools = [t for t in body.get("tools") or [] if SHELL_TOOL.match(t.get("name", ""))]
    results = [
        _text_of(b.get("content"))
        for m in body.get("messages") or []
        if isinstance(m.get("content"), list)
        for b in m["content"]
        if b.get("type") == "tool_result"
    ]
    user = [_text_of(m.get("content")) for m in body.get("messages") or [] if m.get("role") == "user"]
    return {
        "shell_tool": tools[0]["name"] if tools else None,
        "shell_schema": tools[0].get("input_schema") if tools else None,
        "tool_results": len(results),
        "tool_outputs": results,
        "system": _text_of(body.get("system")),
        "user_text": "\n".join(user),
    }


POLL_TOOL = "write_stdin"
RUNNING = re.compile(r"Process running with session ID (\d+)")


def _parse_responses(body: dict) -> dict:
    tools = [
        t
        for t in body.get("tools") or []
        if SHELL_TOOL.match(t.get("name") or t.get("type", ""))
        and t.get("type") in ("function", "local_shell")
    ]
    items = [i for i in body.get("input") or [] if isinstance(i, dict)]
    called = {i.get("call_id"): i.get("name") for i in items if i.get("type") == "function_call"}
    results = [i for i in items if i.get("type", "").endswith("_call_output")]
    outputs = [_text_of(i.get("output")) for i in results]
    polls = sum(called.get(i.get("call_id")) == POLL_TOOL for i in results)
    # Codex's exec_command returns after at most 30 s with the process still running; a model
    # then waits on it (write_stdin, nothing written) before going on, as the script does
    running = RUNNING.search(outputs[-1]) if outputs else None
    offered = any(t.get("name") == POLL_TOOL for t in body.get("tools") or [])
    user = [_text_of(i.get("content")) for i in items if i.get("role") == "user"]
    return {
        "shell_tool": (tools[0].get("name") or tools[0]["type"]) if tools else None,
        "shell_schema": tools[0].get("parameters") if tools else None,
        "tool_results": len(outputs) - polls,
        "tool_outputs": outputs,
        "running_session": int(running.group(1)) if running and offered else None,
        # Codex sends its instructions as developer messages, not `instructions`
        "system": body.get("instructions")
        or "\n".join(
            _text_of(i.get("content"))
            for i in items
            if isinstance(i, dict) and i.get("role") in ("developer", "system")
        ),
        "user_text": "\n".join(user),
        "effort": (body.get("reasoning") or {}).get("effort"),
    }


def _parse_chat(body: dict) -> dict:
    tools = [
        t["function"]
        for t in body.get("tools") or []
        if SHELL_TOOL.match((t.get("function") or {}).get("name", ""))
    ]
    messages = body.get("messages") or []
    outputs = [_text_of(m.get("content")) for m in messages if m.get("role") == "tool"]
    return {
        "shell_tool": tools[0]["name"] if tools else None,
        "shell_schema": tools[0].get("parameters") if tools else None,
        "tool_results": len(outputs),
        "tool_outputs": outputs,
        "system": "\n".join(_text_of(m.get("content")) for m in messages if m.get("role") == "system"),
        "user_text": "\n".join(_text_of(m.get("content")) for m in messages if m.get("role") == "user"),
        "effort": body.get("reasoning_effort"),
    }


def _parse_gemini(body: dict) -> dict:
    decls = [d for t in body.get("tools") or [] for d in t.get("functionDeclarations") or []]
    tools = [d for d in decls if SHELL_TOOL.match(d.get("name", ""))]
    parts = [p for c in body.get("contents") or [] for p in c.get("parts") or []]
    responses = [p["functionResponse"].get("response") or {} for p in parts if "functionResponse" in p]
    outputs = [r.get("output") if isinstance(r.get("output"), str) else json.dumps(r) for r in responses]
    user = [
        p.get("text", "")
        for c in body.get("contents") or []
        if c.get("role") == "user"
        for p in c.get("parts") or []
    ]
    system = body.get("systemInstruction") or (body.get("config") or {}).get("systemInstruction") or {}
    return {
        "shell_tool": tools[0]["name"] if tools else None,
        "shell_schema": (tools[0].get("parametersJsonSchema") or tools[0].get("parameters"))
        if tools
        else None,
        "tool_results": len(outputs),
        "tool_outputs": outputs,
        "system": _text_of(system.get("parts")) if isinstance(system, dict) else _text_of(system),
        "user_text": "\n".join(user),
    }


_PARSE = {
    "anthropic": _parse_anthropic,
    "responses": _parse_responses,
    "chat": _parse_chat,
    "gemini": _parse_gemini,
}


# -- writing each API's answer --------------------------------------------------------------


def _write_anthropic(h, action, entry, model, stream) -> None:
    kind, value = action
    n = len(entry.get("tool_outputs") or [])
    if kind == "tool":
        block = {"type": "tool_use", "id": f"toolu_{n:04d}", "name": entry["shell_tool"], "input": {}}
        args = json.dumps(_shell_arguments(entry["shell_schema"], value))
        delta = {"type": "input_json_delta", "partial_json": args}
        full = dict(block, input=json.loads(args))
        stop = "tool_use"
    else:
        block = {"type": "text", "text": ""}
        delta = {"type": "text_delta", "text": value}
        full = {"type": "text", "text": value}
        stop = "end_turn"
    usage = {"input_tokens": USAGE_IN, "output_tokens": USAGE_OUT}
    message = {"id": f"msg_{time.monotonic_ns()}", "type": "message", "role": "assistant", "model": model}
    if not stream:
        return h._json(
            200, {**message, "content": [full], "stop_reason": stop, "stop_sequence": None, "usage": usage}
        )
    h.sse(
        [
            (
                "message_start",
                {
                    "type": "message_start",
                    "message": {
                        **message,
                        "content": [],
                        "stop_reason": None,
                        "stop_sequence": None,
                        "usage": {"input_tokens": USAGE_IN, "output_tokens": 1},
                    },
                },
            ),
            ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": block}),
            ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": delta}),
            ("content_block_stop", {"type": "content_block_stop", "index": 0}),
            (
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": stop, "stop_sequence": None},
                    "usage": {"output_tokens": USAGE_OUT},
                },
            ),
            ("message_stop", {"type": "message_stop"}),
        ]
    )


def _write_responses(h, action, entry, model, stream) -> None:
    kind, value = action
    n = entry.get("tool_results") or 0
    rid = f"resp_{time.monotonic_ns()}"
    if kind == "tool" and entry["shell_tool"] == "local_shell":
        item = {
            "type": "local_shell_call",
            "id": f"lsh_{n}",
            "call_id": f"call_{n}",
            "status": "completed",
            "action": {"type": "exec", "command": ["bash", "-lc", value]},
        }
    elif kind == "poll":
        item = {
            "type": "function_call",
            "id": f"fc_poll_{len(entry.get('tool_outputs') or [])}",
            "call_id": f"call_poll_{len(entry.get('tool_outputs') or [])}",
            "name": POLL_TOOL,
            "arguments": json.dumps({"session_id": value, "chars": "", "yield_time_ms": 300_000}),
            "status": "completed",
        }
    elif kind == "tool":
        item = {
            "type": "function_call",
            "id": f"fc_{n}",
            "call_id": f"call_{n}",
            "name": entry["shell_tool"],
            "arguments": json.dumps(_shell_arguments(entry["shell_schema"], value)),
            "status": "completed",
        }
    else:
        item = {
            "type": "message",
            "id": f"msg_{n}",
            "role": "assistant",
            "status": "completed",
            "content": [{"type": "output_text", "text": value, "annotations": []}],
        }
    usage = {
        "input_tokens": USAGE_IN,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": USAGE_OUT,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": USAGE_IN + USAGE_OUT,
    }
    response = {
        "id": rid,
        "object": "response",
        "created_at": int(time.time()),
        "model": model,
        "status": "completed",
        "output": [item],
        "usage": usage,
    }
    if not stream:
        return h._json(200, response)
    events = [
        (
            "response.created",
            {
                "type": "response.created",
                "response": {**response, "status": "in_progress", "output": [], "usage": None},
            },
        ),
        (
            "response.output_item.added",
            {"type": "response.output_item.added", "output_index": 0, "item": item},
        ),
    ]
    if kind == "text":
        events.append(
            (
                "response.output_text.delta",
                {
                    "type": "response.output_text.delta",
                    "item_id": item["id"],
                    "output_index": 0,
                    "content_index": 0,
                    "delta": value,
                },
            )
        )
    events += [
        ("response.output_item.done", {"type": "response.output_item.done", "output_index": 0, "item": item}),
        ("response.completed", {"type": "response.completed", "response": response}),
    ]
    for i, (name, data) in enumerate(events):
        data["sequence_number"] = i
    h.sse(events)


def _write_chat(h, action, entry, model, stream) -> None:
    kind, value = action
    n = entry.get("tool_results") or 0
    if kind == "tool":
        call = {
            "index": 0,
            "id": f"call_{n}",
            "type": "function",
            "function": {
                "name": entry["shell_tool"],
                "arguments": json.dumps(_shell_arguments(entry["shell_schema"], value)),
            },
        }
        delta, finish = {"role": "assistant", "content": None, "tool_calls": [call]}, "tool_calls"
    else:
        delta, finish = {"role": "assistant", "content": value}, "stop"
    usage = {"prompt_tokens": USAGE_IN, "completion_tokens": USAGE_OUT, "total_tokens": USAGE_IN + USAGE_OUT}
    base = {
        "id": f"chatcmpl-{n}",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
    }
    if not stream:
        message = {k: v for k, v in delta.items() if k != "tool_calls"}
        if kind == "tool":
            message["tool_calls"] = [{k: v for k, v in delta["tool_calls"][0].items() if k != "index"}]
        return h._json(
            200,
            {
                **base,
                "object": "chat.completion",
                "usage": usage,
                "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            },
        )
    h.sse(
        [
            (None, {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}),
            (None, {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]}),
            (None, {**base, "choices": [], "usage": usage}),
        ]
    )
    with contextlib.suppress(OSError):  # a disconnect fault has closed the socket
        h.wfile.write(b"data: [DONE]\n\n")


def _write_gemini(h, action, entry, model, stream) -> None:
    kind, value = action
    if kind == "tool":
        part = {
            "functionCall": {
                "name": entry["shell_tool"],
                "args": _shell_arguments(entry["shell_schema"], value),
            }
        }
    else:
        part = {"text": value}
    payload = {
        "candidates": [{"content": {"role": "model", "parts": [part]}, "finishReason": "STOP", "index": 0}],
        "usageMetadata": {
            "promptTokenCount": USAGE_IN,
            "candidatesTokenCount": USAGE_OUT,
            "totalTokenCount": USAGE_IN + USAGE_OUT,
        },
        "modelVersion": model,
    }
    if stream:
        return h.sse([(None, payload)])
    h._json(200, payload)


_WRITE = {
    "anthropic": _write_anthropic,
    "responses": _write_responses,
    "chat": _write_chat,
    "gemini": _write_gemini,
}
