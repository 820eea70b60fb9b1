"""Evaluation: metrics.json contents, rescoring without generation, and eval errors per cell."""

import json
import os
import shutil
from pathlib import Path
from types import SimpleNamespace

import inspect_ai.log
import pytest
from helpers import snakemake
from inspect_ai import eval as inspect_eval
from inspect_ai.log import read_eval_log, write_eval_log
from inspect_ai.model import ModelOutput, ModelUsage, get_model
from inspect_ai.scorer import CORRECT, INCORRECT, Score, accuracy, scorer

from ptb.core import io, outcomes, paths, tasks
from ptb.core.chat_templates import chat_template
from ptb.core.config import resolve_section
from ptb.core.protocol import CORRECTED, POSTTRAINBENCH_V1
from ptb.evaluation import evaluation
from ptb.evaluation.scripted_model import scripted as scripted_model
from ptb.inputs.cache import prepare_dataset

HF = resolve_section("evaluation", {"provider": "hf"})  # the workflow's defaults


def scripted(contents: list[str]):
    usage = ModelUsage(input_tokens=1, output_tokens=1, total_tokens=2)
    outputs = []
    for text in contents:
        out = ModelOutput.from_content(model="mockllm/model", content=text)
        out.usage = usage
        outputs.append(out)
    return get_model("mockllm/model", custom_outputs=outputs)


def evaluate_local(tmp_path, benchmark: str, **kwargs) -> dict:
    """evaluation.evaluate() of a model folder at tmp_path (a config.json only: the tests stand a
    scripted model in for model_for) on the benchmark's local data; kwargs: evaluation (default
    HF), limit, task_args, protocol."""
    prepare_dataset(benchmark, "local", tmp_path / "data")
    (tmp_path / "config.json").write_text("{}")
    return evaluation.evaluate(
        model_path=str(tmp_path),
        family="qwen3",
        benchmark=benchmark,
        data_dir=str(tmp_path / "data"),
        log_dir=str(tmp_path / "logs"),
        **{"evaluation": HF, **kwargs},
    )


@pytest.fixture(scope="module")
def gsm8k_log(tmp_path_factory):
    """A real gsm8k eval of a scripted model: item 1 right, items 2 and 3 wrong."""
    root = tmp_path_factory.mktemp("eval")
    prepare_dataset("gsm8k", "local", root / "data")
    records = tasks.read_jsonl(root / "data" / "test.jsonl")[:3]
    answers = [r["answer"].split("####")[1].strip() for r in records]
    model = scripted([f"ANSWER: {answers[0]}", "ANSWER: -1", "no idea"])
    [log] = inspect_eval(
        tasks.load_task("gsm8k", root / "data", limit=3, fewshot=0),
        model=model,
        log_dir=str(root / "logs"),
        display="none",
    )
    assert log.status == "success"
    return log


def test_summary_has_score_ci_and_counts(gsm8k_log):
    metrics = evaluation.summarise(gsm8k_log)
    assert metrics["score"] == pytest.approx(1 / 3)
    assert metrics["samples_scored"] == 3 and metrics["samples_failed"] == 0
    low, high = metrics["ci95"]
    assert 0 <= low <= metrics["score"] <= high <= 1
    assert metrics["task_version"] == tasks.spec("gsm8k")["version"]
    assert metrics["generation"]["max_tokens"] == tasks.spec("gsm8k")["generation"]["max_tokens"]


@scorer(metrics=[accuracy()])
def says_answer():
    """A changed scorer: any reply with an ANSWER line counts."""

    async def score(state, target):
        return Score(value=CORRECT if "ANSWER:" in state.output.completion else INCORRECT)

    return score


def test_rescoring_a_log_gives_the_new_score_without_generating(gsm8k_log, monkeypatch):
    def no_generation(*args, **kwargs):
        raise AssertionError("rescoring must not call the model")

    monkeypatch.setattr("inspect_ai.model._model.Model.generate", no_generation)
    metrics = evaluation.rescore(gsm8k_log.location, says_answer())
    assert metrics["score"] == pytest.approx(2 / 3)
    assert metrics["samples_scored"] == 3
    assert metrics["log_file"].endswith(".rescored.eval")


