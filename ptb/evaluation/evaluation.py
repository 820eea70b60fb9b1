"""Evaluate one model on one benchmark with inspect-ai and summarise it in metrics.json.

The template comes from the config-declared model family and the task from the
workflow's own task folder: nothing in the agent's job dir changes how it is scored.
One path for every evaluation: the evaluate and baseline rules, the agent-facing
evaluate.py, and reward profiling (which passes its sampling overrides and its own summary).

`evaluation` below is the resolved `evaluation` config section (schema defaults filled in:
ptb.core.config.resolve_section builds one for tools that run without the workflow config).
"""

from __future__ import annotations

import collections
import contextlib
import functools
import hashlib
import logging
import os
import random
import statistics
import time
import traceback
from pathlib import Path

from ptb.core import faults, io, outcomes, provenance, tasks
from ptb.core import protocol as protocols
from ptb.core.chat_templates import chat_template
from ptb.evaluation import eval_store
from ptb.evaluation import sampling as ptb_sampling
from ptb.inputs import cache

LOG = logging.getLogger(__name__)

BOOTSTRAP_RESAMPLES = 1000


def set_environment(vllm_cache: str, inspect_data: str) -> None:
    """The environment of an evaluation job (and of the vLLM server it starts).

    The model is always a local folder and the data is prepared beforehand: no hub is asked
    (an air-gapped node would otherwise wait on it). vLLM's compile cache is the results' shared
    one (ptb.core.paths.VLLM_CACHE) unless set: on CPU, the second start of one architecture took
    70 s instead of 99 s (eager mode: 24 s)."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ.setdefault("VLLM_CACHE_ROOT", os.path.abspath(vllm_cache))
    # inspect keeps its traces in the user data dir; in a container snakemake's HOME is the
    # working dir (the repository), so they would land in the checkout (ptb.core.paths.INSPECT_DATA)
    os.environ.setdefault("XDG_DATA_HOME", os.path.abspath(inspect_data))


def with_sampling(config, effective: dict, provider: str):
    """The task's GenerateConfig with exactly the protocol's sampling parameters (ptb.evaluation.sampling):
    whatever task.yaml sets for temperature, top_p, seed and the like gives way."""
    cleared = {"temperature": None, "top_p": None, "top_k": None, "seed": None, "extra_body": None}
    return config.model_copy(update={**cleared, **ptb_sampling.generate_config_args(effective, provider)})


def sampling_config(base, sampling: dict):
    """The task's GenerateConfig with profiling's overrides (temperature, and top_p / max_tokens
    where set), and no per-request seed: every repeat would otherwise be the same sample."""
    update = {"temperature": sampling["temperature"], "seed": None}
    for key in ("top_p", "max_tokens"):
        if sampling.get(key) is not None:
            update[key] = sampling[key]
    return base.model_copy(update=update)


def capped_max_tokens(config, cap: int | None):
    """The GenerateConfig with max_tokens at most `cap` (evaluation.max_tokens: a named, recorded
    cap for CPU demos; null leaves the task's own)."""
    if cap is None or (config.max_tokens is not None and config.max_tokens <= cap):
        return config
    return config.model_copy(update={"max_tokens": cap})


def tools_without_strict(tools_to_openai):
    """inspect's openai-compatible tools, less the `"strict": true` it adds to every tool: vLLM hands
    the key to the chat template, whose tool JSON would print it (PostTrainBench's inspect sent
    none). Wraps the provider's own method (a server restart re-runs its __init__, not this)."""

    def convert(tools):
        converted = tools_to_openai(tools)
        for tool in converted:
            tool["function"].pop("strict", None)
        return converted

    return convert


def model_for(
    provider: str,
    model_path: str,
    family: str,
    benchmark: str,
    evaluation: dict,
    sampling: dict | None = None,
    protocol: str = protocols.DEFAULT,
    greedy: bool = True,
    label: str = "local",
):
    """An inspect Model for a local model folder: vllm/ on GPU, hf/ on CPU, prompting with the
    protocol's template for the family. With `sampling` (profiling), hf samples from an RNG seeded
    once per model with sampling["seed"]; otherwise it samples unless `greedy`. label: the hf/
    model's name in the .eval log (vllm/ names it by its path, which names the cell)."""
    from inspect_ai.model import GenerateConfig, get_model  # noqa: PLC0415

    settings = tasks.spec(benchmark)
    template = chat_template(family, tools=bool(settings.get("tool_calling")), protocol=protocol)
    if provider == "vllm":
        if os.environ.pop("VLLM_BASE_URL", None):  # inspect would score that server's model instead
            logging.getLogger(__name__).warning(
                "ignoring VLLM_BASE_URL: each evaluation serves its own model"
            )
        args = {
            **evaluation["server_args"],  # further `vllm serve` flags from config
            # start the server now: a server that cannot start is one eval_error, not a
            # start attempt per sample (inspect's lazy default retries it for every item)
            "lazy_init": False,
            "host": "127.0.0.1",  # never expose the server beyond the node
            "chat_template": str(template),
            "gpu_memory_utilization": evaluation["gpu_memory_utilization"],
            "max_model_len": evaluation["max_model_len"],
        }
        if settings.get("tool_calling"):
            args.update(enable_auto_tool_choice=True, tool_call_parser=settings["tool_calling"])
        model = get_model(f"vllm/{model_path}", **{k: v for k, v in args.items() if v is not None})
        model.api.tools_to_openai = tools_without_strict(model.api.tools_to_openai)
        return model
    seeded = {} if sampling is None else {"config": GenerateConfig(seed=sampling["seed"]), "memoize": False}
    return get_model(
        f"hf/{label}",
        model_path=model_path,
        chat_template=template,
        device="cpu",
        do_sample=sampling is not None or not greedy,
        batch_size=evaluation["max_connections"],
        **seeded,
    )


def grader_role(benchmark: str, evaluation: dict, name: str | None = None) -> dict | None:
    """LLM-graded tasks: the grader (task_args, else config, else the task's pinned one) as a
    Model whose own connection limit lets the scorer's calls run concurrently; the pinned one with
    task.yaml's grader.model_args (e.g. the API PostTrainBench called it through)."""
    from inspect_ai.model import GenerateConfig, get_model  # noqa: PLC0415

    pinned = tasks.spec(benchmark).get("grader")
    if not pinned:
        return None
    name = name or evaluation["grader"] or pinned["model"]
    model_args = pinned.get("model_args", {}) if name == pinned["model"] else {}
    config = GenerateConfig(max_connections=evaluation["grader_max_connections"])
    return {tasks.GRADER_ROLE: get_model(name, config=config, **model_args)}


def seed_epochs(task) -> None:
    """Epoch k of a sample generates with the task's seed + k - 1 (eval seeds, as PostTrainBench
    v1.2 averages 5): inspect hands every epoch the same GenerateConfig, and vLLM honours a
    per-request seed, so sampled epochs would otherwise be copies of one draw. (With the tasks'
    greedy decoding, epochs differ only by the server's numerical nondeterminism.)"""
    from inspect_ai.solver import solver  # noqa: PLC0415

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


def sample_values(log, protocol: str = protocols.DEFAULT) -> list[float]:
    """One value per sample (mean over epochs) from the task's main score.

    Samples the grader could not judge (ptb.core.tasks.grader_failed) have no value, nor do samples
    that errored, except under a protocol that scores an errored sample 0 (the corrected one:
    leaving it out would raise the score); summarise counts both in samples_failed. (Under v1 an
    errored sample fails the whole eval before it is summarised: see evaluate.)
    """
    zero_errors = protocols.ON_SAMPLE_ERROR[protocol] == protocols.SCORE_ZERO
    by_id: dict = {}
    for sample in log.samples or []:
        if sample.error and zero_errors:
            by_id.setdefault(sample.id, []).append(0.0)
            continue
        if sample_failed(sample):
            continue
        by_id.setdefault(sample.id, []).append(score_value(main_score(sample).value))
    return [statistics.fmean(v) for v in by_id.values()]


def main_score(sample):
    """The task's main score of a sample (its first scorer's)."""
    return next(iter(sample.scores.values()))


def sample_failed(sample) -> bool:
    """The sample (one epoch of it) errored, has no score, or the grader could not judge it."""
    return bool(sample.error or not sample.scores or tasks.grader_failed(main_score(sample)))


def score_value(value) -> float:
    """A score value as a number: CORRECT 1, INCORRECT 0, PARTIAL 0.5."""
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


def task_aggregate(log, protocol: str = protocols.DEFAULT) -> dict:
    """A task's own score where it is no mean of sample values (task.py `aggregate(scores)`, e.g.
    Arena-Hard's pooled games, HealthBench's clipped mean): score, stderr, ci95 and the task's
    extras, from the main score of every sample (epoch) that did not error, in dataset order (a
    bootstrap depends on it); an errored one is None where the protocol scores errors 0. {} for a
    task without `aggregate`."""
    dataset = log.eval.dataset
    own = getattr(tasks.module(dataset.name), "aggregate", None) if dataset and dataset.name else None
    if own is None:
        return {}
    zero_errors = protocols.ON_SAMPLE_ERROR[protocol] == protocols.SCORE_ZERO
    position = {sample_id: index for index, sample_id in enumerate(dataset.sample_ids or [])}
    ordered = sorted(log.samples or [], key=lambda s: (s.epoch, position.get(s.id, len(position))))
    return own([None if s.error else main_score(s) for s in ordered if s.scores or (s.error and zero_errors)])


def summarise(log, protocol: str = protocols.DEFAULT) -> dict:
    """metrics.json's numbers: score, stderr, CI, sample counts, and what produced them (a task's
    own aggregate, where it has one, gives the score, stderr and CI)."""
    values = sample_values(log, protocol)
    samples = log.samples or []
    failed = sum(1 for s in samples if sample_failed(s))
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
        "generation": generation_of(log),
        "grader": grader.model if (grader := (log.eval.model_roles or {}).get(tasks.GRADER_ROLE)) else None,
        "log_file": log.location,
        **task_aggregate(log, protocol),
    }


