"""What sampling parameters an evaluation's requests carry, per protocol (ptb/evaluation/sampling.py).

The expected values are what vLLM 0.11 (PostTrainBench's) applies for these generation_config.json
files: transformers 4.57.3's GenerationConfig(**file).to_diff_dict() gave {temperature 0.6, top_k 20,
top_p 0.95} for Qwen3's instruct file, {max_new_tokens 2048} for a base file, {top_k 64, top_p 0.95}
for Gemma 3's (temperature 1.0 is a default and dropped), {min_p 0.0, repetition_penalty 1.05} for
the last case (checked in PostTrainBench's container versions when this was written).
"""

import importlib.util
import json
from pathlib import Path

import pytest

from ptb.core import protocol
from ptb.evaluation import sampling

FIXTURES = Path(__file__).parents[1] / "fixtures" / "posttrainbench_v1"
_spec = importlib.util.spec_from_file_location("ptb_v1_corpus", FIXTURES / "corpus.py")
corpus = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(corpus)

QWEN3_INSTRUCT = {
    "bos_token_id": 151643,
    "do_sample": True,
    "eos_token_id": [151645, 151643],
    "pad_token_id": 151643,
    "temperature": 0.6,
    "top_k": 20,
    "top_p": 0.95,
}
BASE_WITH_CAP = {"bos_token_id": 151643, "eos_token_id": 151643, "max_new_tokens": 2048}
GEMMA3_IT = {
    "cache_implementation": "hybrid",
    "do_sample": True,
    "top_k": 64,
    "top_p": 0.95,
    "temperature": 1.0,
}
DEFAULTS_AND_EXTRAS = {"temperature": 1, "top_k": 50, "repetition_penalty": 1.05, "min_p": 0.0}


@pytest.mark.parametrize(
    "config, expected",
    [
        (QWEN3_INSTRUCT, {"temperature": 0.6, "top_k": 20, "top_p": 0.95, "max_tokens": 4000}),
        (BASE_WITH_CAP, {"max_tokens": 2048}),  # vLLM 0.11 caps the request at max_new_tokens
        (GEMMA3_IT, {"top_k": 64, "top_p": 0.95, "max_tokens": 4000}),
        (DEFAULTS_AND_EXTRAS, {"repetition_penalty": 1.05, "min_p": 0.0, "max_tokens": 4000}),
        ({}, {"max_tokens": 4000}),  # no file: vLLM's neutral defaults (temperature 1, unseeded)
    ],
)
def test_v1_applies_the_model_folders_generation_config_as_vllm_does(tmp_path, config, expected):
    if config:
        (tmp_path / "generation_config.json").write_text(json.dumps(config))
    task_settings = {"max_tokens": 4000, "temperature": 0.0, "top_p": 1.0, "seed": 42}
    got = sampling.effective_sampling(protocol.POSTTRAINBENCH_V1, tmp_path, task_settings)
    assert got == expected
    assert "seed" not in got, "PostTrainBench sends no seed"


def test_corrected_sends_the_tasks_settings_whatever_the_folder_says(tmp_path):
    (tmp_path / "generation_config.json").write_text(json.dumps(QWEN3_INSTRUCT))
    task_settings = {"max_tokens": 16000, "temperature": 0.0, "top_p": 1.0, "seed": 42, "stop_seqs": None}
    got = sampling.effective_sampling(protocol.CORRECTED, tmp_path, task_settings)
    assert got == {"temperature": 0.0, "top_p": 1.0, "seed": 42, "max_tokens": 16000}


def test_extras_go_in_the_request_body_for_vllm():
    effective = {"temperature": 0.6, "top_k": 20, "top_p": 0.95, "min_p": 0.0, "max_tokens": 4000}
    assert sampling.generate_config_args(effective, "vllm") == {
        "max_tokens": 4000,
        "temperature": 0.6,
        "top_p": 0.95,
        "extra_body": {"top_k": 20, "min_p": 0.0},
    }
    assert sampling.generate_config_args(effective, "hf") == {
        "max_tokens": 4000,
        "temperature": 0.6,
        "top_p": 0.95,
        "top_k": 20,
    }


SAMPLING = json.loads((FIXTURES / "sampling.json").read_text())["folders"]


@pytest.mark.parametrize("name", sorted(SAMPLING))
def test_v1_resolves_planted_folders_as_vllm_0_11_did(tmp_path, name):
    """Model folders planted by tests/fixtures/posttrainbench_v1/corpus.py, resolved by vLLM 0.11's
    own steps with transformers 4.57.3 (regenerate.py --corpus wrote sampling.json): a broken
    generation_config.json falls back to config.json, sampling keys that only config.json has are
    used, Gemma 3's text_config fills what the top level leaves at the defaults."""
    corpus.write_folder(tmp_path, name)
    expected = SAMPLING[name]
    if "error" in expected:  # vLLM did not start: an eval error here too, naming the file
        with pytest.raises(ValueError, match="generation_config.json: not a JSON object"):
            sampling.effective_sampling(protocol.POSTTRAINBENCH_V1, tmp_path, {"max_tokens": 4000})
        return
    got = sampling.effective_sampling(protocol.POSTTRAINBENCH_V1, tmp_path, {"max_tokens": 4000})
    assert got == {**expected, "max_tokens": min(4000, expected.get("max_tokens", 4000))}


def test_a_broken_config_json_is_named(tmp_path):
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(ValueError, match="config.json: not valid JSON"):
        sampling.effective_sampling(protocol.POSTTRAINBENCH_V1, tmp_path, {"max_tokens": 4000})
