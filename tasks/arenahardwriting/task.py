"""Arena-Hard v2.0 creative writing: the model's answer against a fixed baseline, judged by the grader.

Each prompt is judged twice, with the answers in both orders, so that the grader's position
bias cancels. Verdicts follow Arena-Hard's five labels; a decisive win or loss (>>) weighs
three times a slight one, as Arena-Hard counts it. A sample's value is its weighted win rate
over the two games (0..1); the task's score is the mean over samples.
"""

import asyncio
import functools
import re
from pathlib import Path

from inspect_ai import Task, task
from inspect_ai.dataset import Sample
from inspect_ai.model import ChatMessageSystem, ChatMessageUser
from inspect_ai.scorer import Score, Target, scorer
from inspect_ai.solver import TaskState, generate

from ptb.task_builder import TaskFolder, graded_mean, graded_stderr, grader_failure, grader_model
from ptb.tasks import cap_repetition, read_jsonl, strip_thinking

TASK = TaskFolder(__file__)

JUDGE_SYSTEM = """\
You are an impartial judge of creative writing. You will see a user's prompt and the answers \
of two assistants, A and B. Decide which answer fulfils the prompt better. Consider how well \
each follows the instructions, its creativity and originality, the quality of its writing and \
style, its coherence, and whether its length suits the request. Do not favour an answer for \
its position, for its length as such, or for the assistant's name.

Explain your reasoning briefly, then end with exactly one verdict label:
[[A>>B]]: Assistant A is significantly better
[[A>B]]: Assistant A is slightly better
[[A=B]]: Tie, relatively the same
[[B>A]]: Assistant B is slightly better
[[B>>A]]: Assistant B is significantly better"""

GAME = (
    "<|User Prompt|>\n{question}\n\n"
    "<|The Start of Assistant A's Answer|>\n{a}\n<|The End of Assistant A's Answer|>\n\n"
    "<|The Start of Assistant B's Answer|>\n{b}\n<|The End of Assistant B's Answer|>"
)
LABELS = (re.compile(r"\[\[([AB<>=]+)\]\]"), re.compile(r"\[([AB<>=]+)\]"))
FLIPPED = {"A<B": "B>A", "A<<B": "B>>A", "B<A": "A>B", "B<<A": "A>>B", "B=A": "A=B"}
VALID = {"A>>B", "A>B", "A=B", "B>A", "B>>A"}


def parse_verdict(judgment: str) -> str | None:
    """The last verdict label in the judgment (double brackets preferred), normalised; None if none."""
    for pattern in LABELS:
        found = pattern.findall(judgment.upper())
        if found:
            label = FLIPPED.get(found[-1], found[-1])
            return label if label in VALID else None
    return None


def outcome(label: str, model_is: str) -> tuple[float, int]:
    """(value for the model, weight) of one game, the model's answer being 'A' or 'B'."""
    other = "B" if model_is == "A" else "A"
    return {
        f"{model_is}>>{other}": (1.0, 3),
        f"{model_is}>{other}": (1.0, 1),
        "A=B": (0.5, 1),
        f"{other}>{model_is}": (0.0, 1),
        f"{other}>>{model_is}": (0.0, 3),
    }[label]


async def judge(grader, prompt: str, attempts: int) -> tuple[str | None, str]:
    """(verdict or None, last judgment text) after up to `attempts` grader calls."""
    judgment = ""
    for _ in range(attempts):
        output = await grader.generate(
            [ChatMessageSystem(content=JUDGE_SYSTEM), ChatMessageUser(content=prompt)]
        )
        judgment = output.completion
        verdict = parse_verdict(judgment)
        if verdict:
            return verdict, judgment
    return None, judgment


@scorer(metrics=[graded_mean(), graded_stderr()])
def pairwise_vs_baseline(attempts: int, repetition_cap: int):
    async def score(state: TaskState, target: Target) -> Score:
        answer = cap_repetition(strip_thinking(state.output.completion), repetition_cap)
        if not answer:  # nothing to judge: a loss in both games, without asking the grader
            return Score(value=0.0, answer="", explanation="empty answer")
        question, baseline = state.input_text, state.metadata["baseline"]
        games = [
            ("B", GAME.format(question=question, a=baseline, b=answer)),
            ("A", GAME.format(question=question, a=answer, b=baseline)),
        ]
        try:
            results = await asyncio.gather(*(judge(grader_model(), prompt, attempts) for _, prompt in games))
        except Exception as error:  # the grader's API failed after its own retries
            return grader_failure(f"grader error: {type(error).__name__}: {error}")
        verdicts = [verdict for verdict, _ in results]
        judgments = [text for _, text in results]
        if None in verdicts:
            return grader_failure(
                "no verdict label in the grader's reply", verdicts=verdicts, judgments=judgments
            )
        games_scored = [outcome(v, model_is) for v, (model_is, _) in zip(verdicts, games)]
        value = sum(v * w for v, w in games_scored) / sum(w for _, w in games_scored)
        return Score(
            value=value,
            answer=answer,
            explanation="\n\n---\n\n".join(judgments),
            metadata={"verdicts": verdicts, "model_as": [m for m, _ in games]},
        )

    return score


@functools.cache
def baseline_answers() -> dict[str, str]:
    """uid -> the baseline's answer (shipped with the task, so the opponent never changes)."""
    path = TASK.dir / TASK.spec["baseline"]["file"]
    return {r["uid"]: r["answer"] for r in read_jsonl(path)}


def record_to_sample(record: dict) -> Sample:
    return Sample(
        id=record["uid"], input=record["prompt"], metadata={"baseline": baseline_answers()[record["uid"]]}
    )


@task
def arenahardwriting(data_dir: str, limit: int | None = None, grader: str | None = None) -> Task:
    """grader: a model to bind to the grader role (e.g. task.yaml's grader.model); None leaves
    the role to eval(model_roles={"grader": ...})."""
    settings = TASK.spec
    records = [r for r in read_jsonl(Path(data_dir) / "test.jsonl") if r["category"] == settings["category"]]
    missing = [r["uid"] for r in records if r["uid"] not in baseline_answers()]
    if missing:
        raise ValueError(f"no baseline answer for {len(missing)} prompts, e.g. {missing[:3]}")
    samples = [record_to_sample(r) for r in records]
    return TASK.build(
        samples,
        limit=limit,
        solver=generate(),
        scorer=pairwise_vs_baseline(settings["grader"]["attempts"], settings["repetition_cap"]),
        metadata={"baseline": settings["baseline"]["model"]},
        grader=grader,
    )


def test_texts(record: dict) -> list[str]:
    """What the judge's contamination check compares training data against."""
    return [record["prompt"]]