def test_vllm_server_gets_config_flags_but_stays_on_localhost(monkeypatch):
    seen = {}
    monkeypatch.setenv("VLLM_BASE_URL", "http://elsewhere:8000/v1")  # another model's server: never used
    served = SimpleNamespace(api=SimpleNamespace(tools_to_openai=lambda tools: tools))

    def get_model(name, **args):
        seen.update(name=name, **args)
        return served

    monkeypatch.setattr("inspect_ai.model.get_model", get_model)
    settings = resolve_section(
        "evaluation", {"provider": "vllm", "max_model_len": 4096, "server_args": {"tensor_parallel_size": 2}}
    )
    settings["server_args"]["host"] = "0.0.0.0"  # schema refuses host; code too
    evaluation.model_for("vllm", "/models/m", "qwen3", "gsm8k", settings)
    assert seen["name"] == "vllm//models/m" and seen["host"] == "127.0.0.1"
    assert seen["tensor_parallel_size"] == 2 and seen["max_model_len"] == 4096
    assert seen["gpu_memory_utilization"] == 0.85  # the schema's default
    assert "tool_call_parser" not in seen
    assert seen["lazy_init"] is False and "VLLM_BASE_URL" not in os.environ
    evaluation.model_for("vllm", "/models/m", "qwen3", "bfcl", settings)
    assert seen["tool_call_parser"] == "hermes" and seen["enable_auto_tool_choice"] is True
    # the tools reach vLLM without inspect's "strict": true (PostTrainBench's prompts had none)
    tool = {"type": "function", "function": {"name": "f", "strict": True, "parameters": {}}}
    assert served.api.tools_to_openai([tool]) == [
        {"type": "function", "function": {"name": "f", "parameters": {}}}
    ]


def test_the_grader_is_bound_with_its_own_connection_limit():
    assert evaluation.grader_role("gsm8k", HF) is None
    role = evaluation.grader_role(
        "healthbench", {**HF, "grader": "mockllm/model", "grader_max_connections": 48}
    )
    assert role["grader"].name == "model" and role["grader"].config.max_connections == 48
    pinned = tasks.spec("arenahardwriting")["grader"]["model"]
    role = evaluation.grader_role("arenahardwriting", HF, "mockllm/model")
    assert role["grader"].name == "model" and role["grader"].config.max_connections == 32  # the default
    assert pinned  # without a name in task_args or config, the task's pinned grader is used


def test_the_pinned_grader_is_called_as_posttrainbench_called_it(monkeypatch):
    """gpt-5-mini through Chat Completions (PostTrainBench's client), not inspect's preferred
    Responses API; a grader the config names gets no such arguments."""
    seen = []
    monkeypatch.setattr("inspect_ai.model.get_model", lambda name, **args: seen.append((name, args)))
    for benchmark in ("arenahardwriting", "healthbench"):
        evaluation.grader_role(benchmark, HF)
        assert seen[-1][0] == "openai/gpt-5-mini" and seen[-1][1]["responses_api"] is False
    evaluation.grader_role("healthbench", HF, "anthropic/claude-x")
    assert "responses_api" not in seen[-1][1]


def test_each_epoch_generates_with_its_own_seed_under_the_corrected_protocol(tmp_path, monkeypatch):
    monkeypatch.setattr(
        evaluation, "model_for", lambda *args, **kwargs: scripted([f"ANSWER: {i}" for i in range(6)])
    )
    metrics = evaluate_local(
        tmp_path,
        "gsm8k",
        evaluation={**HF, "epochs": 3},
        limit=2,
        task_args={"fewshot": 0},
        protocol=CORRECTED,
    )
    assert metrics["outcome"] == "ok" and metrics["epochs"] == 3 and metrics["samples_scored"] == 2
    assert metrics["protocol"] == CORRECTED and metrics["sampling"]["temperature"] == 0.0
    assert metrics["timing"]["model_load_s"] >= 0 and metrics["timing"]["eval_s"] > 0
    log = read_eval_log(metrics["log_file"])
    task_seed = tasks.spec("gsm8k")["generation"]["seed"]
    seeds = {(s.id, s.epoch): [e.config.seed for e in s.events if e.event == "model"] for s in log.samples}
    assert len(seeds) == 6
    for (_, epoch), used in seeds.items():
        assert used == [task_seed + epoch - 1]


