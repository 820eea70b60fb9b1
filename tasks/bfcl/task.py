"""BFCL exec_simple as PostTrainBench runs it (its task_context/bfcl_evaluation_code.py, inspect_evals'
bfcl of that time): the request's one function offered as a tool, the one call the model makes
scored against the ground truth.

The model must answer with a tool call (parsed by the serving stack: vLLM's hermes parser, or
inspect's hf provider); a call written as plain text does not count.
"""

from pathlib import Path

from inspect_ai import Task, task
from inspect_ai.dataset import Sample
from inspect_ai.model import ChatMessageAssistant, ModelOutput
from inspect_ai.scorer import CORRECT, INCORRECT, Score, Target, accuracy, scorer, stderr
from inspect_ai.solver import TaskState, solver
from inspect_ai.tool import ToolInfo, ToolParam, ToolParams

from ptb.core.tasks import read_jsonl
from ptb.evaluation import answers
from ptb.evaluation.task_builder import TaskFolder, chat_messages

TASK = TaskFolder(__file__)

# BFCL writes Python type names in its JSON schemas
JSON_TYPES = {"dict": "object", "float": "number", "tuple": "array"}


def tool_param(spec: dict) -> ToolParam:
    """A BFCL parameter schema as inspect's ToolParam, field by field as PostTrainBench maps it."""
    kind = spec.get("type")
    return ToolParam(
        type=JSON_TYPES.get(kind, kind),
        description=spec.get("description"),
        default=spec.get("default"),
        enum=spec.get("enum"),
        items=tool_param(spec["items"]) if spec.get("items") else None,
        properties={k: tool_param(v) for k, v in spec["properties"].items() if v is not None}
        if spec.get("properties")
        else None,
        additionalProperties=spec.get("additionalProperties"),
        required=spec.get("required"),
    )


def tool_info(function: dict) -> ToolInfo:
    parameters = tool_param(function["parameters"])
    return ToolInfo(
        name=function["name"],
        description=function["description"],
        parameters=ToolParams(properties=parameters.properties or {}, required=parameters.required or []),
    )


def record_to_sample(record: dict) -> Sample:
    [turns] = record["question"]  # exec_simple: one turn, one function, one answer
    [truth] = record["ground_truth"]
    return Sample(
        id=record["id"],
        input=chat_messages(turns),
        target=truth,
        metadata={"tools": record["function"], "expected": answers.bfcl_expected(truth)},
    )


def reference_completion(sample: Sample) -> ModelOutput:
    """A right answer (validate-task checks that it scores 1): the expected call, as a tool call."""
    expected = sample.metadata["expected"]
    return ModelOutput.for_tool_call("reference", expected["function"], expected["arguments"])


@solver
def offer_tools():
    async def solve(state: TaskState, generate):
        state.tools.extend(tool_info(function) for function in state.metadata["tools"])
        return await generate(state, tool_calls="none")  # record the call, do not run it

    return solve


@scorer(metrics=[accuracy(), stderr()])
def call_match():
    async def score(state: TaskState, target: Target) -> Score:
        replies = [m for m in state.messages if isinstance(m, ChatMessageAssistant)]
        calls = [(c.function, c.arguments) for c in (replies[0].tool_calls or [])] if replies else []
        correct = len(replies) == 1 and answers.bfcl_correct(calls, state.metadata["expected"])
        return Score(
            value=CORRECT if correct else INCORRECT,
            answer="; ".join(f"{f}({a})" for f, a in calls),
            explanation=state.output.completion,
        )

    return score


@task
def bfcl(data_dir: str, limit: int | None = None, protocol: str | None = None) -> Task:
    """protocol: both protocols score BFCL alike (PostTrainBench's rule is sound)."""
    samples = [record_to_sample(r) for r in read_jsonl(Path(data_dir) / "test.jsonl")]
    return TASK.build(samples, limit=limit, solver=offer_tools(), scorer=call_match())


def test_texts(record: dict) -> list[str]:
    """What the judge's contamination check compares training data against."""
    return [m["content"] for turn in record["question"] for m in turn] + list(record["ground_truth"])
