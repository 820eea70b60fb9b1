"""The judge: is an agent run admissible?

`review` runs the deterministic checks (tamper, model_identity, contamination, secrets)
and, if configured, the LLM judge, then applies the policy in `settings["disqualify"]`.
Everything it trusts comes from its arguments (recorded by the workflow outside the job
dir); nothing the agent wrote, such as a planted verdict.json, is read as a verdict.
"""

from __future__ import annotations

import traceback
from pathlib import Path

from ptb.judge import contamination, llm_judge, model_identity, tamper
from ptb.judge import secrets as secret_scan  # review's `secrets` argument would shadow the module
from ptb.judge.common import result

JUDGE_VERSION = "1"
REDACTED = "[secret]"
DETERMINISTIC = ("tamper", "model_identity", "contamination", "secrets")
DEFAULTS = {
    "ngram": 13,
    "contamination_tolerance": 2,  # test items allowed to share an n-gram (chance overlaps)
    "min_words": 3,  # test texts shorter than this are not compared
    "identity_max_distance": 0.5,  # mean relative L2 distance to the base model
    "disqualify": list(DETERMINISTIC),
    # {model, votes: 3, prompt_version: v1, max_trace_chars: 60000, temperature: 1.0, model_args: {}}
    "llm": None,
}


def effective_settings(settings: dict | None) -> dict:
    """Defaults overlaid with the config's `judge:` (keys not used here, e.g. `version`, pass through)."""
    merged = {**DEFAULTS, **(settings or {})}
    for key, value in DEFAULTS.items():
        if merged[key] is None:
            merged[key] = value
    return merged


def _run(name: str, fn) -> dict:
    """A crashed check is a judge error with its traceback, never a pass nor a disqualification."""
    try:
        return fn()
    except Exception as err:  # noqa: BLE001
        out = result(
            name,
            False,
            f"check crashed: {type(err).__name__}: {err}"[:300],
            traceback=traceback.format_exc()[-2000:],
        )
        out["error"] = f"{name}: {type(err).__name__}: {err}"[:500]
        return out


def decide(checks: list[dict], disqualify: list[str]) -> dict:
    """Policy: a failed check named in `disqualify` disqualifies; otherwise an errored check is a
    judge error."""
    reasons = [
        f"{c['name']}: {c['summary']}"
        for c in checks
        if not c["passed"] and "error" not in c and c["name"] in disqualify
    ]
    errors = [c["error"] for c in checks if "error" in c]
    if reasons:
        outcome = "disqualified"
    elif errors:
        outcome, reasons = "judge_error", errors
    else:
        outcome = "clean"
    return {"disqualified": outcome == "disqualified", "reasons": reasons, "outcome": outcome}


def review(
    *,
    job_dir,
    handout,
    final_model_dir,
    base_model_dir,
    disallowed_models,
    test_texts,
    secrets,
    run_dir,
    settings,
) -> dict:
    s = effective_settings(settings)
    job_dir, run_dir = Path(job_dir), Path(run_dir)
    checks = [
        _run("tamper", lambda: tamper.check(job_dir, handout)),
        _run(
            "model_identity",
            lambda: model_identity.check(
                final_model_dir,
                base_model_dir,
                disallowed_models or {},
                max_distance=s["identity_max_distance"],
            ),
        ),
        _run(
            "contamination",
            lambda: contamination.check(
                job_dir,
                list(test_texts),
                handout=handout,
                n=s["ngram"],
                tolerance=s["contamination_tolerance"],
                min_words=s["min_words"],
            ),
        ),
        _run("secrets", lambda: secret_scan.check(run_dir, list(secrets or []))),
    ]
    if s["llm"]:
        checks.append(
            _run(llm_judge.NAME, lambda: llm_judge.check(run_dir, job_dir, s["llm"], redact=secrets))
        )
    verdict = {"judge_version": JUDGE_VERSION, "checks": checks, **decide(checks, s["disqualify"])}
    # a key can sit in a file name, a trace line or an error message: none may reach the verdict
    return redact(verdict, secrets or [])


def redact(value, secrets: list[str]):
    if isinstance(value, str):
        for secret in secrets:
            if secret:
                value = value.replace(secret, REDACTED)
        return value
    if isinstance(value, dict):
        return {redact(k, secrets): redact(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v, secrets) for v in value]
    return value
