"""The production path: an entry with no base_url, so the run's credential proxy forwards each
CLI's requests to its provider's official endpoint (ptb.agent_runs.proxy.upstream_for) over
TLS. The official host names resolve to the scripted server here (a test CA, made with openssl
at test time, trusted by the proxy's HTTPS client; the names mapped to 127.0.0.1 in this
process, where the proxy runs): what it records is what api.anthropic.com, api.openai.com and
generativelanguage.googleapis.com would receive from a real run: path, host, real key, model.
The CLI itself talks to the proxy in its box, as in production (it never holds the key).
"""

from __future__ import annotations

import json
import socket
import ssl
import subprocess

import aiohttp.connector
import pytest
from scripted_llm import ScriptedLLM
from test_real_cli_faults import cli_cell, run_side_by_side
from test_real_clis import ENTRY, FIND_KEY_REL, KEYS, TRAIN_REL

from ptb.agent_runs import proxy
from ptb.core import outcomes

HOSTS = ("api.anthropic.com", "api.openai.com", "generativelanguage.googleapis.com")
# what each official endpoint must receive (path without the query, the key's header)
EXPECTED = {
    "claude": ("api.anthropic.com", "/v1/messages", "x-api-key", KEYS["ANTHROPIC_API_KEY"]),
    "codex": ("api.openai.com", "/v1/responses", "authorization", f"Bearer {KEYS['OPENAI_API_KEY']}"),
    "gemini": (
        "generativelanguage.googleapis.com",
        "/v1beta/models/gemini-2.5-pro:streamGenerateContent",
        "x-goog-api-key",
        KEYS["GEMINI_API_KEY"],
    ),
    "opencode": ("api.anthropic.com", "/v1/messages", "x-api-key", KEYS["ANTHROPIC_API_KEY"]),
}


def make_certificates(folder) -> tuple[str, str, str]:
    """(CA, certificate, key): a throwaway CA and a certificate for the three official hosts."""

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True, timeout=60)

    new_key = ("-newkey", "rsa:2048", "-nodes", "-days", "1")
    openssl("req", "-x509", *new_key, "-keyout", "ca.key", "-out", "ca.pem", "-subj", "/CN=ptb test CA")
    openssl("req", *new_key[:3], "-keyout", "host.key", "-out", "host.csr", "-subj", f"/CN={HOSTS[0]}")
    (folder / "san.ext").write_text("subjectAltName=" + ",".join(f"DNS:{host}" for host in HOSTS) + "\n")
    openssl(
        *("x509", "-req", "-in", "host.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial"),
        *("-out", "host.pem", "-days", "1", "-extfile", "san.ext"),
    )
    return str(folder / "ca.pem"), str(folder / "host.pem"), str(folder / "host.key")


@pytest.fixture(scope="module")
def certificates(tmp_path_factory):
    return make_certificates(tmp_path_factory.mktemp("certificates"))


@pytest.fixture(scope="module")
def production_runs(tmp_path_factory, certificates):
    root = tmp_path_factory.mktemp("production-path")
    ca, certificate, key = certificates
    with ScriptedLLM(["cat prompt.md"], tls=(certificate, key)) as llm, pytest.MonkeyPatch.context() as patch:
        resolve = socket.getaddrinfo

        def official_hosts_here(host, port, *args, **kwargs):
            if host in HOSTS:  # as a hosts entry would: the official name, this machine's server
                return resolve("127.0.0.1", llm.port, *args, **kwargs)
            return resolve(host, port, *args, **kwargs)

        patch.setattr(socket, "getaddrinfo", official_hosts_here)
        # the proxy's HTTPS client verifies against the system's CAs and the test CA
        trusted = ssl.create_default_context(cafile=ca)
        patch.setattr(aiohttp.connector, "_SSL_CONTEXT_VERIFIED", trusted)
        agents = {
            f"{cli}-official": {**ENTRY[cli], "scaffold": cli, "box_read_only": [TRAIN_REL, FIND_KEY_REL]}
            for cli in EXPECTED
        }
        with cli_cell(root):
            results = run_side_by_side(root, agents)
    (root / "results.json").write_text(json.dumps(results, indent=1, default=str))
    return results, llm.requests


@pytest.mark.parametrize("cli", sorted(EXPECTED))
def test_the_official_endpoint_gets_the_path_host_and_real_key(production_runs, cli):
    results, requests = production_runs
    result = results[f"{cli}-official"]
    assert result.get("outcome") == outcomes.NO_MODEL, result  # the script: cat prompt.md, then done
    host, path, header, value = EXPECTED[cli]
    assert result["api"]["upstream"] == proxy.upstream_for(cli, ENTRY[cli]["llm"], None)
    assert result["api"]["upstream"].startswith(f"https://{host}")
    model = ENTRY[cli]["llm"].split("/")[-1]
    mine = [r for r in requests if r.get("api") and model in json.dumps(r["body"]) + r["path"]]
    assert mine, f"{cli}: nothing reached {host}"
    for request in mine:
        headers = {k.lower(): v for k, v in request["headers"].items()}
        assert request["path"].split("?")[0] == path
        assert headers["host"] == host, "the provider's own name, verified against its certificate"
        assert headers[header] == value, "the real key, in the provider's own header"
        assert "ptb-run-" not in json.dumps(headers), "no run token reaches the provider"
    assert result["api"]["models_served"] == {model: result["api"]["requests"]}


def test_the_proxy_verifies_the_providers_certificate(tmp_path, certificates):
    """The check above is not vacuous: without the test CA, the same host name and server fail
    the TLS verification, and nothing is forwarded."""
    import httpx  # noqa: PLC0415

    _, certificate, key = certificates
    with ScriptedLLM([], tls=(certificate, key)) as llm, pytest.MonkeyPatch.context() as patch:
        resolve = socket.getaddrinfo
        patch.setattr(
            socket,
            "getaddrinfo",
            lambda host, port, *a, **k: (
                resolve("127.0.0.1", llm.port, *a, **k) if host in HOSTS else resolve(host, port, *a, **k)
            ),
        )
        api = proxy.CredentialProxy(
            upstream=proxy.upstream_for("claude", None, None),
            keys={"ANTHROPIC_API_KEY": KEYS["ANTHROPIC_API_KEY"]},
            record=tmp_path / "api.jsonl",
        )
        with api:
            reply = httpx.post(
                api.base_url + "/v1/messages",
                json={"model": "claude-opus-4-6", "messages": []},
                headers={"x-api-key": api.agent_env["ANTHROPIC_API_KEY"]},
                timeout=30,
            )
        assert reply.status_code == 502 and llm.requests == []
    [record] = [json.loads(line) for line in (tmp_path / "api.jsonl").read_text().splitlines()]
    assert "certificate verify failed" in record["error"], record["error"]
