"""ptb-status: how far the current grid has got, per agent, read from the results tree.

    ptb-status                                             # workflow_config.yaml
    ptb-status --configfile config/demo.yaml
    ptb-status --config subset=smoke --list failed

The config is loaded as the workflow loads it (ptb.cli_config: workflow_config.yaml, then each
--configfile in order, then --config KEY=VALUE overrides, then validated), so the grid is the
one `snakemake` would run.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ptb import cli_config, paths, result_files
from ptb import config as ptb_config
from ptb.grid import AXES, Cell
from ptb.leaderboard import classify, read_cell
from ptb.outcomes import DISQUALIFIED, OWN_SCORE

STATES = ("done", "running", "pending", "failed", DISQUALIFIED, "not started")  # DISQUALIFIED: the outcome
LEGEND = {
    "done": "evaluated and judged clean (its own score counts)",
    "running": "job dir exists, no agent.json yet (running, or interrupted: snakemake re-runs it)",
    "pending": "agent finished; judge or evaluation still to run",
    "failed": "no model, infrastructure error, failed eval or failed judge (scores as the base model)",
    DISQUALIFIED: "the judge disqualified the run (scores as the base model)",
    "not started": "nothing on disk yet",
}


def cell_state(results: str, cell: Cell) -> str:
    found = read_cell(result_files.cell_record(results, cell))
    if found["agent"] is None:
        job = Path(paths.fill(paths.JOB_DIR, results, **cell.as_dict()))
        return "running" if job.exists() else "not started"
    if found["verdict"] is None or found["metrics"] is None:
        return "pending"
    outcome = classify(found["agent"], found["verdict"], found["metrics"])
    return "done" if outcome in OWN_SCORE else DISQUALIFIED if outcome == DISQUALIFIED else "failed"


def summarise(results: str, cells: list[Cell]) -> tuple[dict[str, dict[str, int]], dict[str, list[Cell]]]:
    """(agent -> state -> count, state -> cells) for the cells under results dir `results`."""
    counts: dict[str, dict[str, int]] = {}
    by_state: dict[str, list[Cell]] = {s: [] for s in STATES}
    for cell in cells:
        state = cell_state(results, cell)
        counts.setdefault(cell.agent, dict.fromkeys(STATES, 0))[state] += 1
        by_state[state].append(cell)
    return counts, by_state


def render(results: str, selection: dict, counts: dict[str, dict[str, int]]) -> str:
    """The table of counts; `selection`: axis -> names (the grid's shape in the title line)."""
    shape = " × ".join(f"{len(selection[a])} {a}" for a in AXES)
    total = dict.fromkeys(STATES, 0)
    for row in counts.values():
        for state in STATES:
            total[state] += row[state]
    head = ["agent", *STATES, "total"]
    rows = [[agent, *(str(row[s]) for s in STATES), str(sum(row.values()))] for agent, row in counts.items()]
    rows.append(["total", *(str(total[s]) for s in STATES), str(sum(total.values()))])
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]

    def line(cells):
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    rule = "  ".join("-" * w for w in widths)
    out = [
        f"results: {results}   grid: {shape} = {sum(total.values())} cells",
        "",
        line(head),
        rule,
        *map(line, rows[:-1]),
        rule,
        line(rows[-1]),
        "",
    ]
    out += [f"  {state:<12} {LEGEND[state]}" for state in STATES]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ptb-status", description=__doc__.split("\n\n")[0])
    cli_config.add_arguments(parser)
    parser.add_argument(
        "--list",
        choices=STATES,
        action="append",
        default=[],
        metavar="STATE",
        help=f"also list the cells in this state ({', '.join(STATES)})",
    )
    args = parser.parse_args(argv)
    try:
        sweep = ptb_config.sweep(cli_config.load(args))
    except ptb_config.ConfigError as error:
        print(f"ptb-status: {error}", file=sys.stderr)
        return 2
    counts, cells = summarise(sweep.results, sweep.cells)
    print(render(sweep.results, sweep.selection, counts))
    for state in args.list:
        print(f"\n{state} ({len(cells[state])}):")
        print("\n".join(f"  {cell.key}" for cell in cells[state]) or "  (none)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