def test_a_server_that_cannot_start_is_one_eval_error_naming_the_servers_error(tmp_path, monkeypatch):
    def failing_server(*args, **kwargs):
        evaluation.SERVER_LOGGER.info(
            "ValueError: max_model_len (16384) is greater than the derived max_model_len"
        )
        raise RuntimeError(
            "Failed to start vLLM server: exited with code 1. Try rerunning with '--log-level debug'"
            " ... vllm serve m --chat-template {%- for message in messages %} ..."
        )

    monkeypatch.setattr(evaluation, "model_for", failing_server)
    metrics = evaluate_local(
        tmp_path,
        "gsm8k",
        evaluation={**HF, "provider": "vllm"},
        limit=2,
    )
    assert metrics["outcome"] == "eval_error"
    assert metrics["reason"].startswith("RuntimeError: Failed to start vLLM server")
    assert (
        "max_model_len (16384) is greater" in metrics["reason"] and "chat-template" not in metrics["reason"]
    )
    assert evaluation.SERVER_LOGGER.handlers == []  # the collector is removed again


def test_an_eval_whose_every_sample_failed_is_an_eval_error(tmp_path, monkeypatch):
    """The server rejected every request (as vLLM does for max_tokens > max_model_len): no score of 0."""

    def rejecting():
        raise RuntimeError("Error code: 400 - max_tokens=4096 cannot be greater than max_model_len=2048")
        yield  # a generator: the error comes at generation time

    monkeypatch.setattr(
        evaluation,
        "model_for",
        lambda *args, **kwargs: get_model("mockllm/model", custom_outputs=rejecting()),
    )
    metrics = evaluate_local(
        tmp_path,
        "gsm8k",
        limit=2,
        task_args={"fewshot": 0},
    )
    assert metrics["outcome"] == "eval_error"
    assert metrics["samples_failed"] == 2 and metrics["samples_scored"] == 0 and metrics["score"] is None
    assert "all 2 samples failed" in metrics["reason"]
    assert metrics["log_file"].endswith(".eval")


def one_error_of_two(tmp_path, monkeypatch, protocol):
    """gsm8k over 2 items: the first right, the second a generation error."""
    record = tasks.read_jsonl(tasks.task_dir("gsm8k") / "data" / "test.jsonl")[0]
    answer = record["answer"].split("####")[1].strip()

    def replies(messages, tools, tool_choice, config):
        if record["question"] in messages[-1].text:
            out = ModelOutput.from_content("mockllm/model", f"ANSWER: {answer}")
            out.usage = ModelUsage(input_tokens=1, output_tokens=1, total_tokens=2)
            return out
        raise RuntimeError("the server dropped the connection")

    monkeypatch.setattr(
        evaluation,
        "model_for",
        lambda *args, **kwargs: get_model("mockllm/model", custom_outputs=replies, memoize=False),
    )
    return evaluate_local(
        tmp_path,
        "gsm8k",
        evaluation={**HF, "max_connections": 1},
        limit=2,
        task_args={"fewshot": 0},
        protocol=protocol,
    )


def test_v1_fails_the_eval_on_one_errored_sample(tmp_path, monkeypatch):
    """PostTrainBench's evaluate.py writes no metrics when a sample errors (inspect's
    fail_on_error): the cell scores as the base model. Dropping the sample would score 1.0 here."""
    metrics = one_error_of_two(tmp_path, monkeypatch, POSTTRAINBENCH_V1)
    assert metrics["outcome"] == "eval_error" and "one error fails the eval" in metrics["reason"]
    assert "dropped the connection" in metrics["reason"] and metrics["protocol"] == POSTTRAINBENCH_V1


def test_corrected_scores_an_errored_sample_zero(tmp_path, monkeypatch):
    metrics = one_error_of_two(tmp_path, monkeypatch, CORRECTED)
    assert metrics["outcome"] == "ok" and metrics["score"] == 0.5
    assert metrics["samples_failed"] == 1


