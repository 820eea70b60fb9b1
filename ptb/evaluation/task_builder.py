"""What a task.py builds its inspect Task from: the builder, shared solvers, and the grader role.

Each tasks/<name>/task.py names its folder once, `TASK = TaskFolder(__file__)`, and its @task
function returns `TASK.build(samples, solver=..., scorer=..., limit=limit)`: the dataset's
name, the generation config, epochs and version come from the folder's task.yaml, stamped
into the Task and its metadata the same way for every task.
"""

from __future__ import annotations

from pathlib import Path

from inspect_ai import Task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.model import (
    ChatMessageAssistant,
    ChatMessageSystem,
    ChatMessageUser,
    GenerateConfig,
    get_model,
)
from inspect_ai.scorer import NOANSWER, Score
from inspect_ai.solver import solver

from ptb.core import tasks


class TaskFolder:
    """A task folder as its task.py sees it: the name (the folder's) and task.yaml."""

    def __init__(self, task_file: str | Path):
        self.dir = Path(task_file).resolve().parent
        self.name = self.dir.name

    @property
    def spec(self) -> dict:
        """task.yaml (parsed once per content: ptb.core.tasks.read_spec)."""
        return tasks.read_spec(self.dir / "task.yaml")

    def fixed_items(self, data_dir: str | Path, id_key: str) -> list[dict]:
        """The records of data_dir's test.jsonl that task.yaml `items` lists (a JSONL file in the
        task folder: a fixed item set such as PostTrainBench's), in that file's order, whatever
        the order and extra records of data_dir's file (the hub's full set, say)."""
        source = Path(data_dir) / "test.jsonl"
        by_id = {record[id_key]: record for record in tasks.read_jsonl(source)}
        listed = [record[id_key] for record in tasks.read_jsonl(self.dir / self.spec["items"])]
        missing = [item for item in listed if item not in by_id]
        if missing:
            raise ValueError(
                f"{source}: {len(missing)} of the {len(listed)} items of {self.name}'s item set "
                f"({self.spec['items']}) are missing, e.g. {missing[:3]}"
            )
        return [by_id[item] for item in listed]

    def build(
        self,
        samples: list[Sample],
        *,
        solver,
        scorer,
        limit: int | None = None,
        metadata: dict | None = None,
        grader: str | None = None,
    ) -> Task:
        """The Task over the first `limit` samples, with task.yaml's generation settings, epochs
        and version; metadata adds to the task version and dataset pins. grader: a model bound
        to the grader role (None leaves the role to eval(model_roles=...))."""
        settings = self.spec
        return Task(
            dataset=MemoryDataset(samples[:limit] if limit else samples, name=self.name),
            solver=solver,
            scorer=scorer,
            config=GenerateConfig(**settings["generation"]),
            model_roles={tasks.GRADER_ROLE: grader} if grader else None,
            epochs=settings["epochs"],
            version=settings["version"],
            metadata={
                "task_version": settings["version"],
                "dataset": settings["dataset"],
                **(metadata or {}),
            },
        )


def system_prompt(text: str):
    """Insert a fixed system message (no template formatting, so braces in data are safe)."""

    @solver
    def insert_system():
        async def solve(state, generate):
            state.messages.insert(0, ChatMessageSystem(content=text))
            return state

        return solve

    return insert_system()


def chat_messages(turns: list[dict]) -> list:
    """[{"role", "content"}, ...] records as inspect chat messages."""
    kinds = {"system": ChatMessageSystem, "user": ChatMessageUser, "assistant": ChatMessageAssistant}
    return [kinds[turn["role"]](content=turn["content"]) for turn in turns]


# --- LLM-graded tasks (see ptb.core.tasks: grader failures are recorded apart) ---------------------


def grader_model():
    """The model bound to the grader role (eval(..., model_roles={"grader": ...}))."""
    return get_model(role=tasks.GRADER_ROLE, required=True)


def grader_failure(reason: str, **details) -> Score:
    """The Score of a sample the grader could not judge."""
    return Score(value=NOANSWER, explanation=reason, metadata={"grader_failed": True, **details})
