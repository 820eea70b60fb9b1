"""ptb-status: how far the current grid has got, per agent, read from the results tree.

    ptb-status                                             # workflow_config.yaml
    ptb-status --configfile workflow_config.yaml config/demo.yaml
    ptb-status --config subset=smoke --list failed

The config is loaded as the workflow loads it (config files merged in order, then --config
KEY=VALUE overrides, then validated), so the grid is the one `snakemake` would run.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

from ptb import config as ptb_config
from ptb import grid, paths

STATES = ("done", "running", "pending", "failed", "disqualified", "not started")
LEGEND = {
    "done": "evaluated and judged clean (its own score counts)",
    "running": "job dir exists, no agent.json yet (running, or interrupted: snakemake re-runs it)",
    "pending": "agent finished; judge or evaluation still to run",
    "failed": "no model, infrastructure error, failed eval or failed judge (scores as the base model)",
    "disqualified": "the judge disqualified the run (scores as the base model)",
    "not started": "nothing on disk yet",
}


def merge(base: dict, update: dict) -> dict:
    """Recursive dict update, as snakemake merges config files and --config."""
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merge(base[key], value)
        else:
            base[key] = value
    return base


def _bool(value: str) -> bool:
    if value in ("True", "False"):
        return value == "True"
    raise ValueError(value)


def parse_value(value: str):
    """As snakemake parses a --config value: int, float, True/False, YAML with string scalars, str;
    empty: None."""
    if value == "":
        return None
    for parser in (int, float, _bool, lambda v: yaml.load(v, Loader=yaml.BaseLoader)):
        try:
            return parser(value)
        except Exception:  # noqa: BLE001 -- the next parser, as snakemake does
            continue
    return value


def parse_overrides(items: list[str]) -> dict:
    out: dict = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"ptb-status: --config expects KEY=VALUE, got {item!r}")
        merge(out, {key: parse_value(value)})
    return out


def load_config(configfiles: list[str], overrides: list[str] | None = None) -> dict:
    config: dict = {}
    for path in configfiles:
        merge(config, yaml.safe_load(Path(path).read_text()) or {})
    merge(config, parse_overrides(overrides or []))
    return ptb_config.validate(config)


def cell_state(config: dict, cell: grid.Cell) -> str:
    from ptb.leaderboard import OWN_SCORE, classify, read_cell

    found = read_cell(config, cell)
    if found["agent"] is None:
        job = Path(paths.fill(paths.JOB_DIR, config["results_dir"], **cell.as_dict()))
        return "running" if job.exists() else "not started"
    if found["verdict"] is None or found["metrics"] is None:
        return "pending"
    outcome = classify(found["agent"], found["verdict"], found["metrics"])
    return "done" if outcome in OWN_SCORE else "disqualified" if outcome == "disqualified" else "failed"


def summarise(config: dict) -> tuple[dict[str, dict[str, int]], dict[str, list[grid.Cell]]]:
    """(agent -> state -> count, state -> cells) for the current selection."""
    counts: dict[str, dict[str, int]] = {}
    cells: dict[str, list[grid.Cell]] = {s: [] for s in STATES}
    for cell in grid.cells(ptb_config.selection(config)):
        state = cell_state(config, cell)
        counts.setdefault(cell.agent, dict.fromkeys(STATES, 0))[state] += 1
        cells[state].append(cell)
    return counts, cells


def render(config: dict, counts: dict[str, dict[str, int]]) -> str:
    chosen = ptb_config.selection(config)
    shape = " × ".join(f"{len(chosen[a])} {a}" for a in ptb_config.AXES)
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
        f"results: {config['results_dir']}   grid: {shape} = {sum(total.values())} cells",
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
    parser.add_argument(
        "--configfile",
        nargs="+",
        default=["workflow_config.yaml"],
        help="config files, merged in order (default: workflow_config.yaml)",
    )
    parser.add_argument(
        "--config",
        nargs="*",
        default=[],
        metavar="KEY=VALUE",
        help="overrides, as snakemake --config (values are YAML)",
    )
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
        config = load_config(args.configfile, args.config)
    except (ptb_config.ConfigError, OSError) as error:
        print(f"ptb-status: {error}", file=sys.stderr)
        return 2
    counts, cells = summarise(config)
    print(render(config, counts))
    for state in args.list:
        print(f"\n{state} ({len(cells[state])}):")
        print("\n".join(f"  {cell.key}" for cell in cells[state]) or "  (none)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