def test_v1_requests_carry_the_model_folders_sampling_defaults_and_no_seed(tmp_path, monkeypatch):
    """As vLLM's --generation-config auto did for PostTrainBench's requests; recorded in metrics.json."""
    seen = []

    def replies(messages, tools, tool_choice, config):
        seen.append(config)
        out = ModelOutput.from_content("mockllm/model", "ANSWER: 1")
        out.usage = ModelUsage(input_tokens=1, output_tokens=1, total_tokens=2)
        return out

    monkeypatch.setattr(
        evaluation,
        "model_for",
        lambda *a, **k: get_model("mockllm/model", custom_outputs=replies, memoize=False),
    )
    (tmp_path / "generation_config.json").write_text(
        json.dumps({"temperature": 0.6, "top_k": 20, "top_p": 0.95})
    )
    metrics = evaluate_local(
        tmp_path,
        "gsm8k",
        limit=1,
        task_args={"fewshot": 0},
    )
    assert metrics["protocol"] == POSTTRAINBENCH_V1
    assert metrics["sampling"] == {"temperature": 0.6, "top_k": 20, "top_p": 0.95, "max_tokens": 4000}
    [config] = seen
    assert (config.temperature, config.top_p, config.top_k, config.seed, config.max_tokens) == (
        0.6,
        0.95,
        20,
        None,
        4000,
    )


def test_a_max_tokens_cap_shortens_every_request_and_is_recorded(tmp_path, monkeypatch):
    """evaluation.max_tokens (the demo's CPU cap) lowers the task's 4000, never raises a lower one,
    and metrics.json names it beside the generation settings the eval ran with."""
    seen = []

    def replies(messages, tools, tool_choice, config):
        seen.append(config.max_tokens)
        out = ModelOutput.from_content("mockllm/model", "ANSWER: 1")
        out.usage = ModelUsage(input_tokens=1, output_tokens=1, total_tokens=2)
        return out

    monkeypatch.setattr(
        evaluation,
        "model_for",
        lambda *a, **k: get_model("mockllm/model", custom_outputs=replies, memoize=False),
    )
    for cap, expected in ((256, 256), (9000, 4000), (None, 4000)):
        metrics = evaluate_local(
            tmp_path,
            "gsm8k",
            evaluation={**HF, "max_tokens": cap},
            limit=1,
            task_args={"fewshot": 0},
            protocol=CORRECTED,
        )
        assert metrics["outcome"] == "ok" and seen[-1] == expected
        assert metrics["max_tokens_cap"] == cap and metrics["generation"]["max_tokens"] == expected


def test_broken_model_is_an_eval_error_and_other_cells_finish(tmp_path):
    """One cell's final_model has no weights: its eval is `eval_error` with a log; the other cell is
    scored."""
    extra = tmp_path / "broken.yaml"
    extra.write_text(
        json.dumps(
            {
                "agents": {"broken": {"scaffold": "scripted", "options": {"behavior": "broken_model"}}},
                "benchmarks": {"gsm8k": {"limit": 2}},
                "calibration": None,
            }
        )
    )
    results = tmp_path / "results"
    cells = [f"{results}/eval/{agent}/tiny-qwen3/gsm8k/seed1/metrics.json" for agent in ("broken", "noop")]
    snakemake(
        "--profile",
        "profiles/demo",
        "--configfile",
        "workflow_config.yaml",
        "config/demo.yaml",
        str(extra),
        "--config",
        f"results_dir={results}",
        "--",
        *cells,
    )
    broken = json.loads(open(cells[0]).read())
    assert broken["outcome"] == "eval_error"
    log = (results / "logs" / "evaluate" / "broken" / "tiny-qwen3" / "gsm8k" / "seed1.log").read_text()
    assert "evaluation failed" in log
    assert json.loads(open(cells[1]).read())["outcome"] == "ok"


