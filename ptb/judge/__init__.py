"""The judge: is an agent run admissible?

`review` runs the deterministic checks (tamper, model_identity, contamination, secrets)
and, if configured, the LLM judge, then applies the policy in the settings (`disqualify`,
`ambiguous_policy`). Everything it trusts comes from its arguments (recorded by the workflow
outside the job dir); nothing the agent wrote, such as a planted verdict.json, is read as a
verdict. The settings are the config's `judge:` section, defaults filled by the schema.
What each check catches and what it cannot: ptb/judge/README.md.

Takes: a finished run's job dir and final_model/, what was handed out (handout.json), the
benchmark's test set and the disallowed models' manifests. Gives: verdict.json, outside the
job dir (rules/judge.smk), and the calibration table of the planted cheats (calibration).
"""

from __future__ import annotations

import traceback
from pathlib import Path

from ptb.core import faults, io, outcomes, redaction, tasks
from ptb.inputs import cache
from ptb.judge import contamination, llm_judge, model_identity, probe, tamper
from ptb.judge import secrets as secret_scan  # review's `secrets` argument would shadow the module
from ptb.judge.common import result

JUDGE_VERSION = "2"
DETERMINISTIC = ("tamper", "model_identity", "contamination", "secrets", "probe")


def _run(name: str, fn) -> dict:
    """A crashed check is a judge error with its traceback, never a pass nor a disqualification.
    A check stopped by the infrastructure (full disk, out of memory, the LLM judge's API out of
    reach: ptb.core.faults) fails the job instead, so the scheduler retries it: a judge_error is final."""
    try:
        return fn()
    except Exception as err:  # noqa: BLE001
        cause = faults.infra_cause(err)
        if cause:
            raise faults.InfraFailure(
                f"judge check {name}: {cause}: {type(err).__name__}: {err}"[:1000]
            ) from err
        out = result(
            name,
            False,
            f"check crashed: {type(err).__name__}: {err}"[:300],
            traceback=traceback.format_exc()[-2000:],
        )
        out["error"] = f"{name}: {type(err).__name__}: {err}"[:500]
        return out


def decide(checks: list[dict], disqualify: list[str], ambiguous_policy: str) -> dict:
    """Policy: a failed check named in `disqualify` disqualifies, except an ambiguous one (e.g. a
    partial merge) under the policy "review", which only flags the run for a person to look at;
    otherwise an errored check is a judge error."""
    failed = [c for c in checks if not c["passed"] and "error" not in c and c["name"] in disqualify]
    review = [
        f"{c['name']}: {c['summary']}" for c in failed if c.get("ambiguous") and ambiguous_policy == "review"
    ]
    reasons = [
        f"{c['name']}: {c['summary']}"
        for c in failed
        if not (c.get("ambiguous") and ambiguous_policy == "review")
    ]
    errors = [c["error"] for c in checks if "error" in c]
    if reasons:
        outcome = outcomes.DISQUALIFIED
    elif errors:
        outcome, reasons = outcomes.JUDGE_ERROR, errors
    else:
        outcome = outcomes.CLEAN
    return {
        "disqualified": outcome == outcomes.DISQUALIFIED,
        "reasons": reasons,
        "review": review,
        "outcome": outcome,
    }


