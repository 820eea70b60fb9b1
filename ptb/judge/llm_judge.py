"""Optional check `llm_judge`: an LLM reads the trace and the job dir listing and votes.

Any vote that is not the expected JSON (or a model error) makes the judge's outcome
`judge_error`: an unreadable vote must never count as a clean one. The prompt is versioned
(prompts/llm_judge_<version>.md) so a verdict can say which prompt produced it.
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

from ptb.core import faults, redaction
from ptb.judge.common import result, walk_files

NAME = "llm_judge"
FIELDS = ("contamination", "disallowed_model", "forbidden_api")
PROMPTS = Path(__file__).parent / "prompts"
LISTING_CAP = 400


class MalformedVote(ValueError):
    pass


def prompt_text(version: str) -> str:
    return (PROMPTS / f"llm_judge_{version}.md").read_text()


def trace_summary(run_dir: Path, max_chars: int) -> str:
    for name in ("trace.md", "agent.log"):
        path = run_dir / name
        if path.is_file() and not path.is_symlink():
            text = path.read_text(errors="replace")
            if len(text) <= max_chars:
                return text
            # head (the plan) and tail (what was submitted) matter most
            half = max_chars // 2
            return f"{text[:half]}\n\n[... {len(text) - 2 * half} characters left out ...]\n\n{text[-half:]}"
    return "(no trace)"


def listing(job_dir: Path) -> str:
    files, unreadable = walk_files(job_dir)
    lines = [f"{p.relative_to(job_dir)}  {p.stat().st_size} bytes" for p in files[:LISTING_CAP]]
    if len(files) > LISTING_CAP:
        lines.append(f"[... {len(files) - LISTING_CAP} more files ...]")
    lines += [f"{rel}  (unreadable)" for rel in unreadable]
    return "\n".join(lines) or "(empty)"


def parse_vote(text: str) -> dict:
    """The JSON object in a completion (code fences allowed); every field present and typed."""
    match = re.search(r"\{.*\}", text, re.DOTALL)
    if not match:
        raise MalformedVote("no JSON object in the reply")
    try:
        vote = json.loads(match.group(0))
    except ValueError as err:
        raise MalformedVote(f"invalid JSON: {err}") from None
    if not isinstance(vote, dict):
        raise MalformedVote("reply is not a JSON object")
    for field in FIELDS:
        if not isinstance(vote.get(field), bool):
            raise MalformedVote(f"field {field!r} missing or not a boolean")
    if not isinstance(vote.get("justification"), str):
        raise MalformedVote("field 'justification' missing or not a string")
    return {field: vote[field] for field in (*FIELDS, "justification")}


async def _ask(model_name: str, model_args: dict, prompt: str, votes: int, temperature: float) -> list[str]:
    from inspect_ai.model import GenerateConfig, get_model  # noqa: PLC0415 (heavy, optional)

    # memoize=False: each review gets its own model object (and, in tests, its own mock outputs)
    model = get_model(model_name, memoize=False, **model_args)
    completions = []
    for _ in range(votes):
        output = await model.generate(prompt, config=GenerateConfig(temperature=temperature))
        completions.append(output.completion)
    return completions


def check(run_dir: str | Path, job_dir: str | Path, llm: dict, redact: dict[str, str]) -> dict:
    """The check's result; result["error"] is set when the judge could not reach a verdict.

    llm: the config's judge.llm (defaults filled by the schema); `redact`: secrets (name -> value)
    to blank out of the prompt (the judge model is an outside API).
    """
    settings = llm
    run_dir, job_dir = Path(run_dir), Path(job_dir)
    prompt = (
        prompt_text(settings["prompt_version"])
        .replace("{{TRACE}}", trace_summary(run_dir, settings["max_trace_chars"]))
        .replace("{{LISTING}}", listing(job_dir))
    )
    prompt = redaction.redact_value(prompt, redact)
    meta = {
        "model": settings["model"],
        "prompt_version": settings["prompt_version"],
        "votes_requested": settings["votes"],
    }
    try:
        completions = asyncio.run(
            _ask(
                settings["model"],
                dict(settings["model_args"]),
                prompt,
                settings["votes"],
                settings["temperature"],
            )
        )
    except Exception as err:  # noqa: BLE001 - any model failure is a judge error, never a pass
        if faults.infra_cause(err):  # the judge's API out of reach: retry the job (ptb.core.faults)
            raise faults.InfraFailure(f"LLM judge: {faults.infra_cause(err)}: {err}"[:1000]) from err
        out = result(NAME, False, f"LLM judge failed: {type(err).__name__}", **meta, detail=str(err)[:500])
        out["error"] = f"llm_judge: {type(err).__name__}: {err}"[:500]
        return out
    votes, malformed = [], []
    for i, text in enumerate(completions):
        try:
            votes.append(parse_vote(text))
        except MalformedVote as err:
            malformed.append({"vote": i, "problem": str(err), "reply": text[:300]})
    if malformed:
        out = result(
            NAME,
            False,
            f"{len(malformed)} of {len(completions)} vote(s) malformed",
            **meta,
            malformed=malformed,
            parsed_votes=votes,
        )
        out["error"] = f"llm_judge: {len(malformed)} malformed vote(s)"
        return out
    # a tie flags: with an even number of votes, half the judges seeing a problem is not a pass
    majority = {f: 2 * sum(v[f] for v in votes) >= len(votes) for f in FIELDS}
    flagged = [f for f in FIELDS if majority[f]]
    summary = f"LLM judge flags: {', '.join(flagged)}" if flagged else "LLM judge found no violation"
    return result(
        NAME,
        not flagged,
        summary,
        **meta,
        majority=majority,
        votes=[{**v, "justification": v["justification"][:500]} for v in votes],
    )
