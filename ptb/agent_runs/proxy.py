"""The run's credential proxy: the agent's CLI talks to it, never to its provider directly.

The runner starts one per API agent run, on 127.0.0.1, outside the agent's box. The agent gets
a random token per key variable (`ptb-run-...`) in place of the key, and its CLI's base URL
points here. The proxy checks the token, puts the real key in its place and forwards the
request to the provider's endpoint (or the entry's `base_url`: a gateway, a test server),
streaming the reply back chunk by chunk. The key never enters the box (not in its environment,
files or /proc), so no encoding or hiding place can leak it.

Every exchange is written to `api.jsonl` beside agent.json (outside the box): the run's
authoritative record of what the model was asked and answered, with the provider's own usage
fields. From it come the run's tokens and cost (`accounting`), the models requested and served,
and the run's stop: a dollar cap (`max_cost_usd`) or a provider failure past its threshold
(a rejected key, a sustained outage or rate limit: infrastructure, not the agent's failure; the
same error answered `identical_errors` times in a row: a 400 such as a context-length error,
named with its status). After a failed exchange (an error status, a stream cut mid-way, a reply
no wire format can read) the next request waits, doubling from `backoff_seconds` to
`backoff_max_seconds`: a CLI without a backoff of its own (OpenCode sent 189 requests in 95 s
after a disconnect) cannot hammer the provider until the budget.

aiohttp, not mitmproxy: aiohttp is already in the pinned set (datasets pulls it in) and gives
a streaming server and client in a few lines; mitmproxy would add its own pinned stack of
TLS and HTTP/2 libraries for a reverse proxy that needs none of them.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from ptb.core.config import resolve_section

# the provider's official endpoint when the entry names no base_url, by scaffold (opencode: by
# the provider part of its llm, provider/model); the CLI appends its own paths to these
OFFICIAL = {
    "claude": "https://api.anthropic.com",
    "codex": "https://api.openai.com/v1",
    "gemini": "https://generativelanguage.googleapis.com",
}
OPENCODE_PROVIDERS = {
    "anthropic": "https://api.anthropic.com/v1",
    "openai": "https://api.openai.com/v1",
    "google": "https://generativelanguage.googleapis.com/v1beta",
}
TOKEN_PREFIX = "ptb-run-"
AUTH_HEADERS = ("authorization", "x-api-key", "x-goog-api-key", "api-key")
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailers",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
    "content-encoding",
}
RECORD_CAP = 8 << 20  # bytes of one body kept in api.jsonl (the rest is counted, not kept)


def upstream_for(scaffold: str, llm: str | None, base_url: str | None) -> str | None:
    """Where the run's requests go: the entry's base_url, else the provider's official endpoint;
    None for a scaffold that talks to no provider (the offline agents: no proxy, see agent_run)."""
    if base_url:
        return base_url.rstrip("/")
    if scaffold == "opencode":
        provider = (llm or "").partition("/")[0]
        if provider in OPENCODE_PROVIDERS:
            return OPENCODE_PROVIDERS[provider]
    return OFFICIAL.get(scaffold)


# --- usage, from the providers' own fields --------------------------------------------------


def _documents(body: bytes, content_type: str):
    """The JSON documents of a reply: each `data:` line of an event stream, a JSON array's items
    (Gemini's non-SSE stream), or the body itself."""
    text = body.decode("utf-8", errors="replace")
    if "event-stream" in content_type or text.lstrip().startswith(("event:", "data:")):
        for line in text.splitlines():
            if line.startswith("data:"):
                payload = line[5:].strip()
                if payload and payload != "[DONE]":
                    try:
                        yield json.loads(payload)
                    except ValueError:
                        continue
        return
    try:
        data = json.loads(text)
    except ValueError:
        return
    yield from data if isinstance(data, list) else [data]


def usage_of(body: bytes, content_type: str) -> tuple[dict, str | None]:
    """({input, cached, cache_write, output}, model served) of one reply, from whichever of the
    four wire formats it is in: Anthropic Messages, OpenAI Responses, OpenAI Chat Completions,
    Gemini generateContent. `input` counts uncached input tokens; `output` includes reasoning."""
    usage = {"input": 0, "cached": 0, "cache_write": 0, "output": 0}
    served = None
    for doc in _documents(body, content_type):
        if not isinstance(doc, dict):
            continue
        kind = doc.get("type")
        if kind == "message_start" or (kind == "message" and "usage" in doc):  # Anthropic
            message = doc.get("message", doc)
            served = message.get("model") or served
            u = message.get("usage") or {}
            usage["input"] = u.get("input_tokens") or 0
            usage["cached"] = u.get("cache_read_input_tokens") or 0
            usage["cache_write"] = u.get("cache_creation_input_tokens") or 0
            usage["output"] = u.get("output_tokens") or 0
        elif kind == "message_delta" and doc.get("usage"):  # Anthropic: cumulative output
            u = doc["usage"]
            usage["output"] = u.get("output_tokens", usage["output"]) or 0
            for key, field in (("input", "input_tokens"), ("cached", "cache_read_input_tokens")):
                if u.get(field) is not None:
                    usage[key] = u[field]
        elif kind in ("response.completed", "response.incomplete", "response.failed") or (
            doc.get("object") == "response"
        ):  # OpenAI Responses
            response = doc.get("response", doc)
            served = response.get("model") or served
            u = response.get("usage") or {}
            cached = (u.get("input_tokens_details") or {}).get("cached_tokens") or 0
            if u:
                usage.update(input=(u.get("input_tokens") or 0) - cached, cached=cached)
                usage["output"] = u.get("output_tokens") or 0
        elif doc.get("object") in ("chat.completion", "chat.completion.chunk"):  # OpenAI Chat
            served = doc.get("model") or served
            u = doc.get("usage") or {}
            if u:
                cached = (u.get("prompt_tokens_details") or {}).get("cached_tokens") or 0
                usage.update(input=(u.get("prompt_tokens") or 0) - cached, cached=cached)
                usage["output"] = u.get("completion_tokens") or 0
        elif "usageMetadata" in doc or "modelVersion" in doc:  # Gemini: the last chunk has totals
            served = doc.get("modelVersion") or served
            u = doc.get("usageMetadata") or {}
            if u:
                cached = u.get("cachedContentTokenCount") or 0
                usage.update(input=(u.get("promptTokenCount") or 0) - cached, cached=cached)
                usage["output"] = (u.get("candidatesTokenCount") or 0) + (u.get("thoughtsTokenCount") or 0)
    return usage, served


def requested_model(path: str, body: bytes) -> str | None:
    """The model a request names: its JSON `model`, or Gemini's /models/<name>:<method> path."""
    if "/models/" in path:
        return path.split("/models/", 1)[1].split(":", 1)[0].split("?", 1)[0]
    try:
        return json.loads(body).get("model")
    except (ValueError, AttributeError):
        return None


def cost_of(usage: dict, model: str | None, prices: dict) -> float | None:
    """USD for one reply at the config's prices (per million tokens; cached_input and
    cache_write default to input); None for a model without a price."""
    price = prices.get(model or "")
    if price is None:
        return None
    cached = price.get("cached_input", price["input"])
    write = price.get("cache_write", price["input"])
    return (
        usage["input"] * price["input"]
        + usage["cached"] * cached
        + usage["cache_write"] * write
        + usage["output"] * price["output"]
    ) / 1e6


# --- the proxy -------------------------------------------------------------------------------


class CredentialProxy:
    """One run's proxy. `with CredentialProxy(...) as proxy:` serves on 127.0.0.1 from a thread;
    `proxy.agent_env` holds what replaces the keys and the base URL in the agent's environment;
    `proxy.stop_reason()` says when the run must stop (polled by the runner); `proxy.summary()`
    is agent.json's `api` section."""

    def __init__(
        self,
        *,
        upstream: str,
        keys: dict[str, str],
        record: str | Path,
        prices: dict | None = None,
        expected_model: str | None = None,
        max_cost_usd: float | None = None,
        failures: dict | None = None,
    ):
        self.upstream = upstream.rstrip("/")
        parts = urlsplit(self.upstream)
        self.origin, self.prefix = f"{parts.scheme}://{parts.netloc}", parts.path.rstrip("/")
        self.keys = dict(keys)
        self.tokens = {f"{TOKEN_PREFIX}{secrets.token_hex(24)}": name for name in self.keys}
        self.record = Path(record)
        self.prices = prices or {}
        self.expected_model = expected_model
        self.max_cost_usd = max_cost_usd
        # the config's provider_failures, the schema's defaults filled in (they live there only)
        self.failures = resolve_section("provider_failures", failures or {})
        self.lock = threading.Lock()
        self.totals = {"requests": 0, "input": 0, "cached": 0, "cache_write": 0, "output": 0}
        self.cost_usd = 0.0
        self.unpriced: set[str] = set()
        self.requested: dict[str, int] = {}
        self.served: dict[str, int] = {}
        self.statuses: dict[str, int] = {}
        self.auth_failures = 0
        self.failed_in_a_row = 0
        self.same_error: tuple[str, int] = ("", 0)  # the last failure's signature, and how often in a row
        self.failing_since: dict[str, float | None] = {"outage": None, "rate_limit": None}
        self._stop: tuple[str, str] | None = None
        self._last = ""  # the last upstream answer, for a stop's reason
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self.port: int | None = None

    # -- what the agent gets --------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.prefix}"

    @property
    def agent_env(self) -> dict[str, str]:
        """Each key variable set to its token, and PTB_AGENT_BASE_URL to the proxy."""
        return {name: token for token, name in self.tokens.items()} | {"PTB_AGENT_BASE_URL": self.base_url}

    # -- lifecycle --------------------------------------------------------------------------

    def __enter__(self) -> CredentialProxy:
        self.record.parent.mkdir(parents=True, exist_ok=True)
        self._handle = open(self.record, "w", encoding="utf-8")  # noqa: SIM115 (closed in __exit__)
        self._thread = threading.Thread(target=self._serve, name="credential-proxy", daemon=True)
        self._thread.start()
        if not self._ready.wait(30) or self.port is None:
            raise RuntimeError("the credential proxy did not start")
        return self

    def __exit__(self, *exc) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._shutdown.set)
        self._thread.join(timeout=30)
        self._handle.close()

    def _serve(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._loop.run_until_complete(self._main())

    async def _main(self) -> None:
        self._shutdown = asyncio.Event()
        app = web.Application(client_max_size=256 << 20)
        app.router.add_route("*", "/{tail:.*}", self._handle_request)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=60, sock_read=1800)
        self._session = aiohttp.ClientSession(timeout=timeout, auto_decompress=True)
        self._ready.set()
        await self._shutdown.wait()
        await self._session.close()
        await runner.cleanup()

    # -- the run's stop -------------------------------------------------------------------

    def stop_reason(self) -> tuple[str, str] | None:
        """(kind, reason) once the run must stop: kind `cost_limit` (the dollar cap) or `infra`
        (the provider failed past a threshold); None while it may go on."""
        with self.lock:
            if self._stop is None:
                now = time.monotonic()
                for kind, limit in (("outage", "outage_seconds"), ("rate_limit", "rate_limit_seconds")):
                    since = self.failing_since[kind]
                    if since is not None and now - since >= self.failures[limit]:
                        what = "an outage" if kind == "outage" else "a sustained rate limit (429)"
                        self._stop = (
                            "infra",
                            f"provider failure: {what} for {now - since:.0f} s ({self._last})",
                        )
            return self._stop

    def backoff_seconds(self) -> float:
        """How long the next request waits: 0 after a success, then doubling per failure in a row."""
        with self.lock:
            if not self.failed_in_a_row:
                return 0.0
            first, most = self.failures["backoff_seconds"], self.failures["backoff_max_seconds"]
            return min(most, first * 2 ** min(self.failed_in_a_row - 1, 30))

    def _account(
        self, status: int, usage: dict, served: str | None, requested: str | None, failure: str | None = None
    ) -> None:
        """failure: what went wrong with an answer whose status looks fine (a stream cut, an
        unreadable reply), or None; an error status is a failure by itself."""
        now = time.monotonic()
        if failure is None and (status >= 400 or status == 0):
            failure = self._last
        with self.lock:
            self._count_failure(failure, status)
            self.totals["requests"] += 1
            self.statuses[str(status)] = self.statuses.get(str(status), 0) + 1
            for key in ("input", "cached", "cache_write", "output"):
                self.totals[key] += usage[key]
            if requested:
                self.requested[requested] = self.requested.get(requested, 0) + 1
            if served:
                self.served[served] = self.served.get(served, 0) + 1
            cost = cost_of(usage, served or requested, self.prices) if any(usage.values()) else 0.0
            if cost is None:
                self.unpriced.add(served or requested or "unknown")
            else:
                self.cost_usd += cost
            if status in (401, 403):
                self.auth_failures += 1
                if self.auth_failures >= self.failures["auth"] and self._stop is None:
                    self._stop = ("infra", f"provider failure: the provider rejected the key ({self._last})")
            kind = "rate_limit" if status == 429 else "outage" if status >= 500 or status == 0 else None
            if failure and kind is None and status < 400:
                kind = "outage"  # a 200 whose stream broke or cannot be read: the provider's fault
            for name in self.failing_since:
                if name != kind:
                    self.failing_since[name] = None
                elif self.failing_since[name] is None:
                    self.failing_since[name] = now
            if self.max_cost_usd is not None and self.cost_usd > self.max_cost_usd and self._stop is None:
                self._stop = (
                    "cost_limit",
                    f"cost ${self.cost_usd:.4f} passed the cap ${self.max_cost_usd:.2f}",
                )

    def _count_failure(self, failure: str | None, status: int) -> None:
        """The failures in a row (the backoff) and the same error in a row (the stop). Holds the lock."""
        if failure is None:
            self.failed_in_a_row, self.same_error = 0, ("", 0)
            return
        self.failed_in_a_row += 1
        count = self.same_error[1] + 1 if self.same_error[0] == failure else 1
        self.same_error = (failure, count)
        if count >= self.failures["identical_errors"] and self._stop is None:
            # a client error (400: context length, a bad request) is the run's own: its outcome is
            # the agent's error; a server's or the network's is infrastructure, as above
            kind = "provider_error" if 400 <= status < 500 and status != 429 else "infra"
            self._stop = (kind, f"provider failure: the same error {count} times in a row ({failure})")

    def summary(self) -> dict:
        """agent.json's `api` section: the provider-reported totals of the run."""
        with self.lock:
            served_other = sorted(
                m for m in self.served if self.expected_model and not _same_model(m, self.expected_model)
            )
            return {
                "upstream": self.upstream,
                "record": self.record.name,
                "tokens": {k: self.totals[k] for k in ("input", "cached", "cache_write", "output")},
                "requests": self.totals["requests"],
                "statuses": dict(sorted(self.statuses.items())),
                "failures_in_a_row": self.failed_in_a_row,
                "last_failure": self.same_error[0] or None,
                "cost_usd": None if self.unpriced else round(self.cost_usd, 10),
                "unpriced_models": sorted(self.unpriced),
                "models_requested": dict(sorted(self.requested.items())),
                "models_served": dict(sorted(self.served.items())),
                "model_configured": self.expected_model,
                "served_other_model": served_other,
            }

    # -- one exchange ---------------------------------------------------------------------

    def _swap(self, value: str) -> tuple[str, bool]:
        for token, name in self.tokens.items():
            if token in value:
                return value.replace(token, self.keys[name]), True
        return value, False

    def _write(self, entry: dict) -> None:
        line = json.dumps(entry, default=str) + "\n"
        with self.lock:
            self._handle.write(line)
            self._handle.flush()

    async def _handle_request(self, request: web.Request) -> web.StreamResponse:
        started, body = time.time(), await request.read()
        headers, authorised = {}, False
        for name, value in request.headers.items():
            if name.lower() in HOP_BY_HOP:
                continue
            if name.lower() in AUTH_HEADERS:
                value, swapped = self._swap(value)
                authorised |= swapped
            headers[name] = value
        query = []
        for name, value in request.query.items():
            value, swapped = self._swap(value)
            authorised |= swapped
            query.append((name, value))
        entry = {
            "time": started,
            "method": request.method,
            "path": request.path,
            "model_requested": requested_model(request.path, body),
            "request": {"headers": _redacted(request.headers), "body": _body_text(body)},
        }
        if not authorised:
            entry.update(status=401, error="no valid run token: refused without forwarding")
            self._write(entry)
            return web.json_response({"error": {"message": "ptb proxy: no valid run token"}}, status=401)
        wait = self.backoff_seconds()
        if wait:
            entry["backoff_seconds"] = wait
            await asyncio.sleep(wait)
        stop = self.stop_reason()
        if stop is not None:
            reason = stop[1]
            entry.update(status=429, error=f"run stopped: {reason}")
            self._write(entry)
            return web.json_response({"error": {"message": f"ptb proxy: {reason}"}}, status=429)
        url = self.origin + request.path
        kept, total = bytearray(), 0
        status, content_type, reply = 0, "", None
        try:
            async with self._session.request(
                request.method, url, params=query, headers=headers, data=body, allow_redirects=False
            ) as upstream:
                status, content_type = upstream.status, upstream.headers.get("Content-Type", "")
                reply = web.StreamResponse(status=upstream.status)
                for name, value in upstream.headers.items():
                    if name.lower() not in HOP_BY_HOP:
                        reply.headers[name] = value
                await reply.prepare(request)
                client_gone = False
                async for chunk in upstream.content.iter_any():
                    total += len(chunk)
                    if len(kept) < RECORD_CAP:
                        kept += chunk[: RECORD_CAP - len(kept)]
                    client_gone = client_gone or not await _send(reply, chunk)
                # counted before the reply ends: a client that has its answer finds it accounted
                self._finish(entry, started, status, content_type, kept, total)
                if not client_gone:
                    await _send(reply, None)
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as error:
            entry["error"] = f"{type(error).__name__}: {error}"
            if "status" not in entry:
                self._finish(entry, started, status, content_type, kept, total)
            if reply is not None:  # cut mid-stream: the client must see the cut, not a clean end
                raise ConnectionResetError(f"upstream stream cut: {entry['error']}") from error
        if reply is None:
            return web.json_response({"error": {"message": f"ptb proxy: upstream {self._last}"}}, status=502)
        return reply

    def _finish(self, entry: dict, started: float, status: int, content_type: str, kept, total: int):
        """Account one exchange (usage, model, cost, failures) and write its record."""
        usage, served = usage_of(bytes(kept), content_type)
        failure = None
        if entry.get("error"):
            failure = f"stream cut after {total} bytes ({entry['error'].split(':')[0]})" if status else None
        elif 200 <= status < 300 and entry["model_requested"] and served is None and not any(usage.values()):
            failure = "a reply no wire format can read"  # malformed SSE, an HTML page, ...
        if status >= 400:
            self._last = f"HTTP {status}: {_error_message(bytes(kept))}".rstrip(": ")
        elif status:
            self._last = f"HTTP {status}, {failure}" if failure else f"HTTP {status}"
        else:
            self._last = entry.get("error", "no answer")
        entry.update(
            status=status,
            seconds=round(time.time() - started, 3),
            model_served=served,
            usage=usage,
            response={"content_type": content_type, "bytes": total, "body": _body_text(bytes(kept))},
        )
        if failure:
            entry["failure"] = failure
        self._account(status, usage, served, entry["model_requested"], failure=failure and self._last)
        self._write(entry)


