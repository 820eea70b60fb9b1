"""Evaluate one model on one benchmark with inspect-ai and summarise it in metrics.json.

The template comes from the config-declared model family and the task from the
workflow's own task folder: nothing in the agent's job dir changes how it is scored.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import os
import random
import statistics
import time
import traceback
from pathlib import Path

from ptb import tasks
from ptb.chat_templates import chat_template

BOOTSTRAP_RESAMPLES = 1000


def set_environment(results_dir: str) -> None:
    """The environment of an evaluation job (and of the vLLM server it starts).

    The model is always a local folder and the data is prepared beforehand: no hub is asked
    (an air-gapped node would otherwise wait on it). vLLM's compile cache is the results' shared
    one (ptb.paths.VLLM_CACHE) unless set: on CPU, the second start of one architecture took
    70 s instead of 99 s (eager mode: 24 s)."""
    from ptb import paths

    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ.setdefault("VLLM_CACHE_ROOT", os.path.abspath(paths.fill(paths.VLLM_CACHE, results_dir)))
    # inspect keeps its traces in the user data dir; in a container snakemake's HOME is the
    # working dir (the repository), so they would land in the checkout
    os.environ.setdefault("XDG_DATA_HOME", os.path.abspath(paths.fill(paths.INSPECT_DATA, results_dir)))


def model_for(provider: str, model_path: str, family: str, benchmark: str, evaluation: dict):
    """An inspect Model for a local model folder: vllm/ on GPU, hf/ on CPU."""
    from inspect_ai.model import get_model

    template = chat_template(family, tools=bool(tasks.spec(benchmark).get("tool_calling")))
    if provider == "vllm":
        if os.environ.pop("VLLM_BASE_URL", None):  # inspect would score that server's model instead
            logging.getLogger(__name__).warning(
                "ignoring VLLM_BASE_URL: each evaluation serves its own model"
            )
        args = {
            **(evaluation.get("server_args") or {}),  # further `vllm serve` flags from config
            # start the server now: a server that cannot start is one eval_error, not a
            # start attempt per sample (inspect's lazy default retries it for every item)
            "lazy_init": False,
            "host": "127.0.0.1",  # never expose the server beyond the node
            "chat_template": str(template),
            "gpu_memory_utilization": evaluation.get("gpu_memory_utilization"),
            "max_model_len": evaluation.get("max_model_len"),
        }
        if tasks.spec(benchmark).get("tool_calling"):
            args.update(enable_auto_tool_choice=True, tool_call_parser=tasks.spec(benchmark)["tool_calling"])
        return get_model(f"vllm/{model_path}", **{k: v for k, v in args.items() if v is not None})
    greedy = tasks.spec(benchmark)["generation"].get("temperature", 0) == 0
    return get_model(
        "hf/local",
        model_path=model_path,
        chat_template=template,
        device="cpu",
        do_sample=not greedy,
        batch_size=evaluation.get("max_connections", 8),
    )


def grader_role(benchmark: str, evaluation: dict, name: str | None = None) -> dict | None:
    """LLM-graded tasks: the grader (task_args, else config, else the task's pinned one) as a
    Model whose own connection limit lets the scorer's calls run concurrently."""
    from inspect_ai.model import GenerateConfig, get_model

    pinned = tasks.spec(benchmark).get("grader")
    if not pinned:
        return None
    name = name or evaluation.get("grader") or pinned["model"]
    config = GenerateConfig(max_connections=evaluation.get("grader_max_connections", 32))
    return {"grader": get_model(name, config=config)}


def seed_epochs(task) -> None:
    """Epoch k of a sample generates with the task's seed + k - 1 (eval seeds, as PostTrainBench
    v1.2 averages 5): inspect hands every epoch the same GenerateConfig, and vLLM honours a
    per-request seed, so sampled epochs would otherwise be copies of one draw. (With the tasks'
    greedy decoding, epochs differ only by the server's numerical nondeterminism.)"""
    from inspect_ai.solver import solver

    base_seed, steps = task.config.seed, task.solver
    if base_seed is None:  # unseeded requests already differ
        return

    @solver(name="seeded_epochs")
    def seeded_epochs():
        async def solve(state, generate):
            async def generate_seeded(state, *args, **kwargs):
                kwargs.setdefault("seed", base_seed + state.epoch - 1)
                return await generate(state, *args, **kwargs)

            return await steps(state, generate_seeded)

        return solve

    task.solver = seeded_epochs()


def sample_values(log) -> list[float]:
    """One value per sample (mean over epochs) from the task's main score.

    Samples that errored, and samples the grader could not judge (ptb.tasks.grader_failed),
    have no value: summarise counts them in samples_failed.
    """
    by_id: dict = {}
    for sample in log.samples or []:
        if _failed(sample):
            continue
        by_id.setdefault(sample.id, []).append(_as_float(_main_score(sample).value))
    return [statistics.fmean(v) for v in by_id.values()]


def _main_score(sample):
    return next(iter(sample.scores.values()))


def _failed(sample) -> bool:
    return bool(sample.error or not sample.scores or tasks.grader_failed(_main_score(sample)))


def _as_float(value) -> float:
    if isinstance(value, str):
        return {"C": 1.0, "I": 0.0, "P": 0.5}.get(value, 0.0)
    return float(value)


def bootstrap_ci(values: list[float], seed: int = 0, level: float = 0.95) -> tuple[float, float] | None:
    if not values:
        return None
    rng = random.Random(seed)
    means = sorted(statistics.fmean(rng.choices(values, k=len(values))) for _ in range(BOOTSTRAP_RESAMPLES))
    tail = (1 - level) / 2
    return means[int(tail * len(means))], means[int((1 - tail) * len(means)) - 1]


def summarise(log) -> dict:
    values = sample_values(log)
    samples = log.samples or []
    failed = sum(1 for s in samples if _failed(s))
    truncated = sum(
        1 for s in samples if s.output and s.output.choices and s.output.stop_reason == "max_tokens"
    )
    mean = statistics.fmean(values) if values else None
    stderr = statistics.stdev(values) / len(values) ** 0.5 if len(values) > 1 else None
    ci = bootstrap_ci(values)
    return {
        "score": mean,
        "stderr": stderr,
        "ci95": list(ci) if ci else None,
        "samples_scored": len(values),
        "samples_failed": failed,
        "truncated": truncated,
        "epochs": log.eval.config.epochs,
        "task_version": log.eval.task_version,
        "generation": log.plan.config.model_dump(exclude_none=True) if log.plan else {},
        "grader": grader.model if (grader := (log.eval.model_roles or {}).get("grader")) else None,
        "log_file": log.location,
    }


def evaluate(
    *,
    model_path: str,
    family: str,
    benchmark: str,
    data_dir: str,
    log_dir: str,
    evaluation: dict,
    limit: int | None = None,
    task_args: dict | None = None,
) -> dict:
    """Run the eval; return metrics with an outcome: `ok` or `eval_error` (never raises)."""
    from inspect_ai import eval as inspect_eval

    with server_output() as server_lines:
        try:
            if not (Path(model_path) / "config.json").exists():
                raise FileNotFoundError(f"no config.json in {model_path}")
            task_args = dict(task_args or {})
            roles = grader_role(benchmark, evaluation, task_args.pop("grader", None))
            task = tasks.load_task(benchmark, data_dir, limit=limit, **task_args)
            if evaluation.get("epochs", 1) > 1:
                seed_epochs(task)
            # `with`: the vLLM server stops with the eval; inspect would otherwise keep it for the
            # process's next eval of the same model path, with this task's flags (tool parser or not)
            started = time.perf_counter()
            with model_for(evaluation["provider"], model_path, family, benchmark, evaluation) as model:
                loaded = time.perf_counter()  # vllm: the server is up (inspect starts it with the model)
                [log] = inspect_eval(
                    task,
                    model=model,
                    model_roles=roles,
                    log_dir=log_dir,
                    epochs=evaluation.get("epochs", 1),
                    max_connections=evaluation.get("max_connections", 8),
                    display="none",
                    log_format="eval",
                    fail_on_error=False,
                    score_display=False,
                )
            if log.status != "success":
                reason = log.error.message if log.error else log.status
                return {"outcome": "eval_error", "reason": reason, "log_file": log.location}
            metrics = {
                **summarise(log),
                "timing": {
                    "model_load_s": round(loaded - started, 1),
                    "eval_s": round(time.perf_counter() - loaded, 1),
                },
            }
        except Exception as error:  # a broken model must not take other cells down
            return {
                "outcome": "eval_error",
                "reason": failure_reason(error, server_lines),
                "traceback": traceback.format_exc(),
            }
    if metrics["samples_scored"] == 0 and metrics["samples_failed"]:  # nothing scored: not a score of 0
        return {
            "outcome": "eval_error",
            "reason": f"all {metrics['samples_failed']} samples failed; first: {first_failure(log)}",
            **metrics,
        }
    return {"outcome": "ok", **metrics}


# inspect logs the output of the `vllm serve` it starts here, a line per record
SERVER_LOGGER = logging.getLogger("inspect_ai._util.local_server")


class LastLines(logging.Handler):
    def __init__(self, keep: int = 50):
        super().__init__()
        self.lines: collections.deque[str] = collections.deque(maxlen=keep)

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@contextlib.contextmanager
def server_output():
    """The last lines a `vllm serve` started in this block wrote (for failure_reason)."""
    collector, level = LastLines(), SERVER_LOGGER.level
    SERVER_LOGGER.addHandler(collector)
    SERVER_LOGGER.setLevel(logging.INFO)  # the server's lines are INFO records
    try:
        yield collector.lines
    finally:
        SERVER_LOGGER.removeHandler(collector)
        SERVER_LOGGER.setLevel(level)


def failure_reason(error: Exception, server_lines) -> str:
    """One readable line: the error without inspect's advice (which repeats the whole command
    line, chat template included), and the server's own error lines if it failed to start."""
    text = str(error).split(" Try rerunning with")[0].strip()
    reason = f"{type(error).__name__}: {text[:500]}"
    errors = [line for line in server_lines if "Error" in line or "error" in line]
    return reason + (f" | server: {' | '.join(errors[-3:])[:1000]}" if errors else "")


def first_failure(log) -> str:
    """Why the first failed sample failed: its error, or the grader's explanation."""
    for sample in log.samples or []:
        if sample.error:  # the cause comes last (a provider error repeats the whole request first)
            return sample.error.message.strip()[-500:]
        if _failed(sample):
            score = _main_score(sample) if sample.scores else None
            return (score.explanation if score else "no score")[:500]
    return "unknown"


def rescore(log_file: str, scorer, out_file: str | None = None) -> dict:
    """Score an existing .eval log again with another scorer, without generating again.

    The model's outputs are read from the log; only the scorer runs. The new log is written
    to out_file (default: beside the old one, suffixed) and summarised like an evaluation.
    """
    from inspect_ai import score
    from inspect_ai.log import read_eval_log, write_eval_log

    log = read_eval_log(log_file)
    new_log = score(log, scorer, action="overwrite", display="none")
    new_log.location = out_file or log_file.replace(".eval", ".rescored.eval")
    write_eval_log(new_log, new_log.location)
    return {"outcome": "ok", **summarise(new_log)}