def generation_of(log) -> dict:
    """The generation settings the eval ran with."""
    return log.plan.config.model_dump(exclude_none=True) if log.plan else {}


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
    sampling: dict | None = None,
    summary=None,
    protocol: str = protocols.DEFAULT,
    model_alias: str | None = None,
    cell: dict | None = None,
    display: str = "log",
) -> dict:
    """Run the eval; return metrics with an outcome: `ok` or `eval_error` (the model's failure:
    it cannot be loaded, or every sample failed on its output). An infrastructure failure (full
    disk, out of memory, lost GPU, killed server: ptb.core.faults) raises InfraFailure instead, also
    when only some samples hit it: a score over the survivors is no score.

    display: inspect's display; "log" puts progress lines in a rule's log (ptb.core.smk.logged), the
    agent-facing CLI passes "none" so that its stdout is the score line alone.

    protocol (ptb/core/protocol.py): the task's prompts and scoring rules, the chat template, the
    requests' sampling parameters (ptb.evaluation.sampling, recorded as metrics["sampling"]) and what an
    errored sample does: under posttrainbench-v1 one errored sample fails the eval, as in
    PostTrainBench (its evaluate.py writes no metrics then).
    cell: what is evaluated (agent, model, benchmark, seed; or model, variant, benchmark), the
    .eval log's tags and metadata and the hf/ model's name (cell_label), so `inspect view` over
    results/ tells every log apart.
    sampling: profiling's overrides (temperature, top_p, max_tokens, seed: sampling_config and
    model_for), which replace the protocol's sampling. summary(log): what to keep of a finished
    eval, with samples_scored and samples_failed (default: summarise; profiling keeps every
    repeat's value). model_alias: the model's name as PostTrainBench named it
    (posttrainbench_alias), for a task that takes one.
    """
    from ptb.evaluation import inspect_runner  # noqa: PLC0415 (heavy: imports inspect_ai)

    summary = summary or functools.partial(summarise, protocol=protocol)
    effective = None
    with server_output() as server_lines:
        try:
            if not (Path(model_path) / "config.json").exists():
                raise FileNotFoundError(f"no config.json in {model_path}")
            task_args = dict(task_args or {})
            roles = grader_role(benchmark, evaluation, task_args.pop("grader", None))
            task = tasks.load_task(benchmark, data_dir, protocol, model_alias, limit=limit, **task_args)
            provider = evaluation["provider"]
            if sampling is not None:
                task.config = sampling_config(task.config, sampling)
            else:
                effective = ptb_sampling.effective_sampling(
                    protocol, model_path, task.config.model_dump(exclude_none=True)
                )
                task.config = with_sampling(task.config, effective, provider)
            task.config = capped_max_tokens(task.config, evaluation["max_tokens"])
            if evaluation["epochs"] > 1:
                seed_epochs(task)
            # `with`: the vLLM server stops with the eval; inspect would otherwise keep it for the
            # process's next eval of the same model path, with this task's flags (tool parser or not)
            started = time.perf_counter()
            greedy = effective is not None and effective.get("temperature", 1.0) == 0
            label = cell_label(cell or {})
            if display == "log":
                inspect_runner.log_to_job_log()
            with model_for(
                provider, model_path, family, benchmark, evaluation, sampling, protocol, greedy, label
            ) as model:
                loaded = time.perf_counter()  # vllm: the server is up (inspect starts it with the model)
                [log] = inspect_runner.run(
                    task,
                    model=model,
                    model_roles=roles,
                    log_dir=log_dir,
                    epochs=evaluation["epochs"],
                    max_connections=evaluation["max_connections"],
                    tags=cell_tags(cell or {}),
                    metadata=cell,
                    display=display,
                    log_level="info" if display == "log" else None,
                    log_format="eval",
                    fail_on_error=False,
                    score_display=False,
                )
            if log.status != "success":
                reason = log.error.message if log.error else log.status
                if log.status == "cancelled":  # interrupted (a signal, Ctrl-C): not the model's doing
                    raise faults.InfraFailure(f"the evaluation was cancelled: {reason}")
                raise_if_infra(reason + (log.error.traceback if log.error else ""), log.location)
                return {"outcome": outcomes.EVAL_ERROR, "reason": reason, "log_file": log.location}
            for sample in log.samples or []:
                if sample.error:
                    raise_if_infra(sample.error.message, log.location)
            metrics = {
                "protocol": protocol,
                "sampling": effective if sampling is None else sampling,
                "max_tokens_cap": evaluation["max_tokens"],
                **summary(log),
                "timing": {
                    "model_load_s": round(loaded - started, 1),
                    "eval_s": round(time.perf_counter() - loaded, 1),
                },
            }
        except faults.InfraFailure:
            raise
        except Exception as error:  # a broken model must not take other cells down
            cause = faults.infra_cause(error) or faults.infra_cause("\n".join(server_lines))
            if cause:
                raise faults.InfraFailure(f"{cause}: {failure_reason(error, server_lines)}") from error
            return {
                "outcome": outcomes.EVAL_ERROR,
                "reason": failure_reason(error, server_lines),
                "traceback": traceback.format_exc(),
            }
    errored = sum(1 for s in log.samples or [] if s.error)
    if errored == len(log.samples or []) and errored:  # a broken server or model: not a score of 0
        return {
            "outcome": outcomes.EVAL_ERROR,
            "reason": f"all {errored} samples failed; first: {first_failure(log)}",
            **metrics,
        }
    if errored and sampling is None and protocols.ON_SAMPLE_ERROR[protocol] == protocols.FAIL_EVAL:
        return {
            "outcome": outcomes.EVAL_ERROR,
            "reason": f"{errored} sample(s) errored: under {protocol} one error fails the eval, as in "
            f"PostTrainBench; first: {first_failure(log)}",
            **metrics,
        }
    if metrics["samples_scored"] == 0 and metrics["samples_failed"]:  # nothing scored: not a score of 0
        raise_if_infra(first_failure(log), log.location)  # e.g. the grader's API was unreachable
        return {
            "outcome": outcomes.EVAL_ERROR,
            "reason": f"all {metrics['samples_failed']} samples failed; first: {first_failure(log)}",
            **metrics,
        }
    return {"outcome": outcomes.OK, **metrics}


