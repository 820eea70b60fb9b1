"""The run's credential proxy (ptb.agent_runs.proxy) between a client and the scripted provider
server (tests/scripted_llm.py): the token swap, the record, the provider's usage in each of the
four wire formats, the dollar cap and the provider failures that stop a run as infrastructure."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from scripted_llm import USAGE_IN, USAGE_OUT, ScriptedLLM

from ptb.agent_runs import proxy

KEY = "sk-real-provider-key-" + "0123456789abcdef" * 2
PRICES = {"claude-x": {"input": 3.0, "output": 15.0}, "gpt-x": {"input": 1.25, "output": 10.0}}
SHELL = [{"name": "bash", "input_schema": {"type": "object", "properties": {"command": {"type": "string"}}}}]
# one request of each wire format the four CLIs speak: (path, headers' auth name, body)
FORMATS = {
    "anthropic": ("/v1/messages", "x-api-key", {"model": "claude-x", "stream": True, "messages": []}),
    "responses": ("/v1/responses", "authorization", {"model": "gpt-x", "stream": True, "input": []}),
    "chat": ("/v1/chat/completions", "authorization", {"model": "gpt-x", "stream": True, "messages": []}),
    "gemini": ("/v1beta/models/gemini-x:streamGenerateContent", "x-goog-api-key", {"contents": []}),
}


def auth(name: str, token: str) -> dict:
    return {name: f"Bearer {token}" if name == "authorization" else token}


def make(llm: ScriptedLLM, tmp_path, **settings) -> proxy.CredentialProxy:
    # no backoff unless a test asks for one: the timings below are the thresholds'
    settings["failures"] = {"backoff_seconds": 0, **settings.get("failures", {})}
    return proxy.CredentialProxy(
        upstream=llm.url, keys={"PROVIDER_KEY": KEY}, record=tmp_path / "api.jsonl", **settings
    )


def send(api: proxy.CredentialProxy, fmt: str, token: str | None = None) -> httpx.Response:
    path, header, body = FORMATS[fmt]
    token = token or api.agent_env["PROVIDER_KEY"]
    return httpx.post(api.base_url + path, json=body, headers=auth(header, token), timeout=30)


def records(tmp_path) -> list[dict]:
    return [json.loads(line) for line in (tmp_path / "api.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_the_provider_sees_the_key_the_agent_never_holds(tmp_path, fmt):
    with ScriptedLLM([]) as llm, make(llm, tmp_path, prices=PRICES) as api:
        token = api.agent_env["PROVIDER_KEY"]
        assert token.startswith("ptb-run-") and KEY not in json.dumps(api.agent_env)
        reply = send(api, fmt)
        assert reply.status_code == 200, reply.text
        [seen] = llm.requests
        header = FORMATS[fmt][1]
        sent = {k.lower(): v for k, v in seen["headers"].items()}[header]
        assert KEY in sent and token not in sent, "the proxy put the key in the token's place"
        summary = api.summary()
    assert KEY not in (tmp_path / "api.jsonl").read_text(), "the record holds no key"
    assert summary["tokens"]["input"] + summary["tokens"]["cached"] == USAGE_IN
    assert summary["tokens"]["output"] == USAGE_OUT
    assert summary["requests"] == 1 and summary["statuses"] == {"200": 1}


def test_a_request_without_the_runs_token_is_refused_and_never_forwarded(tmp_path):
    with ScriptedLLM([]) as llm, make(llm, tmp_path) as api:
        for token in ("sk-some-other-key", "ptb-run-" + "0" * 48, ""):
            assert send(api, "anthropic", token=token or "none").status_code == 401
        assert llm.requests == []
    assert [r["status"] for r in records(tmp_path)] == [401, 401, 401]


def test_tokens_and_cost_are_the_providers_and_the_models_both_recorded(tmp_path):
    with ScriptedLLM([]) as llm, make(llm, tmp_path, prices=PRICES, expected_model="claude-x") as api:
        for _ in range(3):
            send(api, "anthropic")
        send(api, "responses")
        summary = api.summary()
    claude = 3 * (USAGE_IN * 3.0 + USAGE_OUT * 15.0) / 1e6
    gpt = (USAGE_IN * 1.25 + USAGE_OUT * 10.0) / 1e6
    assert summary["cost_usd"] == pytest.approx(claude + gpt)
    assert summary["tokens"] == {
        "input": 4 * USAGE_IN,
        "cached": 0,
        "cache_write": 0,
        "output": 4 * USAGE_OUT,
    }
    assert summary["models_requested"] == {"claude-x": 3, "gpt-x": 1}
    assert summary["models_served"] == {"claude-x": 3, "gpt-x": 1}
    assert summary["served_other_model"] == ["gpt-x"]
    rows = records(tmp_path)
    assert [r["model_served"] for r in rows] == ["claude-x"] * 3 + ["gpt-x"]
    assert all(r["response"]["bytes"] > 0 and r["request"]["body"]["model"] for r in rows)


def test_a_model_served_under_another_name_is_named(tmp_path):
    """Gemini served gemini-3-pro-preview as gemini-3.1-pro-preview: the reply's model is kept."""
    with (
        ScriptedLLM([], serve_as="gemini-3.1-pro-preview") as llm,
        make(llm, tmp_path, expected_model="gemini-3-pro-preview") as api,
    ):
        send(api, "gemini")
        summary = api.summary()
    assert summary["models_requested"] == {"gemini-x": 1}
    assert summary["served_other_model"] == ["gemini-3.1-pro-preview"]
    assert summary["cost_usd"] is None and summary["unpriced_models"] == ["gemini-3.1-pro-preview"]


