"""Scripted models: inspect's mockllm answering by looking at its prompt (validate-task, tests).

Outputs carry token usage, or inspect would load a tokenizer (from a hub) to count it.
"""

from __future__ import annotations

from inspect_ai.model import ModelOutput, ModelUsage, get_model

from ptb.core import tasks
from ptb.evaluation import inspect_runner

USAGE = ModelUsage(input_tokens=10, output_tokens=10, total_tokens=20)
NO_REPLY = object()  # by_fragment's default: a prompt without a scripted reply is an error


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
    """A mockllm model whose reply is answer(prompt text): a str or a ModelOutput (a tool call,
    say; copied, with usage added where it has none)."""

    def generate(messages, tools, tool_choice, config):
        out = answer(prompt_text(messages))
        if not isinstance(out, ModelOutput):
            return reply(out)
        out = out.model_copy(deep=True)
        out.usage = out.usage or USAGE
        return out

    return get_model(f"mockllm/{name}", custom_outputs=generate, memoize=False)


def by_fragment(replies: dict, default=NO_REPLY):
    """answer() for scripted(): the reply of the first key found in the prompt (keys in order);
    `default` where none is found (else an error naming the prompt)."""

    def answer(prompt: str):
        for fragment, out in replies.items():
            if fragment and fragment in prompt:
                return out
        if default is NO_REPLY:
            raise LookupError(f"no scripted reply for prompt {prompt[:200]!r}")
        return default

    return answer


def run(task, model, log_dir, grader=None):
    """Evaluate offline; the eval itself must succeed (graded failures are per sample)."""
    [log] = inspect_runner.run(
        task,
        model=model,
        model_roles={tasks.GRADER_ROLE: grader} if grader else None,
        display="none",
        log_dir=str(log_dir),
        score_display=False,
    )
    if log.status != "success":
        raise RuntimeError(f"the scripted eval failed: {log.error}")
    return log


def values(log) -> dict:
    """Sample id -> value of the task's score."""
    return {s.id: next(iter(s.scores.values())).value for s in log.samples}


def scores(log) -> dict:
    return {s.id: next(iter(s.scores.values())) for s in log.samples}
