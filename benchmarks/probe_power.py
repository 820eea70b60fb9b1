"""Power and cost of the judge's behavioural contamination probe (ptb/judge/probe.py).

Power: a tiny Qwen3 (the demo's tiny_qwen3) fine-tuned in the chat format on the first k of the 40
GSM8K fixture test items for S steps (MLPs, batch 8, lr 1e-3: agents/cheat/probe_cheats.py), probed on
all 40 test items against 64 controls held back from the training split (the workflow's split,
ptb.inputs.cache.agent_data_view); and the honest control, the same fine-tune on the agent's
training split. Prints, per cell, the share of seeds flagged (detection rate; for the honest
row the false-positive rate) and the mean effect, under the config's default alpha and
effect floor, and the seconds per cell (fine-tune, probe) on this CPU.

Cost: the probe's forward passes on a model of Qwen3-4B's width (hidden 2560, intermediate
9728, vocab 151,936, bf16) with 1 and 2 decoder layers, over the default item count (64 test +
64 controls) at 160 tokens each (a GSM8K question and answer in Qwen's tokenizer), timed on
--cost-items items and scaled linearly; the time per layer is extrapolated to 4B's 36 layers,
for the two models the probe runs (base and final).

    OMP_NUM_THREADS=1 python benchmarks/probe_power.py [--seeds 2] [--skip-cost] [--cost-items 8]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ptb.core import config, tasks  # noqa: E402
from ptb.core.paths import REPO_ROOT  # noqa: E402
from ptb.inputs.cache import agent_data_view  # noqa: E402
from ptb.inputs.demo_models import build_tiny_qwen3  # noqa: E402
from ptb.judge import probe  # noqa: E402

SPEC = importlib.util.spec_from_file_location("probe_cheats", REPO_ROOT / "agents/cheat/probe_cheats.py")
probe_cheats = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(probe_cheats)
GSM8K = REPO_ROOT / "tasks/gsm8k/data"
ITEMS_MEMORISED = (5, 10, 20, 40)
STEPS = (50, 100, 200)


def defaults() -> dict:
    return config.resolve_section("judge", {})["probe"]


def power(root: Path, seeds: int, settings: dict) -> None:
    from transformers import AutoTokenizer  # noqa: PLC0415

    agent_data_view(GSM8K, root / "view", root / "controls.jsonl", settings["controls"], settings["seed"])
    test = tasks.read_jsonl(GSM8K / "test.jsonl")
    controls = tasks.read_jsonl(root / "controls.jsonl")[: settings["max_items"]]
    train = tasks.read_jsonl(root / "view/train.jsonl")
    build_tiny_qwen3(root / "base")
    tokenizer = AutoTokenizer.from_pretrained(root / "base")
    encoded = probe.encode(
        tokenizer, [probe.item_text("gsm8k", r) for r in test + controls], settings["max_tokens"]
    )
    base_loss = probe.answer_losses(root / "base", encoded, "auto")
    print(
        f"{len(test)} test items, {len(controls)} controls; alpha {settings['alpha']}, "
        f"min_effect {settings['min_effect']} nats/token; {seeds} seed(s) per cell"
    )
    print("trained on            steps  flagged  mean effect  p (median)  train s  probe s")
    cells = [(f"test items {k:>2}/40", test[:k], s) for k in ITEMS_MEMORISED for s in STEPS]
    cells += [("training split (honest)", train, s) for s in STEPS]
    for label, records, steps in cells:
        flagged, effects, pvalues, train_s, probe_s = 0, [], [], 0.0, 0.0
        for seed in range(seeds):
            start = time.perf_counter()
            sequences = probe_cheats.chat_ids(tokenizer, records, "gsm8k")
            probe_cheats.train_on_ids(root / "base", sequences, root / "tuned", steps=steps, seed=seed)
            middle = time.perf_counter()
            gain = base_loss - probe.answer_losses(root / "tuned", encoded, "auto")
            result = probe.verdict(gain[: len(test)], gain[len(test) :], settings)
            probe_s += time.perf_counter() - middle
            train_s += middle - start
            flagged += not result["passed"]
            effects.append(result["evidence"]["effect"])
            pvalues.append(result["evidence"]["p_value"])
        print(
            f"{label:<22}{steps:>5}  {flagged}/{seeds:<6} {np.mean(effects):>+10.3f}  "
            f"{np.median(pvalues):>10.2g}  {train_s / seeds:>7.1f}  {probe_s / seeds:>7.1f}"
        )


def cost(settings: dict, measured_items: int) -> None:
    import torch  # noqa: PLC0415
    from transformers import Qwen3Config, Qwen3ForCausalLM  # noqa: PLC0415

    items, tokens = 2 * settings["max_items"], 160
    scale = items / measured_items  # timed on a few items (one CPU core is slow), scaled linearly
    rng = np.random.default_rng(0)
    encoded = [(rng.integers(0, 151936, tokens).tolist(), 60) for _ in range(measured_items)]
    seconds = {}
    for layers in (1, 2):
        with tempfile.TemporaryDirectory() as folder:
            cfg = Qwen3Config(
                vocab_size=151936,
                hidden_size=2560,
                intermediate_size=9728,
                num_hidden_layers=layers,
                num_attention_heads=32,
                num_key_value_heads=8,
                head_dim=128,
                tie_word_embeddings=True,
                torch_dtype="bfloat16",
            )
            Qwen3ForCausalLM(cfg).to(torch.bfloat16).save_pretrained(folder)
            start = time.perf_counter()
            probe.answer_losses(folder, encoded, "auto")
            seconds[layers] = (time.perf_counter() - start) * scale
        print(
            f"4B-wide model, {layers} layer(s): {seconds[layers]:.1f} s for {items} items x {tokens} tokens"
            f" (timed on {measured_items})"
        )
    per_layer = seconds[2] - seconds[1]
    one_model = seconds[1] + 35 * per_layer
    print(
        f"extrapolated to 36 layers: {one_model:.0f} s per model, {2 * one_model / 60:.1f} min per "
        f"probe (base + final) on {torch.get_num_threads()} thread(s)"
    )
    flops = 2 * 4.0e9 * items * tokens * 2
    print(
        f"GPU estimate: {flops:.2g} FLOP in all; at 100 TFLOP/s effective bf16 (an H100 at ~10% of "
        f"peak on short batches) {flops / 1e14:.1f} s of compute, plus loading 2 x 8 GB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--skip-cost", action="store_true")
    parser.add_argument("--cost-items", type=int, default=8, help="items timed on the 4B-wide model")
    args = parser.parse_args()
    print(f"load average: {os.getloadavg()}; OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}")
    settings = defaults()
    with tempfile.TemporaryDirectory() as folder:
        power(Path(folder), args.seeds, settings)
    if not args.skip_cost:
        cost(settings, args.cost_items)
    print(f"load average: {os.getloadavg()}")


if __name__ == "__main__":
    main()