def test_a_dated_model_name_is_the_configured_model():
    assert proxy._same_model("claude-sonnet-4-5-20250929", "anthropic/claude-sonnet-4-5")
    assert not proxy._same_model("gemini-3.1-pro-preview", "gemini-3-pro-preview")


def test_the_dollar_cap_stops_the_run_and_refuses_what_follows(tmp_path):
    one = (USAGE_IN * 3.0 + USAGE_OUT * 15.0) / 1e6
    with ScriptedLLM([]) as llm, make(llm, tmp_path, prices=PRICES, max_cost_usd=1.5 * one) as api:
        send(api, "anthropic")
        assert api.stop_reason() is None
        send(api, "anthropic")
        kind, reason = api.stop_reason()
        assert kind == "cost_limit" and "passed the cap $0.01" in reason
        assert send(api, "anthropic").status_code == 429
        assert len(llm.requests) == 2, "nothing is forwarded past the cap"


@pytest.mark.parametrize(
    "status, failures, wait, expected",
    [
        (401, {}, 0, "the provider rejected the key (HTTP 401: internal error)"),
        (403, {}, 0, "the provider rejected the key (HTTP 403: internal error)"),
        (500, {"outage_seconds": 1}, 1.2, "an outage for"),
        (429, {"rate_limit_seconds": 1}, 1.2, "a sustained rate limit (429) for"),
    ],
)
def test_provider_failures_past_their_threshold_stop_the_run_as_infrastructure(
    tmp_path, status, failures, wait, expected
):
    with ScriptedLLM([], fail_status=status) as llm, make(llm, tmp_path, failures=failures) as api:
        assert send(api, "anthropic").status_code == status
        if wait:
            assert api.stop_reason() is None, "one failure is not yet an outage"
            time.sleep(wait)
            send(api, "anthropic")
        kind, reason = api.stop_reason()
    assert kind == "infra" and expected in reason


def test_a_success_resets_the_failure_clock(tmp_path):
    with (
        ScriptedLLM([], fail_status=429) as llm,
        make(llm, tmp_path, failures={"rate_limit_seconds": 2}) as api,
    ):
        send(api, "anthropic")
        time.sleep(1.2)
        llm.fail_status = None
        send(api, "anthropic")  # a success within the threshold
        llm.fail_status = 429
        send(api, "anthropic")
        time.sleep(1.2)  # 2.4 s after the first 429, 1.2 s after the last success
        assert api.stop_reason() is None


def test_an_unreachable_provider_is_an_outage(tmp_path):
    api = proxy.CredentialProxy(
        upstream="http://127.0.0.1:9",  # discard port: nothing listens
        keys={"PROVIDER_KEY": KEY},
        record=tmp_path / "api.jsonl",
        failures={"outage_seconds": 0.5, "backoff_seconds": 0},
    )
    with api:
        assert send(api, "anthropic").status_code == 502
        time.sleep(0.6)
        send(api, "anthropic")
        assert api.stop_reason()[0] == "infra"
    assert "ClientConnectorError" in records(tmp_path)[0]["error"]


def test_official_endpoints_by_scaffold():
    assert proxy.upstream_for("claude", "claude-opus-4-6", None) == "https://api.anthropic.com"
    assert proxy.upstream_for("codex", "gpt-5.3-codex", None) == "https://api.openai.com/v1"
    assert proxy.upstream_for("gemini", "gemini-2.5-pro", None) == "https://generativelanguage.googleapis.com"
    assert (
        proxy.upstream_for("opencode", "anthropic/claude-sonnet-4-6", None) == "https://api.anthropic.com/v1"
    )
    assert proxy.upstream_for("codex", None, "https://gateway.example/v1/") == "https://gateway.example/v1"
    assert proxy.upstream_for("opencode", "mystery/model", None) is None
    assert proxy.upstream_for("cheat", None, None) is None, "an offline scaffold: no proxy"


