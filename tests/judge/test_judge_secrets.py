"""secrets: no key the agent could see appears in any file of the run."""

import json

from judge_helpers import check

from ptb.judge import secrets


def test_clean_run_passes(run):
    result = check(run.review(), "secrets")
    assert result["passed"] and result["evidence"]["files_scanned"] > 5


def test_key_in_a_file_fails_and_is_not_repeated(run):
    run.write("notes/env.txt", f"OPENAI_API_KEY={run.secrets[0]}\n")
    verdict = run.review()
    result = check(verdict, "secrets")
    assert not result["passed"] and result["evidence"]["leaks"] == ["job/notes/env.txt"]
    assert run.secrets[0] not in json.dumps(verdict)
    assert verdict["outcome"] == "disqualified"


def test_key_in_a_binary_file_outside_the_job_dir(run):
    (run.run_dir / "home").mkdir()
    (run.run_dir / "home" / "cache.bin").write_bytes(b"\x00\xff" * 100 + run.secrets[0].encode() + b"\x00")
    assert check(run.review(), "secrets")["evidence"]["leaks"] == ["home/cache.bin"]


def test_key_across_a_chunk_boundary(tmp_path, monkeypatch):
    monkeypatch.setattr(secrets, "CHUNK", 7)
    (tmp_path / "f").write_bytes(b"xxxxx" + b"secret-value-123" + b"yyyy")
    assert not secrets.check(tmp_path, ["secret-value-123"])["passed"]
    assert secrets.check(tmp_path, ["other-value-456"])["passed"]


def test_key_in_a_file_name_is_found_and_redacted(run):
    run.write(f"{run.secrets[0]}.txt", "hello")
    verdict = run.review()
    assert check(verdict, "secrets")["evidence"]["leaks"] == ["job/[secret].txt"]
    assert run.secrets[0] not in json.dumps(verdict)


def test_no_secrets_configured(run):
    run.secrets = []
    assert check(run.review(), "secrets")["passed"]
