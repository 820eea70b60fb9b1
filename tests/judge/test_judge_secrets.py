"""secrets: the runner's redaction record and the run's files, with the key in common encodings."""

import base64
import json
import urllib.parse

import pytest
from judge_helpers import check

from ptb.core import redaction
from ptb.judge import secrets

KEY = "sk-test-0123456789abcdef"
ENCODED = {
    "plain": KEY,
    "base64": base64.b64encode(f"token={KEY}".encode()).decode(),  # not aligned with the key
    "base64url": base64.urlsafe_b64encode(f"k:{KEY}!".encode()).decode(),
    "hex": KEY.encode().hex(),
    "url": urllib.parse.quote(KEY + "/?", safe=""),
    "split_lines": f'KEY = (\n    "{KEY[:9]}"\n    "{KEY[9:]}"\n)',
}


def test_clean_run_passes(run):
    result = check(run.review(), "secrets")
    assert result["passed"] and result["evidence"]["files_scanned"] > 5


@pytest.mark.parametrize("encoding", sorted(ENCODED))
def test_key_in_any_encoding_is_found_and_never_repeated(run, encoding):
    run.write("notes/out.txt", f"debug: {ENCODED[encoding]}\n")
    verdict = run.review()
    result = check(verdict, "secrets")
    assert not result["passed"] and result["evidence"]["leaks"][0]["file"] == "job/notes/out.txt"
    assert result["evidence"]["leaks"][0]["variable"] == "PTB_TEST_API_KEY"
    assert KEY not in json.dumps(verdict) and verdict["outcome"] == "disqualified"


@pytest.mark.parametrize("encoding", sorted(ENCODED))
def test_redaction_removes_every_encoding_and_records_it(tmp_path, encoding):
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "f").write_text("before " + ENCODED[encoding] + " after")
    record = redaction.redact_tree(tmp_path, {"PTB_TEST_API_KEY": KEY})
    assert [(r["file"], r["variable"]) for r in record] == [("home/f", "PTB_TEST_API_KEY")]
    start = ENCODED[encoding].index(KEY[:4]) if encoding == "split_lines" else 0
    assert record[0]["offset"] == len("before ") + start or encoding.startswith("base64")
    text = (tmp_path / "home" / "f").read_text()
    assert redaction.MARKER in text and not redaction.Needles({"k": KEY}).find(text.encode())
    assert KEY not in json.dumps(record)


def test_a_redacted_leak_is_still_a_finding(run):
    # the runner replaced the key before the judge ran: its record is the evidence
    run.write("notes/env.txt", f"OPENAI_API_KEY={redaction.MARKER}\n")
    run.redactions = [
        {"file": "job/notes/env.txt", "offset": 15, "variable": "PTB_TEST_API_KEY", "encoding": "plain"}
    ]
    verdict = run.review()
    result = check(verdict, "secrets")
    assert not result["passed"] and result["evidence"]["redacted"] == run.redactions
    assert verdict["outcome"] == "disqualified"


def test_key_in_a_binary_file_outside_the_job_dir(run):
    (run.run_dir / "home").mkdir()
    (run.run_dir / "home" / "cache.bin").write_bytes(b"\x00\xff" * 100 + KEY.encode() + b"\x00")
    assert check(run.review(), "secrets")["evidence"]["leaks"][0]["file"] == "home/cache.bin"


def test_key_across_a_chunk_boundary(tmp_path, monkeypatch):
    monkeypatch.setattr(secrets, "CHUNK", 7)
    (tmp_path / "f").write_bytes(b"xxxxx" + b"secret-value-123" + b"yyyy")
    assert not secrets.check(tmp_path, {"K": "secret-value-123"}, [])["passed"]
    assert secrets.check(tmp_path, {"K": "other-value-456"}, [])["passed"]


def test_key_in_a_file_name_is_found_and_redacted(run):
    run.write(f"{KEY}.txt", "hello")
    verdict = run.review()
    assert check(verdict, "secrets")["evidence"]["leaks"][0]["file"] == f"job/{redaction.MARKER}.txt"
    assert KEY not in json.dumps(verdict)


def test_no_secrets_configured(run):
    run.secrets = {}
    assert check(run.review(), "secrets")["passed"]


def test_known_secrets_take_names_and_skip_short_values():
    environ = {
        "A_KEY": "long-enough-value",
        "SHORT": "x",
        "OTHER_API_KEY": "another-long-value",
        "PATH": "/bin",
    }
    assert redaction.known_secrets(["A_KEY", "SHORT"], environ) == {
        "A_KEY": "long-enough-value",
        "OTHER_API_KEY": "another-long-value",
    }
    assert redaction.secret_names({"a": {"env": ["B", "A"]}, "b": {}}) == ["A", "B"]
