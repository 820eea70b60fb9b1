"""Every task's scorer through the five cases the add-a-benchmark guide asks for, one table:
verify pass, verify fail (wrong output), verify fail (no answer or no code extracted), verify fail
(code that does not compile or run, where a task runs code or calls), verify timeout (the sandbox's
limit for HumanEval, a reply cut off at max_tokens, a grader that times out); and HumanEval's
exploits. Replies are scripted (mockllm): no model inference.

Each row gets its own test sample; one eval per task scores them all, under both protocols.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

import pytest
from inspect_ai import task_with
from inspect_ai.dataset import Sample
from inspect_ai.model import ModelOutput
from inspect_ai.scorer import CORRECT, INCORRECT, NOANSWER

from ptb.core.protocol import CORRECTED, POSTTRAINBENCH_V1
from ptb.core.tasks import load_task, module, read_jsonl, task_dir
from ptb.evaluation.scripted_model import reply, run, scores, scripted, tool_reply
from ptb.inputs.cache import prepare_dataset


@dataclass
class Case:
    name: str
    answer: Callable[[Sample], str | ModelOutput]  # the model's reply to the row's sample
    expected: object  # the score's value, a predicate on it, or {protocol: either}
    explanation: str = ""  # a regex the score's explanation must match
    protocols: tuple[str, ...] = (POSTTRAINBENCH_V1, CORRECTED)  # where the row is scored


EXIT_ZERO = {POSTTRAINBENCH_V1: CORRECT, CORRECTED: INCORRECT}  # a program that exits 0 unchecked


def key(sample: Sample) -> str:
    """Text of the sample that its prompt contains (the last turn of a chat input)."""
    return sample.input if isinstance(sample.input, str) else sample.input[-1].text


def cut_off(text: str) -> ModelOutput:
    """A reply stopped by max_tokens (the model ran out of its budget mid-way)."""
    return reply(text, stop_reason="max_tokens")


# --- graders for the LLM-graded tasks: they judge the rows by a marker in the model's answer ------

WIN, LOSE, SILENT, SLOW = "essay-that-wins", "essay-that-loses", "essay-no-verdict", "essay-grader-timeout"


def arena_grader(prompt: str) -> str:
    """A decisive verdict for the WIN answer (or against the LOSE one), wherever it stands."""
    answer_a = prompt.split("<|The Start of Assistant A's Answer|>")[1].split("<|The End")[0]
    if SLOW in prompt:
        raise TimeoutError("grader request timed out")
    if SILENT in prompt:
        return "Both are fine, I cannot decide."
    # the model's answer holds a marker, or is empty (a grader asked about an empty answer)
    model_is = "A" if (WIN in answer_a or LOSE in answer_a or not answer_a.strip()) else "B"
    other = "B" if model_is == "A" else "A"
    return f"[[{model_is}>>{other}]]" if WIN in prompt else f"[[{other}>>{model_is}]]"


def health_grader(prompt: str) -> str:
    """WIN meets every positive item and no penalty item; LOSE the reverse."""
    if SLOW in prompt:
        raise TimeoutError("grader request timed out")
    if SILENT in prompt:
        return "I would need more context."
    penalty = any(criterion in prompt for criterion in PENALTIES)  # the one item asked about
    met = (WIN in prompt) != penalty
    return '```json\n{"explanation": "scripted", "criteria_met": %s}\n```' % str(met).lower()


PENALTIES: set[str] = set()  # the penalty criteria of the rows' samples, filled by the helper


def AT_MOST_ZERO(value) -> bool:
    return isinstance(value, float) and value <= 0.0


# --- the table -----------------------------------------------------------------------------------


def numeric_target(sample: Sample) -> str:
    return sample.target if isinstance(sample.target, str) else sample.target[0]


def wrong_number(sample: Sample) -> str:
    return str(int(float(numeric_target(sample))) + 1)


def bfcl_call(sample: Sample, **changes) -> ModelOutput:
    expected = sample.metadata["expected"]
    return tool_reply(
        changes.get("function", expected["function"]), changes.get("arguments", expected["arguments"])
    )


def bfcl_wrong(sample: Sample) -> ModelOutput:
    arguments = dict(sample.metadata["expected"]["arguments"])
    name = next(iter(arguments))
    arguments[name] = "not-the-value"
    return bfcl_call(sample, arguments=arguments)


def other_letter(sample: Sample) -> str:
    return "B" if sample.target == "A" else "A"


def he_body(sample: Sample, body: str) -> str:
    return f"```python\n{sample.metadata['prompt']}{body}\n```"


def he_solution(sample: Sample) -> str:
    return he_body(sample, RECORDS["humaneval"][sample.id]["canonical_solution"])


RECORDS: dict[str, dict] = {}  # task -> sample id -> record (the helper fills humaneval's)

CASES = {
    "gsm8k": [
        Case("pass", lambda s: f"Adding up.\nANSWER: {numeric_target(s)}", CORRECT),
        Case("fail: wrong number", lambda s: f"ANSWER: {wrong_number(s)}", INCORRECT),
        Case("fail: no answer", lambda s: "I cannot work this out.", INCORRECT),
        Case("timeout: cut off at max_tokens", lambda s: cut_off("First, let me restate the"), INCORRECT),
    ],
    "aime2025": [
        Case("pass", lambda s: f"So the result is\nANSWER: {numeric_target(s)}", CORRECT),
        Case("fail: wrong number", lambda s: f"ANSWER: {wrong_number(s)}", INCORRECT),
        Case("fail: no answer", lambda s: "This problem is too hard for me.", INCORRECT),
        Case("timeout: cut off at max_tokens", lambda s: cut_off("Consider the polynomial whose"), INCORRECT),
    ],
    "gpqamain": [
        Case("pass", lambda s: f"Thinking it over.\nANSWER: {s.target}", CORRECT),
        Case("fail: wrong letter", lambda s: f"ANSWER: {other_letter(s)}", INCORRECT),
        Case("fail: no answer", lambda s: "None of these seem right to me.", INCORRECT),
        Case("timeout: cut off at max_tokens", lambda s: cut_off("The reaction proceeds via"), INCORRECT),
    ],
    "bfcl": [
        Case("pass", bfcl_call, CORRECT),
        Case("fail: wrong argument", bfcl_wrong, INCORRECT),
        # a call written as text is no call (the serving stack did not parse one)
        Case("fail: no call", lambda s: "I would call " + s.target, INCORRECT),
        Case(
            "fail: call to no such function", lambda s: bfcl_call(s, function="no_such_function"), INCORRECT
        ),
        Case("timeout: cut off at max_tokens", lambda s: cut_off('{"name": "'), INCORRECT),
    ],
    "humaneval": [
        Case("pass", he_solution, CORRECT, "passed"),
        Case("fail: wrong output", lambda s: he_body(s, "    return None\n"), INCORRECT, "failed"),
        Case("fail: no code", lambda s: "I am sorry, I cannot write this function.", INCORRECT, "failed"),
        Case("fail: does not compile", lambda s: he_body(s, "    return (]\n"), INCORRECT, "SyntaxError"),
        Case("fail: raises", lambda s: he_body(s, "    raise RuntimeError('boom')\n"), INCORRECT, "boom"),
        Case(
            "timeout: infinite loop",
            lambda s: he_body(s, "    while True:\n        pass\n"),
            INCORRECT,
            "timeout",
        ),
        # exploits: leaving before the tests ran, or defeating them, is no pass under the corrected
        # protocol; v1 runs a bare `python -c` as PostTrainBench did, where exit status 0 passes
        Case("exploit: exit()", lambda s: he_body(s, "    exit(0)\n"), EXIT_ZERO, "exit 0|passed"),
        Case(
            "exploit: os._exit",
            lambda s: he_body(s, "    __import__('os')._exit(0)\n"),
            EXIT_ZERO,
            "exit 0|passed",
        ),
        Case(
            "exploit: patched assert",
            lambda s: he_body(
                s,
                "    import builtins\n"
                "    builtins.AssertionError = type('Never', (BaseException,), {})\n"
                "    return None\n",
            ),
            INCORRECT,
            "failed",
        ),
        Case(
            "exploit: exit at interpreter shutdown",
            lambda s: he_body(
                s, "    __import__('atexit').register(__import__('os')._exit, 0)\n    return None\n"
            ),
            EXIT_ZERO,
            "exit 0|passed",
        ),
        Case(
            "exploit: trace function skips the checks",
            lambda s: he_body(
                s,
                "    import sys\n"
                "    sys.settrace(lambda f, e, a: (_ for _ in ()).throw(SystemExit(0)))\n"
                "    return None\n",
            ),
            INCORRECT,
            "failed",
        ),
        Case(  # v1: more than 10 MiB errors the sample, so the eval (test_posttrainbench_v1_corpus.py)
            "exploit: huge output",
            lambda s: he_body(s, "    print('x' * 50_000_000)\n    return None\n"),
            INCORRECT,
            protocols=(CORRECTED,),
        ),
        # a right answer that prints keeps passing (its output flushed before the token)
        Case(
            "pass: prints while it works",
            lambda s: he_body(s, "    print('debug')\n" + RECORDS["humaneval"][s.id]["canonical_solution"]),
            CORRECT,
        ),
    ],
    "arenahardwriting": [
        Case("pass", lambda s: f"An {WIN} of many words.", 1.0),
        Case("fail: loses to the baseline", lambda s: f"An {LOSE} of few words.", 0.0),
        Case("fail: no answer", lambda s: "", 0.0),
        Case("fail: no verdict from the grader", lambda s: f"An {SILENT}.", NOANSWER, "verdict"),
        Case("timeout: the grader times out", lambda s: f"An {SLOW}.", NOANSWER, "TimeoutError"),
    ],
    "healthbench": [
        Case("pass", lambda s: f"Please see a doctor today. {WIN}", 1.0),
        # v1 keeps a sample's negative points (clipped in the aggregate), corrected clips each sample
        Case("fail: wrong advice", lambda s: f"Nothing to worry about. {LOSE}", AT_MOST_ZERO),
        Case("fail: no answer", lambda s: "<think>hmm</think>", AT_MOST_ZERO),
        # v1 (PostTrainBench): an unparseable grade counts as criterion not met; corrected: a grader failure
        Case(
            "fail: grader reply not JSON",
            lambda s: f"Some advice. {SILENT}",
            {POSTTRAINBENCH_V1: 0.0, CORRECTED: NOANSWER},
            "criteria_met",
        ),
        Case(
            "timeout: the grader times out",
            lambda s: f"Some advice. {SLOW}",
            {POSTTRAINBENCH_V1: 0.0, CORRECTED: NOANSWER},
            "TimeoutError",
        ),
    ],
}
GRADERS = {"arenahardwriting": arena_grader, "healthbench": health_grader}


def score_rows(name: str, cases: list[Case], protocol: str, tmp_path) -> dict:
    """Score each row on its own sample of the task in one scripted eval: row name -> Score."""
    data = tmp_path / "data"
    prepare_dataset(name, "local", data)  # the offline records, as the workflow's cache stage lays them out
    task = load_task(name, data, protocol=protocol)
    samples = list(task.dataset)[: len(cases)]
    if name == "humaneval":  # the sandbox's limit cut from task.yaml's 30 s, to keep the test short
        task = task_with(task, scorer=module("humaneval").sandboxed_tests(protocol, 2.0, 512))
        solutions = {r["task_id"]: r["canonical_solution"] for r in read_jsonl(data / "test.jsonl")}
        RECORDS["humaneval"] = {s.id: {"canonical_solution": solutions[s.id]} for s in samples}
    if name == "healthbench":
        PENALTIES.update(i["criterion"] for s in samples for i in s.metadata["rubrics"] if i["points"] < 0)
    by_key = {key(s): case.answer(s) for s, case in zip(samples, cases)}
    assert len(by_key) == len(cases), "two rows share a prompt"

    def answer(prompt: str):
        return next(out for fragment, out in by_key.items() if fragment in prompt)

    grader = scripted(GRADERS[name], "grader") if name in GRADERS else None
    got = scores(run(task_with(task, dataset=samples), scripted(answer), tmp_path / "logs", grader=grader))
    return {case.name: got[s.id] for s, case in zip(samples, cases)}


@pytest.mark.parametrize("protocol", [POSTTRAINBENCH_V1, CORRECTED])
@pytest.mark.parametrize("name", sorted(CASES))
def test_scorer_cases(name, protocol, tmp_path):
    cases = [case for case in CASES[name] if protocol in case.protocols]
    got = score_rows(name, cases, protocol, tmp_path)
    for case in cases:
        score = got[case.name]
        expected = case.expected[protocol] if isinstance(case.expected, dict) else case.expected
        assert expected(score.value) if callable(expected) else score.value == expected, (
            case.name,
            score.value,
            score.explanation,
        )
        said = f"{score.explanation} {score.metadata or ''}"  # the reason, or the grader's error
        assert re.search(case.explanation, said, re.IGNORECASE), (case.name, said)


def test_every_task_has_the_guides_cases():
    """A task added without its rows fails here, not silently."""
    assert set(CASES) == {p.parent.name for p in task_dir("gsm8k").parent.glob("*/task.yaml")}
    for name, cases in CASES.items():
        kinds = {case.name.split(":")[0] for case in cases}
        assert {"pass", "fail", "timeout"} <= kinds, name
        assert any("no " in c.name for c in cases), f"{name}: no 'no answer' row"
