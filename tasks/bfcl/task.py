"""BFCL exec_simple: offer the function as a tool; score the one call the model makes.

The model must answer with a tool call (parsed by the serving stack: vLLM's hermes parser,
or inspect's hf provider); a call written as plain text does not count.
"""

import ast
import json
from pathlib import Path

from inspect_ai import Task, task
from inspect_ai.dataset import Sample
from inspect_ai.model import ModelOutput
from inspect_ai.scorer import CORRECT, INCORRECT, Score, Target, accuracy, scorer, stderr
from inspect_ai.solver import TaskState, solver
from inspect_ai.tool import ToolDef, ToolParams

from ptb.task_builder import TaskFolder, chat_messages
from ptb.tasks import read_jsonl

TASK = TaskFolder(__file__)

# BFCL writes Python type names in its JSON schemas
JSON_TYPES = {"dict": "object", "float": "number", "tuple": "array", "any": None}


def json_schema(schema: dict) -> dict:
    """A BFCL parameter schema as JSON Schema."""
    out = {}
    for key, value in schema.items():
        if key == "type":
            value = JSON_TYPES.get(value, value)
        elif key == "properties":
            value = {name: json_schema(prop) for name, prop in value.items()}
        elif key == "items":
            value = json_schema(value)
        if value is not None:
            out[key] = value
    return out


def tool_def(function: dict) -> ToolDef:
    async def never_called(**kwargs):  # the call is scored, not executed
        raise RuntimeError("BFCL tools are not executed")

    params = json_schema(function["parameters"])
    return ToolDef(
        never_called,
        name=function["name"],
        description=function.get("description", ""),
        parameters=ToolParams(properties=params.get("properties", {}), required=params.get("required", [])),
    )


def parse_call(source: str) -> dict:
    """'f(a=1, b=[2, 3])' -> {"function": "f", "arguments": {"a": 1, "b": [2, 3]}} (tuples as lists)."""
    call = ast.parse(source.strip(), mode="eval").body
    arguments = {kw.arg: ast.literal_eval(kw.value) for kw in call.keywords}
    return {"function": ast.unparse(call.func), "arguments": json.loads(json.dumps(arguments))}


def record_to_sample(record: dict) -> Sample:
    [turns] = record["question"]  # exec_simple: one turn, one function, one answer
    [function] = record["function"]
    [truth] = record["ground_truth"]
    return Sample(
        id=record["id"],
        input=chat_messages(turns),
        target=truth,
        metadata={"function": function, "expected": parse_call(truth)},
    )


def reference_completion(sample: Sample) -> ModelOutput:
    """A right answer (validate-task checks that it scores 1): the expected call, as a tool call."""
    expected = sample.metadata["expected"]
    return ModelOutput.for_tool_call("reference", expected["function"], expected["arguments"])


@solver
def offer_tool():
    async def solve(state: TaskState, generate):
        state.tools = [tool_def(state.metadata["function"])]
        state.tool_choice = "auto"
        return await generate(state, tool_calls="none")  # record the call, do not run it

    return solve


def same_value(got, expected) -> bool:
    """Equal after JSON normalisation (tuples are lists; 5 == 5.0; strings exact)."""
    return json.loads(json.dumps(got)) == expected


@scorer(metrics=[accuracy(), stderr()])
def call_match():
    async def score(state: TaskState, target: Target) -> Score:
        calls = state.output.message.tool_calls or []
        expected = state.metadata["expected"]
        made = [{"function": c.function, "arguments": c.arguments} for c in calls]
        correct = (
            len(calls) == 1
            and not calls[0].parse_error
            and calls[0].function == expected["function"]
            and same_value(calls[0].arguments, expected["arguments"])
        )
        return Score(
            value=CORRECT if correct else INCORRECT,
            answer=json.dumps(made),
            explanation=state.output.completion,
        )

    return score


@task
def bfcl(data_dir: str, limit: int | None = None) -> Task:
    samples = [record_to_sample(r) for r in read_jsonl(Path(data_dir) / "test.jsonl")]
    return TASK.build(samples, limit=limit, solver=offer_tool(), scorer=call_match())


def test_texts(record: dict) -> list[str]:
    """What the judge's contamination check compares training data against."""
    return [m["content"] for turn in record["question"] for m in turn] + list(record["ground_truth"])
