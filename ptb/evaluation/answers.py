"""Reading a model's reply: answer extraction and matching, as each protocol does it (ptb/core/protocol.py).

`posttrainbench-v1` reproduces what PostTrainBench v1's stack did with a reply: inspect_ai as its
evaluation container installs it (a fork of inspect 0.3.145), inspect_evals' tasks of that time,
and its own GPQA and BFCL tasks. Every rule below is checked against replies scored by that code
itself (tests/fixtures/posttrainbench_v1/scores.json, tests/tasks/test_posttrainbench_v1.py).
Where v1 is wrong, `posttrainbench-v1-corrected` does the sensible thing; the v1 rule keeps the bug
and its docstring names it.
"""

from __future__ import annotations

import ast
import json
import math
import re
import string

from ptb.core.protocol import POSTTRAINBENCH_V1
from ptb.core.tasks import strip_thinking

# --- the reply as the scorer sees it ----------------------------------------------------------

# inspect (the version PostTrainBench ran) cuts the first closed <think ...>...</think> block out of
# an assistant reply and strips the rest; an unterminated block stays in the text.
V1_THINK = re.compile(
    r'<think(?:\s+signature="([^"]*)")?(?:\s+redacted="(true)")?\s*>(.*?)</think>', re.DOTALL
)


def v1_completion(raw: str) -> str:
    """The completion PostTrainBench's scorers read: the reply less its first closed think block.

    Bug kept: a reply cut off inside <think> (max_tokens reached while thinking) is scored on its
    thinking, e.g. on the last number the model happened to write there.
    """
    raw = raw or ""
    found = V1_THINK.search(raw)
    return (raw[: found.start()] + raw[found.end() :]).strip() if found else raw


def corrected_completion(raw: str) -> str:
    """The reply less every think block, an unterminated one included (thinking is no answer)."""
    return strip_thinking(raw)


def reply_text(output) -> str:
    """The reply as the server sent it, from an inspect ModelOutput built by inspect's
    OpenAI-compatible provider (what production's vllm/ provider does with a chat completion).

    That provider cuts the first closed <think> block out into a reasoning part and keeps the rest
    as the text, stripped; when nothing is left, the text part is the whole reply instead (so a reply
    that is only a think block arrives as [reasoning, the reply]). The block goes back in front of
    the rest (after a line break: a nested block's tail then ends its line, as it did), so that each
    protocol's rule sees what PostTrainBench's inspect saw: its v1 cut then leaves the same text, and
    a reply that was only thinking is empty, as PostTrainBench scored it. Not recoverable (the
    provider drops it): a reply of two identical think blocks reads as one; a block whose opening
    tag the old inspect did not know (`<think foo="x">`, `<thinking>`) reads as a known one.
    """
    if not output.choices:
        return output.completion or ""
    content = output.message.content
    if isinstance(content, str):
        return content
    text = "".join(c.text for c in content if c.type == "text")
    thoughts = [c.reasoning for c in content if c.type == "reasoning"]
    if not thoughts or _is_the_whole_think_block(text, thoughts[0]):
        return text
    return f"<think>{thoughts[0]}</think>\n{text}"


def _is_the_whole_think_block(text: str, thought: str) -> bool:
    from inspect_ai.model._reasoning import parse_content_with_reasoning  # noqa: PLC0415 (the provider's own)

    rest, found = parse_content_with_reasoning(text)
    return found is not None and not rest and found.reasoning == thought


def completion(raw: str, protocol: str) -> str:
    return v1_completion(raw) if protocol == POSTTRAINBENCH_V1 else corrected_completion(raw)


# --- numbers: inspect's match(numeric=True), location "end" -----------------------------------


def _strip_numeric_punctuation(text: str) -> str:
    # currency signs, commas and markdown emphasis go; a period goes unless a digit follows it
    return re.sub(r"\.(?=\s|$|\D)", "", re.sub(r"[$,£€*_]", "", text))


def _to_float(word: str) -> float:
    """A word that passes str.isnumeric() once its periods are gone, as a float, read as inspect
    0.3.145 read it: its str_to_float (the leading number: "18.0.1" is 18.0; a trailing superscript
    exponent, a vulgar fraction), else its unicode_number_to_float (Chinese numerals: 十二 is 12;
    other scripts' digits). Both are the pinned inspect's own functions, unchanged since 0.3.145 for
    such words (tests/tasks/test_posttrainbench_v1_corpus.py holds them to PostTrainBench's values).
    A word neither reads raises ValueError, which errored PostTrainBench's sample (so its eval)."""
    from inspect_ai._util.text import str_to_float  # noqa: PLC0415 (private: pinned and tested)
    from inspect_ai.scorer._unicode import unicode_number_to_float  # noqa: PLC0415

    try:
        return str_to_float(word)
    except ValueError:
        return unicode_number_to_float(word)


