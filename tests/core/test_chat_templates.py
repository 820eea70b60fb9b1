"""Chat templates by family: official formats, tools where a task calls tools."""

import pytest
from transformers.utils.chat_template_utils import _compile_jinja_template

from ptb.core.chat_templates import FAMILY_TEMPLATE, chat_template, template_path, tool_template

CHAT = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Hi"},
    {"role": "assistant", "content": "<think>greet</think>\n\nHello!"},
    {"role": "user", "content": "2+2?"},
]
TOOLS = [
    {
        "name": "add",
        "description": "Add two numbers",
        "parameters": {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]},
    }
]
CALL = [
    {"role": "user", "content": "Add 1."},
    {
        "role": "assistant",
        "content": "",
        "tool_calls": [{"type": "function", "function": {"name": "add", "arguments": {"a": 1}}}],
    },
    {"role": "tool", "content": "1"},
]


def render(template: str, messages, **kwargs) -> str:
    return _compile_jinja_template(template).render(
        messages=messages, add_generation_prompt=True, bos_token="<bos>", **kwargs
    )


def test_qwen3_drops_old_reasoning_and_can_prefill_no_thinking():
    text = render(chat_template("qwen3"), CHAT)
    assert text == (
        "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
        "<|im_start|>assistant\nHello!<|im_end|>\n"
        "<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n"
    )
    no_thinking = render(chat_template("qwen3"), CHAT, enable_thinking=False)
    assert no_thinking.endswith("<|im_start|>assistant\n<think>\n\n</think>\n\n")


def test_gemma3_folds_the_system_prompt_into_the_first_user_turn():
    text = render(chat_template("gemma3"), CHAT)
    assert text.startswith("<bos><start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n<start_of_turn>model\n")
    assert text.endswith("<start_of_turn>user\n2+2?<end_of_turn>\n<start_of_turn>model\n")
    assert "system" not in text


def test_smollm_templates():
    assert render(chat_template("smollm2"), CHAT[1:2]).startswith(
        "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
    )
    smollm3 = render(chat_template("smollm3"), CHAT)
    assert "Reasoning Mode: /think" in smollm3 and "Be brief." in smollm3
    assert "Today Date" not in smollm3, "a prompt must not change with the day of the run"
    no_thinking = render(chat_template("smollm3"), CHAT, enable_thinking=False)
    assert no_thinking.endswith("<|im_start|>assistant\n<think>\n\n</think>\n")


@pytest.mark.parametrize("family", ["qwen3", "smollm3", "gemma3"])
def test_tool_templates_offer_tools_and_replay_calls_in_hermes_format(family):
    text = render(tool_template(family), CALL, tools=TOOLS)
    assert '"description": "Add two numbers"' in text.replace("'", '"'), "the signature is offered"
    assert '<tool_call>\n{"name": "add", "arguments": {"a": 1}}\n</tool_call>' in text
    assert "1" in text.split("</tool_call>")[-1]


def test_gemma3_tool_variant_is_gemma3_without_tools():
    assert template_path("gemma3", tools=True).name == "gemma3_tools.jinja"
    assert render(tool_template("gemma3"), CHAT) == render(chat_template("gemma3"), CHAT)
    assert template_path("qwen3", tools=True) == template_path("qwen3")


def test_every_family_has_a_template_and_unknown_ones_fail():
    for family in FAMILY_TEMPLATE:
        assert template_path(family).exists()
    with pytest.raises(ValueError, match="unknown model family"):
        template_path("llama")
