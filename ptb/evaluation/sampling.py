"""The sampling parameters an evaluation's requests end up with, per protocol.

PostTrainBench v1 sends no sampling parameter but max_tokens (inspect's openai-compatible
provider passes only what the GenerateConfig sets, and its evaluate.py sets max_tokens alone).
Its vLLM (0.11.0, started by inspect with vLLM's default `--generation-config auto`) then fills in
the model folder's generation_config.json (without a readable one, config.json's keys; see
generation_config): `ModelConfig.get_diff_sampling_param()` takes
repetition_penalty, temperature, top_k, top_p and min_p from `GenerationConfig.to_diff_dict()`
(only values that differ from transformers' GenerationConfig defaults), and `get_max_tokens()`
caps the request's max_tokens at the file's max_new_tokens. No seed is sent: every request
draws its own. So a base model folder without sampling settings is decoded with temperature 1,
and an instruct folder with its recommended settings (Qwen3: 0.6 / 0.95 / top_k 20).

Under posttrainbench-v1 the workflow sends those effective values explicitly (the same on any
vLLM version, and recorded in metrics.json); under the corrected protocol it sends the task's
own generation settings (task.yaml `generation`: greedy, seeded).
"""

from __future__ import annotations

import json
from pathlib import Path

from ptb.core.protocol import POSTTRAINBENCH_V1

# vLLM's available_params, and transformers' GenerationConfig defaults that to_diff_dict drops
SAMPLING_KEYS = ("repetition_penalty", "temperature", "top_k", "top_p", "min_p")
HF_DEFAULTS = {"repetition_penalty": 1.0, "temperature": 1.0, "top_k": 50, "top_p": 1.0, "min_p": None}
REQUEST_KEYS = ("max_tokens", "temperature", "top_p", "top_k", "seed")


def generation_config(model_dir: str | Path) -> dict:
    """The generation settings vLLM 0.11 reads from a model folder (its try_get_generation_config).

    generation_config.json as transformers loads it; when the file is missing or not readable as
    JSON (transformers then raises OSError, which vLLM takes for "no file"), the model's config.json
    as GenerationConfig.from_model_config reads it: its top-level keys, then those of its
    `text_config` (Gemma 3) for keys the top level leaves unset or at transformers' defaults. So
    sampling keys that only config.json has are applied, and a broken generation_config.json is no
    error. A file that parses but is no JSON object made vLLM fail: a ValueError naming it.
    """
    folder = Path(model_dir)
    path = folder / "generation_config.json"
    if path.exists():
        try:
            settings = json.loads(path.read_bytes().decode("utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError):
            return model_config_settings(folder / "config.json")
        if not isinstance(settings, dict):
            raise ValueError(f"{path}: not a JSON object; vLLM would refuse this model folder")
        return settings
    return model_config_settings(folder / "config.json")


def model_config_settings(path: Path) -> dict:
    """config.json's generation keys as GenerationConfig.from_model_config takes them ({} without
    the file; a config.json that is no JSON object is named: no vLLM loads that folder)."""
    if not path.exists():
        return {}
    try:
        config = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{path}: not valid JSON ({error}); vLLM would refuse this model folder") from None
    if not isinstance(config, dict):
        raise ValueError(f"{path}: not a JSON object; vLLM would refuse this model folder")
    settings = {key: value for key, value in config.items() if value is not None}
    text_config = config.get("text_config")
    if isinstance(text_config, dict):
        for key in SAMPLING_KEYS + ("max_new_tokens",):
            if key in text_config and settings.get(key, HF_DEFAULTS.get(key)) == HF_DEFAULTS.get(key):
                settings[key] = text_config[key]
    return settings


def v1_sampling(folder_settings: dict, max_tokens: int) -> dict:
    """What vLLM 0.11 applied to PostTrainBench's requests, given generation_config.json."""
    effective = {
        key: folder_settings[key]
        for key in SAMPLING_KEYS
        if folder_settings.get(key) is not None and folder_settings[key] != HF_DEFAULTS[key]
    }
    cap = folder_settings.get("max_new_tokens")
    effective["max_tokens"] = min(max_tokens, cap) if cap else max_tokens
    return effective


def effective_sampling(protocol: str, model_dir: str | Path, generation: dict) -> dict:
    """The sampling parameters of every request of an evaluation: recorded in metrics.json and
    sent explicitly (see generate_config_args). generation: the task's settings (task.yaml); v1
    keeps only its max_tokens (PostTrainBench's evaluate.py limit)."""
    if protocol == POSTTRAINBENCH_V1:
        return v1_sampling(generation_config(model_dir), generation["max_tokens"])
    return {k: generation[k] for k in REQUEST_KEYS if generation.get(k) is not None}


def generate_config_args(sampling: dict, provider: str) -> dict:
    """inspect GenerateConfig arguments for these parameters. vLLM's extras (top_k, min_p,
    repetition_penalty) travel in the request body; inspect's hf provider reads top_k itself and
    has no min_p or repetition_penalty (CPU runs only: the demo and tests)."""
    args = {k: sampling[k] for k in ("max_tokens", "temperature", "top_p", "seed") if k in sampling}
    extras = {k: sampling[k] for k in ("top_k", "min_p", "repetition_penalty") if k in sampling}
    if provider == "vllm":
        return {**args, "extra_body": extras} if extras else args
    return {**args, **({"top_k": extras["top_k"]} if "top_k" in extras else {})}