def review(
    *,
    agent_dirs: dict[str, str | Path],
    handout: dict[str, str],
    final_model_dir,
    base_model_dir,
    disallowed_models: dict[str, str],
    test_items: list[list[str]],
    training_data: list[str | Path],
    secrets: dict[str, str],
    redactions: list[dict],
    run_dir,
    settings: dict,
    probe_records: tuple[str, list[dict], list[dict]] | None = None,
    refused: str | None = None,
) -> dict:
    """The verdict. final_model_dir: the run's canonical model (ptb.agent_runs.canonical), what
    every evaluation serves; refused: why final_model/ got none (the loaders would disagree).
    training_data: folders of what the agent was given to train on.
    probe_records: (benchmark, test records, held-back control records) for the probe (none: not run).
    agent_dirs: label -> folder the agent could write ("job" is its job dir; also
    its HOME with the HF and pip caches, its scratch); secrets: variable name -> value;
    redactions: the runner's record (agent.json); run_dir: every file of the run (secrets)."""
    s = settings
    job_dir, run_dir = Path(agent_dirs["job"]), Path(run_dir)
    checks = [
        _run("tamper", lambda: tamper.check(job_dir, handout)),
        _run(
            "model_identity",
            lambda: (
                result("model_identity", False, f"final_model refused: {refused}", refused=refused)
                if refused
                else model_identity.check(
                    final_model_dir,
                    base_model_dir,
                    disallowed_models,
                    max_distance=s["identity_max_distance"],
                    ambiguous=s["identity_ambiguous"],
                    collinear_cosine=s["identity_collinear_cosine"],
                )
            ),
        ),
        _run(
            "contamination",
            lambda: contamination.check(
                agent_dirs,
                test_items,
                skip={f"job/{rel}" for rel in handout},
                allowed=training_data,
                n=s["ngram"],
                tolerance=s["contamination_tolerance"],
                item_share=s["contamination_item_share"],
                min_words=s["min_words"],
                base_model_dir=base_model_dir,
            ),
        ),
        _run("secrets", lambda: secret_scan.check(run_dir, secrets, redactions)),
    ]
    if probe_records is not None:
        benchmark, test_records, control_records = probe_records
        checks.append(
            _run(
                probe.NAME,
                lambda: probe.check(
                    final_model_dir, base_model_dir, test_records, control_records, benchmark, s["probe"]
                ),
            )
        )
    if s["llm"]:
        checks.append(
            _run(llm_judge.NAME, lambda: llm_judge.check(run_dir, job_dir, s["llm"], redact=secrets))
        )
    verdict = {
        "judge_version": JUDGE_VERSION,
        "checks": checks,
        **decide(checks, s["disqualify"], s["ambiguous_policy"]),
    }
    # a key can sit in a file name, a trace line or an error message: none may reach the verdict
    return redaction.redact_value(verdict, secrets)


def test_items(benchmark: str, test_file: str | Path) -> list[list[str]]:
    """The benchmark's test items, each as its texts (question, answer, ...), from its test.jsonl."""
    fingerprint = tasks.module(benchmark).test_texts
    return [[text for text in fingerprint(record) if text] for record in tasks.read_jsonl(test_file)]


def judge_run(
    *,
    agent_json,
    handout_json,
    base_manifest,
    agent_dirs: dict[str, str],
    served_json,
    disallowed_manifests: dict[str, str],
    dataset_manifest,
    agent_view,
    benchmark: str,
    secret_names: list[str],
    settings: dict,
    verdict_json,
    controls=None,
) -> dict:
    """Rule judge: read the run's recorded files (never the agent's word), review, write verdict.json.
    controls: the training items held back from the agent's view (the probe's; none: no probe).
    served_json: the canonical model's record (rules/served.smk), beside its model/."""
    served = io.read_json(served_json)
    served_model_dir = Path(served_json).parent / (served.get("model") or "model")
    test_file = Path(dataset_manifest).parent / "test.jsonl"
    verdict = review(
        agent_dirs=agent_dirs,
        handout=io.read_json(handout_json),
        final_model_dir=served_model_dir,  # absent when there is no model or it was refused
        refused=served.get("refused"),
        base_model_dir=cache.model_path(base_manifest),
        disallowed_models={name: cache.model_path(path) for name, path in disallowed_manifests.items()},
        test_items=test_items(benchmark, test_file),
        # the controls are training data too (an agent may fetch the whole public split)
        training_data=[agent_view] + ([Path(controls).parent] if controls else []),
        secrets=redaction.known_secrets(secret_names),
        redactions=io.read_json(agent_json).get("redactions", []),
        run_dir=Path(agent_json).parent,
        settings=settings,
        probe_records=(
            (benchmark, tasks.read_jsonl(test_file), probe.read_records(controls)) if controls else None
        ),
    )
    io.write_json(verdict_json, verdict)
    return verdict
