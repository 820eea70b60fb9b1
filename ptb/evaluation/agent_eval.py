"""The agent-facing evaluate.py: score a model on one benchmark as the workflow scores it.

tasks/<name>/evaluate.py is a thin wrapper over main() that is handed to the agent. What
decides the score comes from the workflow's own copies, never from the agent's directory:
the task (task.py and task.yaml in ptb.core.tasks.TASKS_DIR), the chat template (by --family and
--protocol, from ptb/core/templates), the grader (task.yaml) and the data (the pinned hub revision, or the
folder --data-dir names). The only inputs are the command-line arguments.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from ptb.core import outcomes, protocol
from ptb.core.chat_templates import FAMILY_TEMPLATE
from ptb.core.config import ConfigError, resolve_section
from ptb.evaluation import evaluation
from ptb.inputs.cache import prepare_dataset


def parse_args(benchmark: str, argv: list[str] | None = None) -> argparse.Namespace:
    # the defaults are the workflow's own (schemas/config.schema.yaml, `evaluation:`): this
    # script runs in an agent's job dir, without the workflow config
    defaults = resolve_section("evaluation", {"provider": "hf"})
    parser = argparse.ArgumentParser(
        prog="evaluate.py",
        description=f"Evaluate a model on {benchmark} (the workflow's task, data and template).",
    )
    parser.add_argument(
        "--model-path", default="final_model", help="local model folder (Hugging Face format)"
    )
    parser.add_argument("--limit", type=int, default=None, help="evaluate the first N test items only")
    parser.add_argument("--json-output-file", default=None, help="also write the metrics to this JSON file")
    parser.add_argument(
        "--data-dir",
        default=None,
        help="folder with test.jsonl (default: the benchmark at its pinned hub revision)",
    )
    parser.add_argument(
        "--family",
        default="qwen3",
        choices=sorted(FAMILY_TEMPLATE),
        help="model family: picks the chat template (default: qwen3)",
    )
    parser.add_argument("--provider", default="hf", choices=["hf", "vllm"], help="hf (CPU) or vllm (GPU)")
    parser.add_argument(
        "--max-connections",
        type=int,
        default=defaults["max_connections"],
        help="concurrent generations (hf: the batch size) (default: %(default)s)",
    )
    parser.add_argument(
        "--max-model-len",
        type=int,
        default=defaults["max_model_len"],
        help="vllm only: context length (default: %(default)s)",
    )
    parser.add_argument(
        "--gpu-memory-utilization",
        type=float,
        default=defaults["gpu_memory_utilization"],
        help="vllm only (default: %(default)s)",
    )
    parser.add_argument("--log-dir", default="eval_logs", help="where the inspect log of each run goes")
    parser.add_argument(
        "--protocol",
        default=protocol.DEFAULT,
        choices=list(protocol.PROTOCOLS),
        help="evaluation protocol: prompts, template, sampling and scoring (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    try:  # the values the workflow's schema allows, or a usage error naming the option
        args.evaluation = resolve_section(
            "evaluation",
            {
                "provider": args.provider,
                "max_connections": args.max_connections,
                "max_model_len": args.max_model_len,
                "gpu_memory_utilization": args.gpu_memory_utilization,
            },
        )
    except ConfigError as error:
        parser.error(str(error))
    return args


def run(benchmark: str, args: argparse.Namespace) -> dict:
    with tempfile.TemporaryDirectory(prefix=f"ptb-{benchmark}-") as tmp:
        data_dir = args.data_dir
        if data_dir is None:
            data_dir = str(Path(tmp) / "data")
            prepare_dataset(benchmark, "hub", data_dir)
        return evaluation.evaluate(
            model_path=args.model_path,
            family=args.family,
            benchmark=benchmark,
            data_dir=data_dir,
            log_dir=args.log_dir,
            evaluation=args.evaluation,
            limit=args.limit,
            protocol=args.protocol,
            display="none",  # stdout is the score line alone
        )


def report(benchmark: str, metrics: dict) -> str:
    if metrics["outcome"] != outcomes.OK:
        return f"{benchmark}: evaluation failed: {metrics.get('reason')}"
    score, stderr = metrics["score"], metrics["stderr"]
    shown = "n/a" if score is None else f"{score:.4f}" + ("" if stderr is None else f" ± {stderr:.4f}")
    return (
        f"{benchmark}: score {shown} on {metrics['samples_scored']} samples"
        f" ({metrics['samples_failed']} failed, {metrics['truncated']} hit max_tokens)"
    )


def main(benchmark: str, argv: list[str] | None = None) -> int:
    args = parse_args(benchmark, argv)
    metrics = run(benchmark, args)
    print(report(benchmark, metrics))
    if args.json_output_file:
        Path(args.json_output_file).write_text(json.dumps(metrics, indent=2, default=str) + "\n")
    return 0 if metrics["outcome"] == outcomes.OK else 1


def script(benchmark: str) -> None:
    """Entry point of tasks/<benchmark>/evaluate.py."""
    sys.exit(main(benchmark))