def raise_if_infra(message: str, log_file: str | None) -> None:
    """Fail the job, not the model, when an eval's error is the infrastructure's (ptb.core.faults)."""
    cause = faults.infra_cause(message)
    if cause:
        raise faults.InfraFailure(f"{cause} (inspect log {log_file}): {message.strip()[-500:]}")


AGENT_MODEL_FOLDER = "final_model"  # where PostTrainBench's agents leave their model


def posttrainbench_alias(model_path: str, hf_id: str | None = None) -> str:
    """The model's name as PostTrainBench's evaluate.py derives it from its --model-path: the last
    part of the hub id it was given for a baseline (Qwen/Qwen3-1.7B: Qwen3-1.7B), the folder's
    name for an agent's model (final_model). Arena-Hard judges its baseline model, so named,
    against its own answers."""
    return (hf_id or str(model_path).rstrip("/")).split("/")[-1]


def cell_tags(cell: dict) -> list[str]:
    """A .eval log's tags: key=value for each of the cell's names (inspect view filters on them)."""
    return [f"{key}={value}" for key, value in cell.items()]


def cell_label(cell: dict) -> str:
    """A model name for the .eval log: agent/model/seed<seed> for a cell's model, model/variant
    for a baseline's (names with '/' or ':' inside are not produced: config names exclude them)."""
    if "agent" in cell:
        return f"{cell['agent']}/{cell['model']}/seed{cell['seed']}"
    if "variant" in cell:
        return f"{cell['model']}/{cell['variant']}"
    return "local"


