"""The agent × model × benchmark × seed grid, and where each cell's files live.

Every path in the workflow comes from here, so no other code parses directory names.
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass

from ptb.config import AXES


@dataclass(frozen=True)
class Cell:
    agent: str
    model: str
    benchmark: str
    seed: int

    @property
    def key(self) -> str:
        return f"{self.agent}/{self.model}/{self.benchmark}/seed{self.seed}"

    def as_dict(self) -> dict:
        return asdict(self)


def selection(config: dict) -> dict:
    """The axes to run: the grid, narrowed by a named subset, then by `select`."""
    chosen = {axis: list(config["grid"][axis]) for axis in AXES}
    for narrowing in ((config.get("subsets") or {}).get(config.get("subset") or ""), config.get("select")):
        for axis, values in (narrowing or {}).items():
            chosen[axis] = list(values)
    return chosen


def cells(config: dict) -> list[Cell]:
    chosen = selection(config)
    return [Cell(a, m, b, int(s)) for a, m, b, s in itertools.product(*(chosen[axis] for axis in AXES))]


def calibration_cells(config: dict) -> list[tuple[Cell, str | None]]:
    """The judge's calibration runs: (cell, the check its agent's cheat must trip, or None)."""
    spec = config.get("calibration")
    if not spec:
        return []
    return [
        (Cell(agent, m, b, int(s)), expected)
        for agent, expected in spec["expected"].items()
        for m, b, s in itertools.product(spec["models"], spec["benchmarks"], spec["seeds"])
    ]


def baselines(config: dict) -> list[tuple[str, str, str]]:
    """(model, variant, benchmark) for every baseline eval the selection needs."""
    chosen = selection(config)
    out = []
    for model in chosen["models"]:
        variants = ["base"] + (["instruct"] if config["models"][model].get("instruct") else [])
        for variant, bench in itertools.product(variants, chosen["benchmarks"]):
            out.append((model, variant, bench))
    return out


def cell_config(config: dict, cell: Cell) -> dict:
    """The resolved config of one cell: what its manifest records and its rules depend on."""
    return {
        "cell": cell.as_dict(),
        "agent": config["agents"][cell.agent],
        "model": config["models"][cell.model],
        "benchmark": config["benchmarks"][cell.benchmark],
        "budget": config["budget"],
        "container": config.get("container", "none"),
    }