# --- loops on one error: backoff, the identical-error cap, cut and unreadable streams ------


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_a_context_length_loop_is_stopped_as_the_agents_error_naming_the_providers_words(tmp_path, fmt):
    """OpenCode sent 431 requests on a persistent context-length error, until the budget."""
    with (
        ScriptedLLM([], fault="context_length") as llm,
        make(llm, tmp_path, failures={"identical_errors": 3}) as api,
    ):
        for _ in range(2):
            assert send(api, fmt).status_code == 400
        assert api.stop_reason() is None, "two of the same error: not yet"
        assert send(api, fmt).status_code == 400
        kind, reason = api.stop_reason()
        assert send(api, fmt).status_code == 429, "once stopped, nothing more is forwarded"
        assert len(llm.requests) == 3
    assert kind == "provider_error" and "the same error 3 times in a row" in reason
    words = {"anthropic": "prompt is too long", "gemini": "input token count"}.get(fmt, "context")
    assert "HTTP 400: " in reason and words in reason, reason


def test_different_errors_or_a_success_between_do_not_count_as_the_same_error(tmp_path):
    with (
        ScriptedLLM([], fault="context_length") as llm,
        make(llm, tmp_path, failures={"identical_errors": 2}) as api,
    ):
        send(api, "anthropic")
        llm.fault = None
        send(api, "anthropic")  # a success between
        llm.fault = "context_length"
        send(api, "anthropic")
        send(api, "responses")  # another provider's words: another error
        assert api.stop_reason() is None
        send(api, "responses")
        assert api.stop_reason()[0] == "provider_error"


def test_backoff_doubles_after_each_failure_and_a_success_resets_it(tmp_path):
    failures = {"backoff_seconds": 0.2, "backoff_max_seconds": 0.5, "identical_errors": 99}
    with ScriptedLLM([], fail_status=500) as llm, make(llm, tmp_path, failures=failures) as api:
        started = time.monotonic()
        for _ in range(4):  # waits 0, 0.2, 0.4, 0.5 (capped)
            send(api, "anthropic")
        took = time.monotonic() - started
        llm.fail_status = None
        send(api, "anthropic")  # waits 0.5, succeeds
        assert api.backoff_seconds() == 0.0
    assert 1.1 <= took < 2.5, took
    waits = [r.get("backoff_seconds", 0) for r in records(tmp_path)]
    assert waits == [0, 0.2, 0.4, 0.5, 0.5]


def test_a_stream_cut_mid_way_is_a_failure_and_the_client_sees_the_cut(tmp_path):
    with (
        ScriptedLLM([], fault="disconnect") as llm,
        make(llm, tmp_path, failures={"identical_errors": 2, "outage_seconds": 600}) as api,
    ):
        for _ in range(2):
            with pytest.raises(httpx.HTTPError):  # the proxy passes the cut on, not a clean end
                send(api, "anthropic").read()
        kind, reason = api.stop_reason()
    assert kind == "infra" and "stream cut" in reason, reason
    assert all(r["status"] == 200 and "stream cut" in r["failure"] for r in records(tmp_path))


def test_an_unreadable_reply_is_a_failure(tmp_path):
    with (
        ScriptedLLM([], fault="malformed") as llm,
        make(llm, tmp_path, failures={"identical_errors": 2}) as api,
    ):
        assert send(api, "responses").status_code == 200
        assert api.backoff_seconds() == 0.0  # backoff_seconds 0 in these tests; the count still grows
        assert api.summary()["failures_in_a_row"] == 1
        send(api, "responses")
        kind, reason = api.stop_reason()
    assert kind == "infra" and "a reply no wire format can read" in reason


def test_a_slow_stream_is_no_failure(tmp_path):
    with ScriptedLLM([], fault="slow", slow_seconds=0.1) as llm, make(llm, tmp_path) as api:
        reply = send(api, "anthropic")
        assert reply.status_code == 200 and "message_stop" in reply.text
        summary = api.summary()
    assert summary["failures_in_a_row"] == 0 and summary["tokens"]["output"] == USAGE_OUT


def test_an_agent_hanging_up_mid_reply_is_no_provider_failure(tmp_path):
    """The agent closes its connection after the first chunk (it had its answer, or gave up): the
    proxy's write fails on the closing socket, but the provider answered in full; the exchange is
    accounted, never counted as the provider's failure (a CI run once retried a finished run)."""
    with ScriptedLLM([], fault="slow", slow_seconds=0.2) as llm, make(llm, tmp_path) as api:
        path, header, body = FORMATS["anthropic"]
        token = api.agent_env["PROVIDER_KEY"]
        for _ in range(3):
            with httpx.stream(
                "POST", api.base_url + path, json=body, headers=auth(header, token), timeout=30
            ) as reply:
                next(reply.iter_raw())  # one chunk, then hang up
        deadline = time.time() + 10
        while len(records(tmp_path)) < 3 and time.time() < deadline:
            time.sleep(0.1)
        summary, stop = api.summary(), api.stop_reason()
    assert stop is None and summary["failures_in_a_row"] == 0, summary
    assert [r["status"] for r in records(tmp_path)] == [200, 200, 200]
    assert not any(r.get("failure") for r in records(tmp_path))
