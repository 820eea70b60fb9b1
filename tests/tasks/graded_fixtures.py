"""The fixtures recorded from PostTrainBench v1's own code for the LLM-graded tasks
(tests/fixtures/posttrainbench_v1/graded/, see its README), a task folder's scoring module, and
a grader that replays the replies PostTrainBench's code path received."""

from __future__ import annotations

import collections
import functools
import hashlib
import json

from inspect_ai.model import get_model

from ptb.core import tasks
from ptb.core.paths import REPO_ROOT
from ptb.evaluation.scripted_model import reply

FIXTURES = REPO_ROOT / "tests" / "fixtures" / "posttrainbench_v1" / "graded"


@functools.cache
def fixture(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


@functools.cache
def scoring(task: str):
    """tasks/<task>/scoring.py."""
    return tasks.module(task, "scoring")


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class ReplayGrader:
    """A mockllm grader answering each prompt (its last message, by sha256) with the replies
    PostTrainBench's grader gave that prompt, call after call: an API error where one was
    recorded. A prompt PostTrainBench never sent is kept in `unknown` (and answered with an
    error, which the task would take for an API failure: tests assert `unknown` is empty)."""

    def __init__(self, calls: dict[str, list[dict]]):
        self.calls, self.used, self.unknown, self.configs = calls, collections.Counter(), [], []

    def model(self):
        return get_model("mockllm/grader", custom_outputs=self.generate, memoize=False)

    def generate(self, messages, tools, tool_choice, config):
        key = sha(messages[-1].text)
        self.configs.append(config)
        if key not in self.calls or self.used[key] >= len(self.calls[key]):
            self.unknown.append(messages[-1].text[:300])
            raise LookupError("a grader prompt PostTrainBench did not send (or not that often)")
        call = self.calls[key][self.used[key]]
        self.used[key] += 1
        if "raise" in call:
            raise RuntimeError(f"recorded grader failure: {call['raise']}")
        return reply(call["reply"] or "")  # a reply without content reads as an empty one

    def unreplayed(self) -> dict[str, int]:
        """Recorded calls this run did not make (prompt sha256 -> how many)."""
        return {k: len(v) - self.used[k] for k, v in self.calls.items() if len(v) != self.used[k]}


def grader_from(reply_for):
    """A mockllm grader whose reply is reply_for(its last message's text): a str, or an exception
    to raise (an API failure)."""

    def generate(messages, tools, tool_choice, config):
        out = reply_for(messages[-1].text)
        if isinstance(out, Exception):
            raise out
        return reply(out)

    return get_model("mockllm/grader", custom_outputs=generate, memoize=False)


LABELS = ["A>>B", "A>B", "A=B", "B>A", "B>>A"]


def hashed_verdict(game: str) -> str:
    """The fixtures' self-comparison judge: a label that is a function of the game's prompt."""
    return f"Verdict: [[{LABELS[int(sha(game), 16) % len(LABELS)]}]]"
