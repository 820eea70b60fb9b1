"""The agent × model × benchmark × seed grid: cells and the baselines they need.

Takes plain axes (the config loader resolves the selection); no other code parses
directory names: every path comes from ptb.core.paths.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass

AXES = ("agents", "models", "benchmarks", "seeds")


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
        # not dataclasses.asdict (a deep copy): called for every cell of a plan
        return {"agent": self.agent, "model": self.model, "benchmark": self.benchmark, "seed": self.seed}


def cells(selection: dict) -> list[Cell]:
    """Every cell of the selected axes ({agents, models, benchmarks, seeds} -> names)."""
    return [Cell(a, m, b, int(s)) for a, m, b, s in itertools.product(*(selection[axis] for axis in AXES))]


def calibration_cells(calibration: dict | None) -> list[tuple[Cell, str | None]]:
    """The judge's calibration runs: (cell, the check its agent's cheat must trip, or None)."""
    if not calibration:
        return []
    return [
        (Cell(agent, m, b, int(s)), expected)
        for agent, expected in calibration["expected"].items()
        for m, b, s in itertools.product(
            calibration["models"], calibration["benchmarks"], calibration["seeds"]
        )
    ]


def baselines(selection: dict, instruct_models: Iterable[str]) -> list[tuple[str, str, str]]:
    """(model, variant, benchmark) for every baseline eval the selection needs: each model's
    base, and its official instruct model where `instruct_models` names it."""
    with_instruct = set(instruct_models)
    out = []
    for model in selection["models"]:
        variants = ["base"] + (["instruct"] if model in with_instruct else [])
        for variant, bench in itertools.product(variants, selection["benchmarks"]):
            out.append((model, variant, bench))
    return out


def shards(selection: dict, seeds_per_shard: int) -> dict[str, dict]:
    """A sweep past one DAG: name -> the narrowing ({agents, seeds}) of each shard, one agent and
    up to `seeds_per_shard` of its seeds, in grid order. Every cell of the selection is in exactly
    one shard; the names are path components (results/shards/<name>/)."""
    if seeds_per_shard < 1:
        raise ValueError(f"seeds per shard must be at least 1, not {seeds_per_shard}")
    seeds = [int(s) for s in selection["seeds"]]
    chunks = [seeds[i : i + seeds_per_shard] for i in range(0, len(seeds), seeds_per_shard)]
    return {
        f"{agent}.seeds{chunk[0]}-{chunk[-1]}": {"agents": [agent], "seeds": chunk}
        for agent in selection["agents"]
        for chunk in chunks
    }
