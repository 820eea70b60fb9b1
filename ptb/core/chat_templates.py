"""Chat templates by model family and protocol.

The evaluator picks the template from the family that the config declares for the
base model, never from a model path or from final_model/config.json, so an agent
cannot change how its model is prompted.

Under `posttrainbench-v1` the templates are PostTrainBench's own (src/eval/templates/, in
templates/posttrainbench-v1/, byte for byte): qwen3.jinja, gemma3.jinja (gemma3_tool_calling.jinja
for tool calling, as its bfcl/evaluate.py picks) and smollm.jinja, whose SmolLM3 system header
carries the date of the run. Families PostTrainBench has no template for (the demo's smollm2,
chatml) use the workflow's own.

The workflow's own templates (templates/*.jinja, the corrected protocol) follow each family's
instruct model's official format (see the comment at the top of each file); a tool-calling task
(task.yaml `tool_calling:`) uses the same template where it renders tools already, and a variant
where the official template has no tools (gemma3). They differ from v1's where v1's are wrong:
PostTrainBench's Gemma tool template glues the role to the text ("<start_of_turn>userI've..."),
and its SmolLM3 prompt changes with the day the evaluation runs.
"""

from pathlib import Path

from ptb.core import protocol as protocols

TEMPLATES = Path(__file__).parent / "templates"
V1_TEMPLATES = TEMPLATES / protocols.POSTTRAINBENCH_V1
FAMILY_TEMPLATE = {
    "qwen3": "qwen3.jinja",
    "smollm3": "smollm3.jinja",
    "smollm2": "smollm2.jinja",
    "gemma3": "gemma3.jinja",
    "chatml": "chatml.jinja",
}
TOOL_VARIANT = {"gemma3": "gemma3_tools.jinja"}
# family -> (template, tool-calling template) as PostTrainBench's evaluate.py files pick them
V1_FAMILY_TEMPLATE = {
    "qwen3": ("qwen3.jinja", "qwen3.jinja"),
    "gemma3": ("gemma3.jinja", "gemma3_tool_calling.jinja"),
    "smollm3": ("smollm.jinja", "smollm.jinja"),
}


def template_path(family: str, tools: bool = False, protocol: str = protocols.CORRECTED) -> Path:
    try:
        name = FAMILY_TEMPLATE[family]
    except KeyError:
        raise ValueError(
            f"unknown model family {family!r}; known: {', '.join(sorted(FAMILY_TEMPLATE))}"
        ) from None
    if protocol == protocols.POSTTRAINBENCH_V1 and family in V1_FAMILY_TEMPLATE:
        return V1_TEMPLATES / V1_FAMILY_TEMPLATE[family][tools]
    return TEMPLATES / (TOOL_VARIANT.get(family, name) if tools else name)


def chat_template(family: str, tools: bool = False, protocol: str = protocols.CORRECTED) -> str:
    return template_path(family, tools, protocol).read_text()


def tool_template(family: str, protocol: str = protocols.CORRECTED) -> str:
    """The template for tool-calling tasks (renders the `tools` passed to apply_chat_template)."""
    return chat_template(family, tools=True, protocol=protocol)


def render_prompt(
    template: str,
    messages: list[dict],
    tools: list[dict] | None = None,
    *,
    bos_token: str | None = None,
    eos_token: str | None = None,
    today=None,
) -> str:
    """The prompt a chat request becomes, as vLLM renders it: transformers' chat-template renderer
    (its tojson keeps key order), the tokenizer's special tokens and the generation prompt.
    today: a datetime for templates that print the date (SmolLM3's v1 header); default: now."""
    import datetime  # noqa: PLC0415

    from transformers.utils import chat_template_utils  # noqa: PLC0415 (heavy; rendering only)

    real = chat_template_utils.datetime
    if today is not None:

        class Frozen(datetime.datetime):
            @classmethod
            def now(cls, tz=None):
                return today

        chat_template_utils.datetime = Frozen
    try:
        return chat_template_utils._compile_jinja_template(template).render(
            messages=messages,
            tools=tools,
            add_generation_prompt=True,
            bos_token=bos_token,
            eos_token=eos_token,
        )
    finally:
        chat_template_utils.datetime = real