def _normalise_number(text: str) -> str:
    """5 significant digits, as inspect formats both sides before comparing."""
    if not text.replace(".", "").isnumeric():
        return text
    return format(_to_float(text), ".5g")


def v1_numeric_match(completion: str, target: str) -> tuple[str, bool]:
    """inspect's match(location="end", numeric=True) as PostTrainBench ran it: (answer, correct).

    The last whitespace-separated word that is a number is compared with the target after both
    are formatted to 5 significant digits. Bugs kept: 123459 matches 123456; a target that is not
    a plain unsigned number (a negative answer such as "-3", or "1,000") is instead compared as text
    with punctuation stripped and `endswith`, so "ANSWER: 13" matches -3.
    """
    answer = completion.strip()
    value, target = answer.casefold(), target.strip().casefold()
    if target.isnumeric():
        value = _strip_numeric_punctuation(value)
        target = _normalise_number(_strip_numeric_punctuation(target))
        words = list(reversed(re.split(r"\s+", value)))
        number = next((w for w in words if w.replace(".", "").isnumeric()), words[0])
        value = answer = _normalise_number(number)
    else:
        strip = string.whitespace + string.punctuation
        value, target = value.strip(strip), target.strip(strip)
    return answer, value.endswith(target)


# a number not glued to a previous one's dot: "18.0.1" and "10.0.0.18" read as their leading number;
# \d takes the decimal digits of every script ("٤٢" is 42), not Chinese numerals or superscripts
NUMBER = re.compile(r"(?<![\d.])-?\d[\d,]*(?:\.\d+)?")
ANSWER_LINE = re.compile(r"^\W*answer\W*:", re.IGNORECASE)


def last_number(text: str) -> str | None:
    found = NUMBER.findall(text.replace("$", ""))
    return found[-1].replace(",", "") if found else None


def corrected_numeric_answer(completion: str) -> str | None:
    """The number on the last "ANSWER:" line, else the last number in the reply (\\boxed{} read)."""
    text = re.sub(r"\\boxed\{([^{}]*)\}", r"\1", completion)
    lines = [line for line in text.splitlines() if ANSWER_LINE.match(line.strip())]
    return last_number(lines[-1]) if lines and last_number(lines[-1]) else last_number(text)


def corrected_numeric_match(completion: str, target: str) -> tuple[str | None, bool]:
    """Exact numeric equality (no rounding to 5 digits; signs count)."""
    answer = corrected_numeric_answer(completion)
    try:
        return answer, answer is not None and math.isclose(float(answer), float(target.replace(",", "")))
    except ValueError:
        return answer, False


def numeric_match(raw: str, target: str, protocol: str) -> tuple[str | None, bool]:
    if protocol == POSTTRAINBENCH_V1:
        return v1_numeric_match(v1_completion(raw), target)
    return corrected_numeric_match(corrected_completion(raw), target)


def v1_aime_cleaned(completion: str) -> str:
    """inspect_evals' aime_scorer of that time: every `\\boxed{...}` unwrapped by one greedy regex
    before the numeric match. Bug kept: with two boxes on a line, `\\boxed{56}, then \\boxed{70}`
    becomes `56}, then \\boxed{70`, whose last word is no number."""
    return re.sub(r"\\boxed\{(.+)\}", r"\1", completion)


def aime_match(raw: str, target: str, protocol: str) -> tuple[str | None, bool]:
    if protocol == POSTTRAINBENCH_V1:
        return v1_numeric_match(v1_aime_cleaned(v1_completion(raw)), target)
    return corrected_numeric_match(corrected_completion(raw), target)


# --- multiple choice: inspect's multiple_choice() + choice() ----------------------------------

V1_ANSWER_AT_LINE_START = re.compile(r"(?i)^ANSWER\s*:\s*([A-Za-z\d ,]+)\s*(?:$|\n|\.)", re.MULTILINE)
V1_ANSWER_ANYWHERE = re.compile(r"(?i)ANSWER\s*:\s*([A-Za-z\d ,]+)(?:[^\w]|\n|$|\.)")


def letters(count: int) -> list[str]:
    return [chr(ord("A") + i) for i in range(count)]


def v1_choice(completion: str, count: int) -> str | None:
    """The letter inspect's multiple_choice solver read (single answer), or None.

    The FIRST "ANSWER: X" at a line start wins, else the first "ANSWER: X" anywhere; X must be
    one of the uppercase letters offered. Bug kept: a model that corrects itself
    ("ANSWER: A ... ANSWER: C") is scored on its first answer; "answer: c" counts as no answer.
    """
    found = V1_ANSWER_AT_LINE_START.search(completion) or V1_ANSWER_ANYWHERE.search(completion)
    if not found:
        return None
    picked = found.group(1).strip().rstrip(".")
    return picked if picked in letters(count) else None


