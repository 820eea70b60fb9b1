"""Evaluation protocols: the rules a score was measured under.

A protocol names everything that moves a number: prompts, chat templates, generation limits,
sampling, answer extraction, scoring, what an errored sample does, and the benchmark weights.
The config key `protocol` picks one for the whole workflow; metrics.json, the leaderboard and
the report name it beside every number, and the leaderboard refuses to average scores measured
under different protocols.

- `posttrainbench-v1` (the default) reproduces PostTrainBench v1 as published, its bugs included,
  so that a score can stand next to the published table (docs/posttrainbench-v1.md lists every
  departure that remains, with the test that shows it harmless).
- `posttrainbench-v1-corrected` keeps v1's data, prompts, templates and limits but fixes what we
  judge to be bugs in v1 (each named in docs/posttrainbench-v1.md): seeded greedy decoding instead
  of whatever the model folder's generation_config.json asks for, answer extraction that reads the
  reply's final answer, and an errored sample scored 0 instead of failing the eval.

Where each part lives: the chat templates (ptb.core.chat_templates), the requests' sampling
(ptb.evaluation.sampling), what an errored sample does (ON_SAMPLE_ERROR, applied by
ptb.evaluation.evaluation), the weights (leaderboard `weights: published`), and the prompts
and scoring of each task: a task whose scoring differs between protocols takes a `protocol`
argument, which ptb.core.tasks.load_task passes (ptb.evaluation.answers holds the shared v1 and
corrected rules).
"""

from __future__ import annotations

import json
from pathlib import Path

POSTTRAINBENCH_V1 = "posttrainbench-v1"
CORRECTED = "posttrainbench-v1-corrected"
DEFAULT = POSTTRAINBENCH_V1
PROTOCOLS = {
    POSTTRAINBENCH_V1: "PostTrainBench v1 as published (its scoring bugs reproduced)",
    CORRECTED: "PostTrainBench v1 with its scoring bugs fixed and seeded greedy decoding",
}
REFERENCE_DIR = Path(__file__).resolve().parent / "reference"  # the published v1 data
FACTORS_FILE = REFERENCE_DIR / "posttrainbench_v1_factors.json"

# What an errored sample does to its eval (inspect records a sample error when generation or
# scoring raised). PostTrainBench's evaluate.py runs inspect with its default fail_on_error, so
# one error fails the eval and no metrics.json is written (run_task.sh then retries).
FAIL_EVAL = "fail_eval"
SCORE_ZERO = "score_zero"
ON_SAMPLE_ERROR = {POSTTRAINBENCH_V1: FAIL_EVAL, CORRECTED: SCORE_ZERO}


def check(name: str) -> str:
    """The protocol name, or a ValueError naming the allowed ones."""
    if name not in PROTOCOLS:
        raise ValueError(f"protocol: unknown {name!r}; allowed: {', '.join(PROTOCOLS)}")
    return name


def published_factors() -> dict[str, float]:
    """PostTrainBench v1's benchmark weights (scripts/factors.json), as published."""
    return json.loads(FACTORS_FILE.read_text())


def published_weights(benchmarks: list[str]) -> dict[str, float]:
    """The published factors of these benchmarks, normalised over them.

    Over all seven benchmarks this is factors.json itself (its factors sum to 1); over a subset,
    the same relative weights.
    """
    factors = published_factors()
    unknown = [b for b in benchmarks if b not in factors]
    if unknown:
        raise ValueError(
            f"leaderboard.weights: published: PostTrainBench v1 publishes no factor for "
            f"{', '.join(unknown)} (it has: {', '.join(factors)}); pin a mapping or use 'baselines'"
        )
    total = sum(factors[b] for b in benchmarks)
    return {b: factors[b] / total for b in benchmarks}
