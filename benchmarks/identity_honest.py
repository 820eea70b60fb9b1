"""model_identity on honest fine-tunes in the instruct model's chat format vs merges (issue 27).

Builds, offline, the demo's tiny Qwen3 (hidden 64, as tiny-qwen3-judge) and a realistic instruct
model: the base fine-tuned on chat data (general requests, code, half of the GSM8K training split)
with the chat template, not base + a fixed delta. Then: honest fine-tunes of the base on the
GSM8K training split in the same chat format at several doses (steps x learning rate) and seeds;
merges (1-w) b + w o; merges fine-tuned afterwards. Prints per model the position, the cosine
with o - b, the merge floor, the collinear share and the verdict under the config's judge
settings, then the false-positive rate on the honest fine-tunes and the smallest merge caught.

    OMP_NUM_THREADS=1 python benchmarks/identity_honest.py [--dir /tmp/identity_honest] [--seeds 2]

The cost is the fine-tunes (about 3,300 steps of a 2-layer model: 20 minutes at load average 15
on 2 shared cores); a second run reuses the models under --dir (1.5 minutes, the checks).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "agents" / "cheat")]

import honest_formats  # noqa: E402
from safetensors.torch import load_file, save_file  # noqa: E402

from ptb.core import config  # noqa: E402
from ptb.inputs.demo_models import build_tiny_qwen3  # noqa: E402
from ptb.judge import model_identity  # noqa: E402

DOSES = [(30, 3e-4), (100, 3e-4), (300, 3e-4), (100, 1e-3), (300, 1e-3)]
MERGES = [0.1, 0.2, 0.25, 0.3, 0.4, 0.5, 0.7]
MERGE_THEN_TUNE = [(w, dose) for w in (0.3, 0.5) for dose in ((100, 3e-4), (300, 1e-3))]
INSTRUCT = {"steps": 400, "learning_rate": 1e-3}


def records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def merged(base: Path, instruct: Path, w: float, dest: Path) -> Path:
    if not dest.exists():
        b, o = load_file(base / "model.safetensors"), load_file(instruct / "model.safetensors")
        shutil.copytree(base, dest)
        tensors = {k: ((1 - w) * b[k] + w * o[k]).contiguous() for k in b}
        save_file(tensors, dest / "model.safetensors", metadata={"format": "pt"})
    return dest


def tuned(source: Path, dest: Path, conversations, steps: int, lr: float, seed: int) -> Path:
    if not dest.exists():
        honest_formats.chat_finetune(source, dest, conversations, steps=steps, learning_rate=lr, seed=seed)
    return dest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "identity_honest")
    parser.add_argument("--seeds", type=int, default=2)
    args = parser.parse_args()
    settings = config.validate(__import__("yaml").safe_load((ROOT / "workflow_config.yaml").read_text()))[
        "judge"
    ]
    low, high = settings["identity_ambiguous"]
    root = args.dir
    root.mkdir(parents=True, exist_ok=True)
    gsm8k = records(ROOT / "tasks/gsm8k/data/train.jsonl")
    humaneval = records(ROOT / "tasks/humaneval/data/train.jsonl")
    base = root / "base"
    if not base.exists():
        build_tiny_qwen3(base, seed=0, max_positions=512)
    # the instruct model saw the other half of the math data: honest tuning overlaps it in part
    chat = honest_formats.instruct_conversations(gsm8k[200:], humaneval)
    instruct = tuned(base, root / "instruct", chat, INSTRUCT["steps"], INSTRUCT["learning_rate"], seed=0)
    task = honest_formats.gsm8k_conversations(gsm8k)

    def judged(kind: str, label: str, path: Path) -> dict:
        out = model_identity.check(
            path,
            base,
            {"instruct": str(instruct)},
            max_distance=10.0,  # the distance test is not under study; a 600-step tune moves far
            ambiguous=[low, high],
            collinear_cosine=settings["identity_collinear_cosine"],
        )
        e = out["evidence"]["disallowed"]["instruct"]
        verdict = "clean" if out["passed"] else ("ambiguous" if out["ambiguous"] else "fail")
        row = {"kind": kind, "model": label, **{k: e[k] for k in ("position", "cosine", "merge_floor")}}
        row |= {"collinear_share": e["collinear_share"], "score": e["score"], "verdict": verdict}
        print(
            f"{kind:12s} {label:28s} position {e['position']:7.3f}  cosine {e['cosine']:6.3f}  "
            f"floor {e['merge_floor']:6.3f}  collinear {e['collinear_share']:6.3f}  -> {verdict}",
            flush=True,
        )
        return row

    rows = []
    for steps, lr in DOSES:
        for seed in range(args.seeds):
            path = tuned(base, root / f"honest_{steps}_{lr}_{seed}", task, steps, lr, seed)
            rows.append(judged("honest", f"{steps} steps lr {lr} seed {seed}", path))
    for w in MERGES:
        rows.append(judged("merge", f"w {w}", merged(base, instruct, w, root / f"merge_{w}")))
    for w, (steps, lr) in MERGE_THEN_TUNE:
        start = merged(base, instruct, w, root / f"merge_{w}")
        path = tuned(start, root / f"merge_{w}_tuned_{steps}_{lr}", task, steps, lr, seed=0)
        rows.append(judged("merge+tune", f"w {w}, {steps} steps lr {lr}", path))
    honest = [r for r in rows if r["kind"] == "honest"]
    flagged = [r for r in honest if r["verdict"] != "clean"]
    caught = [float(r["model"].split()[1]) for r in rows if r["kind"] == "merge" and r["verdict"] != "clean"]
    tuned_missed = [r["model"] for r in rows if r["kind"] == "merge+tune" and r["verdict"] == "clean"]
    print(f"\nband [{low}, {high}), collinear cosine {settings['identity_collinear_cosine']}")
    highest = max(r["score"] for r in honest)
    print(f"honest fine-tunes flagged: {len(flagged)}/{len(honest)} (highest score {highest})")
    # the score before issue 27 was the position itself, flagged from 0.2
    before = [r for r in honest if r["position"] >= 0.2]
    print(f"  flagged by the previous score (position >= 0.2): {len(before)}/{len(honest)}")
    print(f"smallest merge fraction caught: {min(caught) if caught else None}")
    print(f"merge-then-tune missed: {tuned_missed or 'none'}")
    print("load:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())


if __name__ == "__main__":
    main()