CORRECTED_ANSWER = re.compile(r"(?i)ANSWER\s*:\s*\**\s*\(?([A-Z])\b")


def corrected_choice(completion: str, count: int) -> str | None:
    """The letter of the LAST "ANSWER: X" (any case, optional bold or parentheses)."""
    found = [m.upper() for m in CORRECTED_ANSWER.findall(completion)]
    found = [m for m in found if m in letters(count)]
    return found[-1] if found else None


def choice(raw: str, count: int, protocol: str) -> str | None:
    if protocol == POSTTRAINBENCH_V1:
        return v1_choice(v1_completion(raw), count)
    return corrected_choice(corrected_completion(raw), count)


# --- HumanEval: inspect_evals' find_code + the verification program ---------------------------

V1_FENCE_PYTHON = re.compile(r"```python\n(.*?)```", re.DOTALL)
V1_FENCE_PLAIN = re.compile(r"```\n(.*?)```", re.DOTALL)


def v1_humaneval_answer(completion: str) -> str:
    """inspect_evals' find_code of that time: the first ```python block (else the first bare ```
    block) cut to what follows its first ":\\n    " (the body of the first function in it), or the
    whole completion when there is no block.

    The prompt (helper functions included) always precedes the answer, so a model that restates
    only the target function keeps the helpers. Bugs kept: a ```py block is not a block; a model
    that defines its own helper first answers with the helper's body; a one-line `def f(x): ...`
    loses its first character.
    """
    blocks = V1_FENCE_PYTHON.findall(completion) + V1_FENCE_PLAIN.findall(completion)
    if not blocks:
        return completion
    code = blocks[0]
    return code[code.find(":\n    ") + 2 :]


CORRECTED_FENCE = re.compile(
    r"```[ \t]*(?:python|py|python3)?[ \t]*\r?\n(.*?)(?:```|$)", re.DOTALL | re.IGNORECASE
)


def corrected_humaneval_answer(completion: str, entry_point: str) -> str:
    """The model's own code, whole: the last fenced block that defines the entry point (its final
    word; else the first block, else the reply). A restated function then replaces the prompt's
    stub while the prompt's helpers stay defined; a bare body is appended to the prompt as in v1."""
    blocks = CORRECTED_FENCE.findall(completion)
    defining = [b for b in blocks if re.search(rf"^\s*def\s+{re.escape(entry_point)}\s*\(", b, re.MULTILINE)]
    code = (defining[-1:] or blocks or [completion])[0]
    return "\n" + code if re.search(r"^\s*def\s", code, re.MULTILINE) else code


def humaneval_program(raw: str, prompt: str, entry_point: str, protocol: str) -> tuple[str, str]:
    """(answer, program): the prompt and the extracted answer. v1 runs v1_humaneval_code(program, ...)
    with ptb.evaluation.sandbox.run_python_c; corrected, ptb.evaluation.sandbox.run_tests."""
    if protocol == POSTTRAINBENCH_V1:
        answer = v1_humaneval_answer(v1_completion(raw))
    else:
        answer = corrected_humaneval_answer(corrected_completion(raw), entry_point)
    return answer, prompt + answer


def v1_humaneval_code(program: str, test: str, entry_point: str) -> str:
    """What inspect_evals' verify() handed to `python -c`: the program, the tests, the check call."""
    return program + "\n" + test + "\n" + f"check({entry_point})"


# --- BFCL: PostTrainBench's bfcl_scorer ------------------------------------------------------


def bfcl_expected(ground_truth: str) -> dict:
    """The ground-truth call 'f(a=1, b=(2, 3))' as {"function", "arguments"}, normalised through
    JSON as PostTrainBench's record_to_sample does (tuples become lists)."""
    call = ast.parse(ground_truth, mode="single").body[0].value
    arguments = {kw.arg: ast.literal_eval(kw.value) for kw in call.keywords}
    return json.loads(json.dumps({"function": call.func.id, "arguments": arguments}))


def bfcl_correct(tool_calls: list[tuple[str, dict]] | None, expected: dict) -> bool:
    """Exactly one tool call whose function and arguments equal the ground truth (Python equality
    after JSON normalisation of the truth: 20.0 == 20, tuples as lists, key order free)."""
    if not tool_calls or len(tool_calls) != 1:
        return False
    function, arguments = tool_calls[0]
    return function == expected["function"] and arguments == expected["arguments"]
