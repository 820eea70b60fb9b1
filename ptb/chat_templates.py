"""Chat templates by model family.

The evaluator picks the template from the family that the config declares for the
base model, never from a model path or from final_model/config.json, so an agent
cannot change how its model is prompted.

Each family's template follows its instruct model's official format (see the comment at
the top of each file). A tool-calling task (task.yaml `tool_calling:`) uses
tool_template(family): the same template where it renders tools already, and a variant
where the official template has no tools (gemma3).
"""

from pathlib import Path

TEMPLATES = Path(__file__).parent / "templates"
FAMILY_TEMPLATE = {
    "qwen3": "qwen3.jinja",
    "smollm3": "smollm3.jinja",
    "smollm2": "smollm2.jinja",
    "gemma3": "gemma3.jinja",
    "chatml": "chatml.jinja",
}
TOOL_VARIANT = {"gemma3": "gemma3_tools.jinja"}


def template_path(family: str, tools: bool = False) -> Path:
    try:
        name = FAMILY_TEMPLATE[family]
    except KeyError:
        raise ValueError(
            f"unknown model family {family!r}; known: {', '.join(sorted(FAMILY_TEMPLATE))}"
        ) from None
    return TEMPLATES / (TOOL_VARIANT.get(family, name) if tools else name)


def chat_template(family: str, tools: bool = False) -> str:
    return template_path(family, tools).read_text()


def tool_template(family: str) -> str:
    """The template for tool-calling tasks (renders the `tools` passed to apply_chat_template)."""
    return chat_template(family, tools=True)