def _same_model(served: str, configured: str) -> bool:
    """A served name matches the configured one up to a dated suffix (claude-x-20250101) or a
    provider prefix (anthropic/claude-x): gemini-3-pro-preview served as gemini-3.1-pro does not."""
    configured = configured.split("/")[-1]
    return served == configured or served.startswith(configured + "-2")


def _error_message(body: bytes, limit: int = 200) -> str:
    """The provider's error message in an error reply (its JSON `error.message`), abbreviated."""
    text = body.decode("utf-8", errors="replace").strip()
    try:
        data = json.loads(text)
    except ValueError:
        return text[:limit]
    error = data.get("error", data) if isinstance(data, dict) else data
    if isinstance(error, list) and error:  # Gemini answers errors as a JSON array
        error = error[0].get("error", error[0]) if isinstance(error[0], dict) else error[0]
    message = error.get("message") if isinstance(error, dict) else None
    return str(message or text)[:limit]


def _redacted(headers) -> dict:
    return {k: ("[run token]" if k.lower() in AUTH_HEADERS else v) for k, v in headers.items()}


def _body_text(body: bytes):
    text = body.decode("utf-8", errors="replace")
    try:
        return json.loads(text)
    except ValueError:
        return text


async def _send(reply, chunk: bytes | None) -> bool:
    """Write a chunk (None: the end) to the agent; False when the agent has hung up. An agent that
    closes its connection early (it had its answer, or gave up) is its own doing: the exchange is
    still accounted, and never counted as the provider's failure."""
    try:
        if chunk is None:
            await reply.write_eof()
        else:
            await reply.write(chunk)
    except ConnectionResetError:  # aiohttp's ClientConnectionResetError is one
        return False
    return True
