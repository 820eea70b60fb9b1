"""Fixtures for the judge tests: tiny models (built once per session) and a fresh run dir per test."""

from __future__ import annotations

from pathlib import Path

import pytest
from judge_helpers import CORPUS, OTHER_CORPUS, Run, perturbed, random_model

from ptb.inputs.demo_models import tiny_tokenizer


@pytest.fixture(scope="session")
def models(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("models")
    tokenizer = tiny_tokenizer(CORPUS)
    base = random_model(root / "base", tokenizer, seed=0)
    instruct = perturbed(base, root / "instruct", 0.3, seed=1)
    return {
        "base": base,
        "instruct": instruct,  # disallowed
        "finetuned": perturbed(base, root / "finetuned", 0.01, seed=2),
        "substitute": perturbed(instruct, root / "substitute", 0.01, seed=3),  # instruct, lightly tuned
        "foreign": random_model(root / "foreign", tokenizer, seed=7),  # same shape, other weights
        "other_vocab": random_model(root / "other_vocab", tiny_tokenizer(OTHER_CORPUS), seed=0),
    }


@pytest.fixture
def run(tmp_path, models) -> Run:
    return Run(tmp_path, models)
