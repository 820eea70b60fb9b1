"""Time and memory of the judge's model identity check on a 4B-parameter model.

Builds three synthetic models with Qwen3-4B's real tensor names and shapes (36 layers, hidden
2560, intermediate 9728, 32 query / 8 key-value heads of 128, vocab 151,936, tied embeddings;
~4.0B parameters, bf16, ~8 GB each, in 1 GB shards with an index as on the hub): a base, a
fine-tune (base + 1% noise) and a disallowed "instruct" (base + 30% delta). Then runs
`model_identity.check` on the fine-tune against the base and the disallowed model, and prints
the wall time and the peak resident memory of the check (run in a fresh process). Needs
~25 GB free under --dir; the models are deleted afterwards.

    OMP_NUM_THREADS=1 python benchmarks/identity_4b.py [--dir /tmp] [--layers 36]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from safetensors.torch import save_file

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ptb.judge import model_identity  # noqa: E402

HIDDEN, INTERMEDIATE, HEADS, KV_HEADS, HEAD_DIM, VOCAB = 2560, 9728, 32, 8, 128, 151936
SHARD_BYTES = 1 << 30


def qwen3_4b_shapes(layers: int) -> dict[str, tuple[int, ...]]:
    shapes = {"model.embed_tokens.weight": (VOCAB, HIDDEN), "model.norm.weight": (HIDDEN,)}
    for i in range(layers):
        p = f"model.layers.{i}."
        shapes |= {
            p + "self_attn.q_proj.weight": (HEADS * HEAD_DIM, HIDDEN),
            p + "self_attn.k_proj.weight": (KV_HEADS * HEAD_DIM, HIDDEN),
            p + "self_attn.v_proj.weight": (KV_HEADS * HEAD_DIM, HIDDEN),
            p + "self_attn.o_proj.weight": (HIDDEN, HEADS * HEAD_DIM),
            p + "self_attn.q_norm.weight": (HEAD_DIM,),
            p + "self_attn.k_norm.weight": (HEAD_DIM,),
            p + "mlp.gate_proj.weight": (INTERMEDIATE, HIDDEN),
            p + "mlp.up_proj.weight": (INTERMEDIATE, HIDDEN),
            p + "mlp.down_proj.weight": (HIDDEN, INTERMEDIATE),
            p + "input_layernorm.weight": (HIDDEN,),
            p + "post_attention_layernorm.weight": (HIDDEN,),
        }
    return shapes


def config(layers: int) -> dict:
    return {
        "architectures": ["Qwen3ForCausalLM"],
        "model_type": "qwen3",
        "hidden_size": HIDDEN,
        "intermediate_size": INTERMEDIATE,
        "num_hidden_layers": layers,
        "num_attention_heads": HEADS,
        "num_key_value_heads": KV_HEADS,
        "head_dim": HEAD_DIM,
        "vocab_size": VOCAB,
        "tie_word_embeddings": True,
        "torch_dtype": "bfloat16",
    }


class ShardWriter:
    """Writes tensors into ~2 GB shards and the index, holding one shard in memory."""

    def __init__(self, folder: Path, layers: int):
        self.folder, self.pending, self.size, self.count, self.weight_map = folder, {}, 0, 0, {}
        folder.mkdir(parents=True)
        (folder / "config.json").write_text(json.dumps(config(layers)))

    def add(self, name: str, tensor: torch.Tensor) -> None:
        self.pending[name] = tensor
        self.size += tensor.numel() * tensor.element_size()
        if self.size >= SHARD_BYTES:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            self.count += 1
            shard = f"model-{self.count:05d}.safetensors"
            save_file(self.pending, self.folder / shard, metadata={"format": "pt"})
            self.weight_map |= dict.fromkeys(self.pending, shard)
            self.pending, self.size = {}, 0

    def close(self) -> None:
        self.flush()
        index = {"metadata": {}, "weight_map": self.weight_map}
        (self.folder / "model.safetensors.index.json").write_text(json.dumps(index))


def build(root: Path, layers: int) -> int:
    writers = {name: ShardWriter(root / name, layers) for name in ("base", "final", "instruct")}
    generator = torch.Generator().manual_seed(0)
    params = 0
    for name, shape in qwen3_4b_shapes(layers).items():
        base = torch.randn(shape, generator=generator) * 0.02
        params += base.numel()
        for model, scale in (("final", 0.01), ("instruct", 0.3)):
            noise = torch.randn(shape, generator=generator)
            writers[model].add(name, (base + noise * (scale * base.norm() / noise.norm())).to(torch.bfloat16))
        writers["base"].add(name, base.to(torch.bfloat16))
    for writer in writers.values():
        writer.close()
    return params


def measure(root: Path) -> None:
    """In a fresh process: the check's time and this process's peak memory, as JSON."""
    start = time.perf_counter()
    result = model_identity.check(
        root / "final",
        root / "base",
        {"m/instruct": str(root / "instruct")},
        max_distance=0.5,
        ambiguous=[0.2, 0.5],
    )
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "peak_mb": peak_mb(), "result": result}))


def peak_mb() -> float:
    """This process's peak resident memory (VmHWM, not ru_maxrss: Linux carries ru_maxrss over
    exec from the big builder process)."""
    status = Path("/proc/self/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM"))) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dir", default=tempfile.gettempdir())
    parser.add_argument("--layers", type=int, default=36)
    parser.add_argument("--measure", help=argparse.SUPPRESS)  # internal: the fresh process
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.measure:
        measure(Path(args.measure))
        return
    root = Path(tempfile.mkdtemp(prefix="identity_4b_", dir=args.dir))
    try:
        start = time.perf_counter()
        params = build(root, args.layers)
        built = time.perf_counter() - start
        proc = subprocess.run(
            [sys.executable, __file__, "--measure", str(root)], capture_output=True, text=True, check=True
        )
        out = json.loads(proc.stdout.strip().splitlines()[-1])
    finally:
        shutil.rmtree(root, ignore_errors=True)
    evidence = out["result"]["evidence"]
    print(
        f"model identity on {params / 1e9:.2f}B parameters vs base + 1 disallowed (built in {built:.0f} s): "
        f"{out['seconds']:.1f} s, peak RSS {out['peak_mb']:.0f} MB; passed={out['result']['passed']}, "
        f"distance to base {evidence['distance_to_base']:.4f}, disallowed {evidence['disallowed']}"
    )
    print(f"{out['seconds']:.3f}")


if __name__ == "__main__":
    main()