def test_an_evaluation_job_asks_no_hub_and_shares_the_compile_cache(tmp_path, monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("VLLM_CACHE_ROOT", raising=False)
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    results = str(tmp_path / "results")
    environment = {
        "vllm_cache": paths.fill(paths.VLLM_CACHE, results),
        "inspect_data": paths.fill(paths.INSPECT_DATA, results),
    }  # what the rules pass
    evaluation.set_environment(**environment)
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    assert os.environ["XDG_DATA_HOME"] == str(tmp_path / "results" / "cache" / "inspect")  # not the checkout
    assert os.environ["VLLM_CACHE_ROOT"] == str(tmp_path / "results" / "cache" / "vllm")
    monkeypatch.setenv("VLLM_CACHE_ROOT", "/fast/local/disk")  # the cluster's choice stands
    evaluation.set_environment(**environment)
    assert os.environ["VLLM_CACHE_ROOT"] == "/fast/local/disk"


def test_an_agent_run_without_a_model_is_no_model_and_the_job_records_its_settings(tmp_path, monkeypatch):
    agent, served = tmp_path / "agent.json", tmp_path / "served.json"
    io.write_json(agent, {"outcome": outcomes.TIMEOUT, "final_model": None})
    io.write_json(served, {"model": None, "refused": None})
    monkeypatch.setattr(evaluation, "evaluate", lambda **kwargs: pytest.fail("nothing to evaluate"))
    settings = {
        "protocol": POSTTRAINBENCH_V1,
        "evaluation": {"provider": "hf", "epochs": 1},
        "limit": 2,
        "task_args": {},
        "code": "abc",
    }
    job = dict(
        dataset_dir=str(tmp_path / "data"),
        benchmark="gsm8k",
        family="qwen3",
        settings=settings,
        throughput={"max_connections": 7, "grader_max_connections": 3, "gpu_memory_utilization": 0.5},
        log_dir=str(tmp_path / "logs"),
    )
    metrics = evaluation.evaluate_job(agent_json=str(agent), model_json=None, served_json=str(served), **job)
    assert metrics["outcome"] == outcomes.NO_MODEL and "timeout" in metrics["reason"]
    assert metrics["settings"] == settings and metrics["model_path"] is None and metrics["software"]
    # a final_model/ the loaders would read differently is never evaluated, and says why
    io.write_json(agent, {"outcome": outcomes.OK, "final_model": "job/final_model"})
    io.write_json(served, {"model": None, "refused": "both model.safetensors and the index"})
    metrics = evaluation.evaluate_job(agent_json=str(agent), model_json=None, served_json=str(served), **job)
    assert metrics["outcome"] == outcomes.NO_MODEL and "refused: both" in metrics["reason"]

    model = tmp_path / "model.json"  # a baseline: the cache stage's model
    io.write_json(model, {"path": str(tmp_path / "base")})
    seen = {}
    monkeypatch.setattr(
        evaluation, "evaluate", lambda **kwargs: seen.update(kwargs) or {"outcome": outcomes.OK}
    )
    metrics = evaluation.evaluate_job(agent_json=None, model_json=str(model), **job)
    assert seen["model_path"] == str(tmp_path / "base") and seen["limit"] == 2
    assert seen["protocol"] == POSTTRAINBENCH_V1
    assert seen["evaluation"] == {"provider": "hf", "epochs": 1, **job["throughput"]}
    assert metrics["settings"] == settings, "the throughput settings are not part of a result's settings"


def test_the_job_names_the_model_as_posttrainbench_did(tmp_path, monkeypatch):
    """PostTrainBench's evaluate.py names a model by the last part of its --model-path: a baseline
    by its hub id (Qwen/Qwen3-1.7B: Qwen3-1.7B, which Arena-Hard judges against itself), an
    agent's model by its folder (final_model); the name goes to a task that takes it."""
    seen = {}
    monkeypatch.setattr(
        evaluation, "evaluate", lambda **kwargs: seen.update(kwargs) or {"outcome": outcomes.OK}
    )
    settings = {"protocol": POSTTRAINBENCH_V1, "evaluation": {}, "limit": None, "task_args": {}}
    job = dict(
        dataset_dir="d",
        benchmark="arenahardwriting",
        family="qwen3",
        settings=settings,
        throughput={},
        log_dir="l",
    )
    model = tmp_path / "model.json"
    io.write_json(model, {"path": str(tmp_path / "qwen3-1.7b" / "instruct"), "hf_id": "Qwen/Qwen3-1.7B"})
    evaluation.evaluate_job(agent_json=None, model_json=str(model), **job)
    assert seen["model_alias"] == "Qwen3-1.7B"
    agent, served = tmp_path / "agent.json", tmp_path / "served" / "model.json"
    io.write_json(agent, {"outcome": outcomes.OK, "final_model": "job/final_model"})
    io.write_json(served, {"model": "model", "refused": None})  # the canonical copy, named model/
    evaluation.evaluate_job(agent_json=str(agent), model_json=None, served_json=str(served), **job)
    assert seen["model_alias"] == "final_model" and seen["model_path"] == str(served.parent / "model")
    data = tasks.task_dir("arenahardwriting") / "data"
    against = tasks.load_task("arenahardwriting", data, POSTTRAINBENCH_V1, "Qwen3-1.7B", limit=1)
    assert against.metadata["against_itself"] is True
    gsm8k = tasks.task_dir("gsm8k") / "data"
    assert tasks.load_task("gsm8k", gsm8k, None, "Qwen3-1.7B", limit=1), "a task without the argument"


def test_the_evaluation_store_keeps_the_baseline_model_and_an_agents_copy_apart(
    tmp_path, monkeypatch, gsm8k_log
):
    """An agent that submits Qwen3-1.7B's weights is final_model to PostTrainBench: on Arena-Hard it
    meets the stored answers, so it must not reuse the baseline's self-comparison; on GSM8K the
    name changes nothing and the evaluation is reused."""
    cached, submitted = tmp_path / "cache" / "qwen3-1.7b" / "instruct", tmp_path / "served" / "model"
    for folder in (cached, submitted):  # the same weights
        folder.mkdir(parents=True)
        (folder / "config.json").write_text("{}")
    model, agent, served = (
        tmp_path / "model.json",
        tmp_path / "agent.json",
        tmp_path / "served" / "model.json",
    )
    io.write_json(model, {"path": str(cached), "hf_id": "Qwen/Qwen3-1.7B"})
    io.write_json(agent, {"outcome": outcomes.OK, "final_model": "job/final_model"})
    io.write_json(served, {"model": "model", "refused": None})
    runs = []
    monkeypatch.setattr(
        evaluation,
        "evaluate",
        lambda **kw: runs.append(kw["model_alias"]) or {"outcome": "ok", "score": 0.5, "log_file": log},
    )
    log = gsm8k_log.location
    settings = {"protocol": POSTTRAINBENCH_V1, "evaluation": {}, "limit": None, "task_args": {}}
    for benchmark in ("arenahardwriting", "gsm8k"):
        job = dict(dataset_dir="d", benchmark=benchmark, family="qwen3", settings=settings, throughput={})
        job.update(log_dir=str(tmp_path / "l"), store=str(tmp_path / "results"))
        evaluation.evaluate_job(agent_json=None, model_json=str(model), **job)
        copy = evaluation.evaluate_job(agent_json=str(agent), model_json=None, served_json=str(served), **job)
        assert ("reused_from" in copy) is (benchmark == "gsm8k")
    assert runs == ["Qwen3-1.7B", "final_model", "Qwen3-1.7B"]


def test_metrics_and_store_entries_record_paths_relative_to_themselves(tmp_path, monkeypatch, gsm8k_log):
    """A reused evaluation's metrics.json names the model, its log and the reused folder relative to
    itself (the store entry relative to its own folder): all still resolve after the results move."""
    monkeypatch.chdir(tmp_path)
    base = tmp_path / "results" / "cache" / "models" / "m" / "base"
    base.mkdir(parents=True)
    (base / "config.json").write_text("{}")
    manifest = base.parent / "base.json"
    io.write_json(manifest, {"path": "base"})  # as prepare_model's rule records it
    log = tmp_path / "results" / "baselines" / "logs" / "first.eval"
    log.parent.mkdir(parents=True)
    shutil.copy(gsm8k_log.location, log)
    monkeypatch.setattr(
        evaluation, "evaluate", lambda **kw: {"outcome": "ok", "score": 0.5, "log_file": str(log)}
    )
    settings = {"protocol": POSTTRAINBENCH_V1, "evaluation": {}, "limit": None, "task_args": {}}
    job = dict(dataset_dir="d", benchmark="gsm8k", family="qwen3", settings=settings, throughput={})
    job.update(store="results/eval-store", agent_json=None, model_json=str(manifest))
    evaluation.evaluate_job(**job, log_dir="results/baselines/logs")
    copy = evaluation.evaluate_job(**job, log_dir="results/evals/cell/logs")
    assert copy["reused_from"] == str(base) and copy["reused_log"] == str(log)
    metrics_json = tmp_path / "results" / "evals" / "cell" / "metrics.json"
    io.write_json(metrics_json, evaluation.recorded_metrics(copy, metrics_json))
    (entry,) = (tmp_path / "results" / "eval-store").glob("*/metrics.json")
    for written in (metrics_json, entry):
        assert str(tmp_path) not in written.read_text()
    (tmp_path / "results").rename(tmp_path / "moved")
    moved_json = tmp_path / "moved" / "evals" / "cell" / "metrics.json"
    recorded = io.read_json(moved_json)
    for key, expected in (
        ("model_path", "cache/models/m/base"),
        ("log_file", "evals/cell/logs/first.eval"),
        ("reused_log", "baselines/logs/first.eval"),
    ):
        assert io.recorded_path(recorded[key], moved_json) == tmp_path / "moved" / expected
    assert io.recorded_path(recorded["reused_from"], moved_json) == tmp_path / "moved" / "cache/models/m/base"


def test_a_reused_evaluation_gets_a_log_of_its_own_naming_its_cell(tmp_path, monkeypatch, gsm8k_log):
    """The no-op agent's copy of the base model reuses the baseline's evaluation: its logs folder holds
    a copy of the .eval log named for the cell (model, tags, metadata: `inspect view` finds it by
    agent), the same samples and scores, so its metrics.json is reproduced from the log beside it. A
    stored log that is gone cannot back a copy: the evaluation runs again."""
    model = tmp_path / "cache" / "m"
    model.mkdir(parents=True)
    (model / "config.json").write_text("{}")
    io.write_json(tmp_path / "model.json", {"path": str(model)})
    baseline = {"model": "m", "variant": "base"}
    named = gsm8k_log.model_copy(deep=True)  # as evaluate() names a baseline's log
    named.eval.model, named.eval.metadata = "mockllm/m/base", {**baseline, "protocol": POSTTRAINBENCH_V1}
    named.location = str(tmp_path / "base" / "first.eval")
    write_eval_log(named, named.location)
    runs = []

    def evaluate(**kw):
        runs.append(kw["cell"])
        return {"outcome": "ok", **evaluation.summarise(named)}

    monkeypatch.setattr(evaluation, "evaluate", evaluate)
    settings = {"protocol": POSTTRAINBENCH_V1, "evaluation": {}, "limit": None, "task_args": {}}
    job = dict(dataset_dir="d", benchmark="gsm8k", family="qwen3", settings=settings, throughput={})
    job.update(store=str(tmp_path / "store"), model_json=str(tmp_path / "model.json"), agent_json=None)
    first = evaluation.evaluate_job(**job, log_dir=str(tmp_path / "base"), cell=baseline)
    noop = {"agent": "noop", "model": "m", "benchmark": "gsm8k", "seed": "1"}
    copy = evaluation.evaluate_job(**job, log_dir=str(tmp_path / "noop"), cell=noop)
    assert len(runs) == 1 and copy["reused_log"] == first["log_file"] == named.location
    assert Path(copy["log_file"]).parent == tmp_path / "noop"
    own = read_eval_log(copy["log_file"])
    assert own.eval.model == "mockllm/noop/m/seed1" and "agent=noop" in own.eval.tags
    assert own.eval.metadata["agent"] == "noop" and own.eval.metadata["protocol"] == POSTTRAINBENCH_V1
    assert own.eval.metadata["reused_model"] == "mockllm/m/base"
    assert own.eval.eval_id != gsm8k_log.eval.eval_id
    assert (
        Path(copy["log_file"]).parent.joinpath(own.eval.metadata["reused_log"]).resolve()
        == Path(named.location).resolve()
    )
    assert [s.scores for s in own.samples] == [s.scores for s in gsm8k_log.samples]
    again = evaluation.summarise(own)
    assert {k: again[k] for k in ("score", "stderr", "ci95", "samples_scored")} == {
        k: copy[k] for k in ("score", "stderr", "ci95", "samples_scored")
    }
    # the baseline evaluated again (forcerun): the stored log is its own, left as it is
    assert (
        evaluation.evaluate_job(**job, log_dir=str(tmp_path / "base"), cell=baseline)["log_file"]
        == named.location
    )
    assert read_eval_log(named.location).eval.tags == named.eval.tags and len(runs) == 1
    # the baseline's log gone (a store entry outliving it): no copy of nothing, the evaluation runs again
    (tmp_path / "store").joinpath(first["evaluation_key"], "metrics.json").write_text(
        json.dumps({**first, "log_file": str(tmp_path / "gone.eval")})
    )
    again = evaluation.evaluate_job(**job, log_dir=str(tmp_path / "noop2"), cell=noop)
    assert len(runs) == 2 and "reused_from" not in again

    # a copy that fails half-written (a full disk) leaves nothing beside the cell's logs
    def full_disk(log, location, **kw):
        Path(location).write_bytes(b"PK half a zip")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(inspect_ai.log, "write_eval_log", full_disk)
    sft = {**noop, "agent": "sft"}
    with pytest.raises(OSError, match="No space left"):
        evaluation.evaluate_job(**job, log_dir=str(tmp_path / "sft"), cell=sft)
    assert list((tmp_path / "sft").iterdir()) == []


def test_the_hf_model_decodes_as_the_task_says_and_samples_for_profiling(monkeypatch):
    seen = []
    monkeypatch.setattr("inspect_ai.model.get_model", lambda name, **args: seen.append(args))
    evaluation.model_for("hf", "/models/m", "qwen3", "gsm8k", HF)
    assert seen[-1]["do_sample"] is False and seen[-1]["batch_size"] == HF["max_connections"]
    assert "config" not in seen[-1]  # the task's GenerateConfig applies, seed included
    sampling = {"temperature": 0.7, "seed": 11, "top_p": None, "max_tokens": None}
    evaluation.model_for("hf", "/models/m", "qwen3", "bfcl", HF, sampling)
    assert seen[-1]["do_sample"] is True and seen[-1]["config"].seed == 11
    # the tools template of the protocol, as evaluate picks it
    assert seen[-1]["chat_template"] == chat_template("qwen3", tools=True, protocol=POSTTRAINBENCH_V1)
    evaluation.model_for("hf", "/models/m", "gemma3", "bfcl", HF, protocol=CORRECTED)
    assert seen[-1]["chat_template"] == chat_template("gemma3", tools=True, protocol=CORRECTED)


def test_sampling_overrides_the_tasks_generation_and_drops_its_seed():
    task = tasks.load_task("gsm8k", tasks.task_dir("gsm8k") / "data", limit=1, fewshot=0)
    pinned = tasks.spec("gsm8k")["generation"]
    sampled = evaluation.sampling_config(task.config, {"temperature": 0.9, "top_p": None, "max_tokens": 64})
    assert (sampled.temperature, sampled.top_p, sampled.max_tokens, sampled.seed) == (
        0.9,
        pinned["top_p"],
        64,
        None,
    )
    assert task.config.seed == pinned["seed"], "the task's own config is left alone"


def test_an_eval_whose_grader_never_answered_is_an_eval_error_naming_why(tmp_path, monkeypatch):
    """Every sample generated, none graded (the grader's replies do not parse): not a score of 0."""
    monkeypatch.setattr(evaluation, "model_for", lambda *a, **k: scripted_model(lambda p: "Drink water."))
    grader = scripted_model(lambda prompt: "I would rather not grade this.", "grader")
    monkeypatch.setattr(evaluation, "grader_role", lambda *a, **k: {tasks.GRADER_ROLE: grader})
    metrics = evaluate_local(
        tmp_path,
        "healthbench",
        limit=2,
        protocol=CORRECTED,
    )
    assert metrics["outcome"] == "eval_error" and metrics["samples_scored"] == 0
    assert metrics["reason"].startswith(f"all {metrics['samples_failed']} samples failed; first: ")
    assert len(metrics["reason"]) > len("all 2 samples failed; first: ") + 10  # the grader's explanation


def test_a_full_disk_outside_the_eval_fails_the_job_not_the_model(tmp_path, monkeypatch):
    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device", str(tmp_path / "logs"))

    monkeypatch.setattr(evaluation, "model_for", full_disk)
    with pytest.raises(evaluation.faults.InfraFailure, match="No space left on device|disk full"):
        evaluate_local(tmp_path, "gsm8k", limit=2)
