"""PostTrainBench's chat templates render PostTrainBench's requests byte for byte here.

tests/fixtures/posttrainbench_v1/prompts.json holds the messages and tools PostTrainBench's tasks
sent and the prompt its templates rendered from them (transformers 4.57.3, as in its container);
this workflow's renderer (the pinned transformers) and the v1 template of each family must give
the same bytes. That the workflow's tasks send the same messages is test_posttrainbench_v1.py's.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest

from ptb.core.chat_templates import chat_template, render_prompt
from ptb.core.protocol import CORRECTED, POSTTRAINBENCH_V1

FIXTURES = Path(__file__).parents[1] / "fixtures" / "posttrainbench_v1"
PROMPTS = json.loads((FIXTURES / "prompts.json").read_text())
FIXED_DATE = datetime.datetime.strptime(PROMPTS["meta"]["smollm3_date"], "%d %B %Y")
SPECIAL = {"qwen3": (None, "<|im_end|>"), "gemma3": ("<bos>", "<eos>"), "smollm3": (None, "<|im_end|>")}


def render(template: str, messages: list, tools: list | None, family: str) -> str:
    """As vLLM renders a chat request, SmolLM3's "Today Date" frozen to the fixtures' day."""
    bos, eos = SPECIAL[family]
    return render_prompt(template, messages, tools, bos_token=bos, eos_token=eos, today=FIXED_DATE)


@pytest.mark.parametrize(
    "prompt", PROMPTS["prompts"], ids=[f"{p['task']}-{p['family']}-{p['index']}" for p in PROMPTS["prompts"]]
)
def test_v1_templates_render_posttrainbench_prompts_exactly(prompt):
    template = chat_template(prompt["family"], tools=bool(prompt["tools"]), protocol=POSTTRAINBENCH_V1)
    assert render(template, prompt["messages"], prompt["tools"], prompt["family"]) == prompt["rendered"]


def test_the_corrected_templates_fix_gemma_tool_turns_and_the_smollm3_date():
    [gemma] = [p for p in PROMPTS["prompts"] if (p["task"], p["family"], p["index"]) == ("bfcl", "gemma3", 0)]
    assert "<start_of_turn>userI've" in gemma["rendered"], "v1 glues the role to the text"
    fixed = render(
        chat_template("gemma3", tools=True, protocol=CORRECTED), gemma["messages"], gemma["tools"], "gemma3"
    )
    assert "<start_of_turn>user\n# Tools" in fixed and "<start_of_turn>userI" not in fixed
    [smol] = [
        p for p in PROMPTS["prompts"] if (p["task"], p["family"], p["index"]) == ("gsm8k", "smollm3", 0)
    ]
    assert "Today Date: " in smol["rendered"]
    assert "Today Date" not in render(
        chat_template("smollm3", protocol=CORRECTED), smol["messages"], None, "smollm3"
    )