def rule_arguments(settings: dict, throughput: dict) -> dict:
    """evaluate()'s arguments that a rule's params fix (rules/common.smk, eval_params and
    throughput_settings): the evaluation section with its throughput keys put back, the item
    limit, the task args and the protocol. The one reading of those params, shared by the
    evaluate, baseline and profile_model jobs."""
    return {
        "evaluation": {**settings["evaluation"], **throughput},
        "limit": settings["limit"],
        "task_args": settings["task_args"],
        "protocol": settings["protocol"],
    }


def evaluate_job(
    *,
    agent_json: str | None,
    model_json: str | None,
    dataset_dir: str,
    served_json: str | None = None,
    benchmark: str,
    family: str,
    settings: dict,
    throughput: dict,
    log_dir: str,
    cell: dict | None = None,
    store: str | None = None,
) -> dict:
    """One evaluate or baseline job: the model is the baseline's cached one (model_json) or the
    agent run's canonical model (served_json, ptb.agent_runs.canonical: none, or final_model/
    refused: outcome `no_model`; agent_json gives the agent's outcome). metrics.json records the
    model,
    the score settings and the software. settings: the rule's score settings (the evaluation
    section without its throughput keys, limit, task_args, hashes); throughput: the rest.
    store: the evaluation store's folder (ptb.evaluation.eval_store, ptb.core.paths.EVAL_STORE) to
    use: an evaluation with the same key is copied from it instead of run again; a new one is
    stored (None: no store). A task
    that takes the model's PostTrainBench name (posttrainbench_alias) has it in the key too.
    """
    hf_id = None
    if model_json is not None:
        model_path, missing = cache.model_path(model_json), "the model cache names no path"
        hf_id = io.read_json(model_json).get("hf_id")
    else:
        run, served = io.read_json(agent_json), io.read_json(served_json)
        model_path, missing = None, f"agent outcome {run['outcome']}: nothing to evaluate"
        if served.get("refused"):
            missing = f"final_model refused: {served['refused']}"
        elif served.get("model"):  # recorded relative to its record (rules/served.smk)
            model_path = str(Path(served_json).parent / served["model"])
        elif run.get("final_model") and served.get("reason"):  # left one, but no loader reads it
            missing = f"agent outcome {run['outcome']}: {served['reason']}"
    record = {"model_path": model_path, "settings": settings, "software": provenance.software()}
    if model_path is None:
        return {"outcome": outcomes.NO_MODEL, "reason": missing, **record}
    # an agent's model is its folder to PostTrainBench (final_model), whatever the canonical copy's name
    alias = posttrainbench_alias(model_path if model_json is not None else AGENT_MODEL_FOLDER, hf_id)

    def scored() -> dict:
        return {
            **evaluate(
                model_path=model_path,
                family=family,
                benchmark=benchmark,
                data_dir=dataset_dir,
                log_dir=log_dir,
                model_alias=alias,
                # the protocol names the scoring rules a log was scored under
                cell={**(cell or {}), "protocol": settings["protocol"]},
                **rule_arguments(settings, throughput),
            ),
            **record,
        }

    if store is None:
        return scored()
    named = {**settings, "model_alias": alias} if tasks.takes(benchmark, "model_alias") else settings
    key = eval_store.key(model_path, family, benchmark, named)
    # a job with the same key waits (its log says for whom), then copies
    with eval_store.claimed(store, key, holder=f"{cell_label(cell or {})} on {benchmark}"):
        stored = eval_store.lookup(store, key)
        named_cell = {**(cell or {}), "protocol": settings["protocol"]}  # as scored() names its log
        own_log = stored and cell_log(stored.get("log_file"), log_dir, named_cell)
        if own_log:  # these weights were scored with these settings: the same evaluation, this cell's log
            return {
                **stored,
                "model_path": model_path,
                "reused_from": stored["model_path"],
                "log_file": own_log,
                "reused_log": stored["log_file"],
            }
        result = {**scored(), "evaluation_key": key}
        if result["outcome"] == outcomes.OK:
            eval_store.save(store, key, result)
    return result


