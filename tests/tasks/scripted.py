"""Scripted models for the task tests: mockllm that answers by looking at its prompt.

Outputs carry token usage, or inspect would load a tokenizer (from a hub) to count it.
"""

from __future__ import annotations

from inspect_ai import eval as inspect_eval
from inspect_ai.model import ModelOutput, ModelUsage, get_model

USAGE = ModelUsage(input_tokens=10, output_tokens=10, total_tokens=20)


def reply(content: str, stop_reason: str = "stop") -> ModelOutput:
    output = ModelOutput.from_content("mockllm", content, stop_reason=stop_reason)
    output.usage = USAGE
    return output


def tool_reply(name: str, arguments: dict, content: str = "") -> ModelOutput:
    output = ModelOutput.for_tool_call("mockllm", name, arguments, content=content or None)
    output.usage = USAGE
    return output


def prompt_text(messages) -> str:
    return "\n".join(m.text for m in messages)


def scripted(answer, name: str = "model"):
    """A mockllm model whose reply is answer(prompt text): a str or a ModelOutput."""

    def generate(messages, tools, tool_choice, config):
        out = answer(prompt_text(messages))
        return out if isinstance(out, ModelOutput) else reply(out)

    return get_model(f"mockllm/{name}", custom_outputs=generate, memoize=False)


def by_fragment(replies: dict[str, str | ModelOutput]):
    """answer() for scripted(): the reply of the first key found in the prompt."""

    def answer(prompt: str):
        for fragment, out in replies.items():
            if fragment in prompt:
                return out
        raise AssertionError(f"no scripted reply for prompt {prompt[:200]!r}")

    return answer


def run(task, model, log_dir, grader=None):
    """Evaluate offline; the eval itself must succeed (graded failures are per sample)."""
    [log] = inspect_eval(
        task,
        model=model,
        model_roles={"grader": grader} if grader else None,
        display="none",
        log_dir=str(log_dir),
        score_display=False,
    )
    assert log.status == "success", log.error
    return log


def values(log) -> dict:
    """Sample id -> value of the task's score."""
    return {s.id: next(iter(s.scores.values())).value for s in log.samples}


def scores(log) -> dict:
    return {s.id: next(iter(s.scores.values())) for s in log.samples}