def cell_log(stored_log: str | None, log_dir: str, cell: dict) -> str | None:
    """A copy of a reused evaluation's .eval log in this cell's logs folder, naming this cell (the
    model's name, tags and metadata, as evaluate() names its own: `inspect view` finds it by agent),
    its samples and scores untouched; the metadata's `reused_log` names the original, relative to
    the copy. None (logged) if the stored log cannot be read: the evaluation then runs again."""
    from inspect_ai.log import read_eval_log, write_eval_log  # noqa: PLC0415 (heavy)

    target = Path(log_dir) / Path(stored_log or "none").name
    if stored_log and target.is_file() and target.samefile(stored_log):  # this cell's own (a re-run)
        return str(target)
    try:
        log = read_eval_log(stored_log)
    except Exception as error:  # gone (results moved without it), truncated, foreign
        LOG.warning("the reused evaluation's log %s cannot be read (%s): evaluating again", stored_log, error)
        return None
    reused_model = log.eval.model
    provider, original = reused_model.split("/")[0], cell_label(log.eval.metadata or {})
    if reused_model == f"{provider}/{original}":  # named for its cell (hf/), not a folder (vllm/)
        log.eval.model = f"{provider}/{cell_label(cell)}"
    log.eval.metadata = {
        **cell,
        "reused_log": os.path.relpath(stored_log, target.parent),
        "reused_model": reused_model,
    }
    log.eval.tags = cell_tags(cell) + ["reused"]
    # a log of its own to the viewer: inspect keys logs by eval_id
    log.eval.eval_id = hashlib.sha256(f"{log.eval.eval_id} {target}".encode()).hexdigest()[:22]
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    try:
        write_eval_log(log, partial, format="eval")
    except BaseException:  # a full disk: no half-written copy left beside the cell's logs
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, target)
    return str(target)


def recorded_metrics(metrics: dict, metrics_json: str | Path) -> dict:
    """evaluate_job's metrics (paths absolute or from the workdir) as metrics_json records them."""
    return io.record_paths(metrics, eval_store.METRICS_PATH_KEYS, metrics_json)


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
        if sample_failed(sample):
            score = main_score(sample) if sample.scores else None
            return (score.explanation if score else "no score")[:500]
    return "unknown"


def rescore(log_file: str, scorer, out_file: str | None = None) -> dict:
    """Score an existing .eval log again with another scorer, without generating again.

    The model's outputs are read from the log; only the scorer runs. The new log is written
    to out_file (default: beside the old one, suffixed) and summarised like an evaluation.
    """
    from inspect_ai import score  # noqa: PLC0415
    from inspect_ai.log import read_eval_log, write_eval_log  # noqa: PLC0415

    log = read_eval_log(log_file)
    new_log = score(log, scorer, action="overwrite", display="none")
    new_log.location = out_file or log_file.replace(".eval", ".rescored.eval")
    write_eval_log(new_log, new_log.location)
    return {"outcome": outcomes.OK, **summarise(new_log)}
