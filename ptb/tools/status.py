"""ptb-status: how far the current grid has got, per agent, read from the results tree.

    ptb-status                                             # workflow_config.yaml
    ptb-status --configfile config/demo.yaml
    ptb-status --config subset=smoke --list failed

The config is loaded as the workflow loads it (ptb.tools.cli_config: workflow_config.yaml, then each
--configfile in order, then --config KEY=VALUE overrides, then validated), so the grid is the
one `snakemake` would run.

It also reads snakemake's own state in .snakemake/ of the current directory (the workflow's
working directory): jobs left incomplete by an interruption and locks left by a killed
snakemake, and prints the command that recovers from each.
"""

from __future__ import annotations

import argparse
import base64
import fcntl
import os
import sys
from pathlib import Path

from ptb.core import config as ptb_config
from ptb.core import paths, result_files, stops
from ptb.core.grid import AXES, Cell
from ptb.core.outcomes import CORRUPT, DISQUALIFIED, OWN_SCORE
from ptb.core.result_files import cell_outcome, read_cell
from ptb.tools import cli_config

# DISQUALIFIED and CORRUPT: the cell outcomes of those names
STATES = ("done", "running", "interrupted", "pending", "failed", DISQUALIFIED, CORRUPT, "not started")
LEGEND = {
    "done": "evaluated and judged clean (its own score counts)",
    "running": "an agent run holds the cell's lock (a live process on a machine sharing this disk)",
    "interrupted": "job dir but no agent.json and no live run: the next snakemake run re-runs it",
    "pending": "agent finished; judge or evaluation still to run",
    "failed": "no model, infrastructure error, failed eval or failed judge (scores as the base model)",
    DISQUALIFIED: "the judge disqualified the run (scores as the base model)",
    CORRUPT: "a result file is not what its stage writes (scores as the base model): delete it, run again",
    "not started": "nothing on disk yet",
}


def run_is_live(results: str, cell: Cell) -> bool:
    """Whether a live process holds the cell's lock (ptb.agent_runs.agent_run.cell_lock)."""
    lock = Path(paths.fill(paths.RUN_LOCK, results, **cell.as_dict()))
    try:
        handle = open(lock)
    except FileNotFoundError:
        return False
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False


def cell_state(results: str, cell: Cell, found: dict | None = None) -> str:
    found = found or read_cell(result_files.cell_record(results, cell))
    if found["corrupt"]:
        return CORRUPT
    if found["agent"] is None:
        if run_is_live(results, cell):
            return "running"
        job = Path(paths.fill(paths.JOB_DIR, results, **cell.as_dict()))
        return "interrupted" if job.exists() else "not started"
    if found["verdict"] is None or found["metrics"] is None:
        return "pending"
    outcome = cell_outcome(found)
    return "done" if outcome in OWN_SCORE else DISQUALIFIED if outcome == DISQUALIFIED else "failed"


# --- snakemake's own state -----------------------------------------------------------------


def incomplete_outputs(workdir: str | Path = ".") -> list[str]:
    """Outputs snakemake marked incomplete (.snakemake/incomplete/): their jobs were running when
    snakemake was interrupted. Each marker's name is the output path, urlsafe-base64 encoded and,
    when long, split into folders whose names start with '@'."""
    root = Path(workdir) / ".snakemake" / "incomplete"
    found = []
    for folder, _dirs, files in os.walk(root):
        parts = [p[1:] for p in Path(folder).relative_to(root).parts]
        for name in files:
            if name == "migration_underway":
                continue
            try:
                found.append(base64.urlsafe_b64decode("".join(parts) + name).decode())
            except ValueError:
                continue
    return sorted(found)


def snakemake_locks(workdir: str | Path = ".") -> list[str]:
    """Lock files of a snakemake that is running in workdir, or was killed there."""
    locks = Path(workdir) / ".snakemake" / "locks"
    return sorted(p.name for p in locks.glob("*.lock")) if locks.is_dir() else []


def snakemake_processes(workdir: str | Path = ".") -> list[int]:
    """Pids of snakemake processes on this machine whose working directory is workdir."""
    here, pids = Path(workdir).resolve(), []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            command = (proc / "cmdline").read_bytes().split(b"\0")
            if any(Path(os.fsdecode(part)).name == "snakemake" for part in command[:2]) and (
                Path(os.readlink(proc / "cwd")) == here
            ):
                pids.append(int(proc.name))
        except OSError:
            continue
    return sorted(pids)


def recovery(workdir: str | Path = ".") -> list[str]:
    """What is left of an interrupted snakemake in workdir, and the command that recovers."""
    lines = []
    incomplete, locks = incomplete_outputs(workdir), snakemake_locks(workdir)
    live = snakemake_processes(workdir) if locks else []
    if locks and live:
        lines.append(f"snakemake is running here (pid {', '.join(map(str, live))}): its locks are live.")
    elif locks:
        lines += [
            f"stale snakemake lock ({', '.join(locks)}): no snakemake runs in {Path(workdir).resolve()}",
            "  on this machine. If none runs on another machine either, recover with:",
            "    snakemake --unlock",
            "  then run the workflow again with your usual command.",
        ]
    for pid, script in stops.orphans(workdir):
        lines += [
            f"orphaned job: pid {pid} runs {script} here, but no snakemake does (it was killed);",
            f"  the next run kills it before it starts, or now: kill {pid}",
        ]
    if incomplete:
        lines += [
            f"{len(incomplete)} output(s) left incomplete by an interrupted job (re-run by the next run:",
            "  the profiles set rerun-incomplete; without a profile add --rerun-incomplete):",
            *(f"    {path}" for path in incomplete[:20]),
        ]
        if len(incomplete) > 20:
            lines.append(f"    ... and {len(incomplete) - 20} more")
    return lines


def summarise(results: str, cells: list[Cell]) -> tuple[dict[str, dict[str, int]], dict[str, list[Cell]]]:
    """(agent -> state -> count, state -> cells) for the cells under results dir `results`."""
    counts, by_state, _ = survey(results, cells)
    return counts, by_state


def survey(results: str, cells: list[Cell]):
    """summarise's answer and, per corrupt cell, what is wrong with its files."""
    counts: dict[str, dict[str, int]] = {}
    by_state: dict[str, list[Cell]] = {s: [] for s in STATES}
    corrupt: dict[str, list[str]] = {}
    for cell in cells:
        found = read_cell(result_files.cell_record(results, cell))
        state = cell_state(results, cell, found)
        counts.setdefault(cell.agent, dict.fromkeys(STATES, 0))[state] += 1
        by_state[state].append(cell)
        if found["corrupt"]:
            corrupt[cell.key] = found["corrupt"]
    return counts, by_state, corrupt


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
    counts, cells, corrupt = survey(sweep.results, sweep.cells)
    print(render(sweep.results, sweep.selection, counts))
    if corrupt:  # always listed: each needs a person to delete the file
        print(f"\n{CORRUPT} ({len(corrupt)}): delete the file named, then run the workflow again")
        print("\n".join(f"  {key}: {problem}" for key, problems in corrupt.items() for problem in problems))
    for state in args.list:
        print(f"\n{state} ({len(cells[state])}):")
        print("\n".join(f"  {cell.key}" for cell in cells[state]) or "  (none)")
    left = recovery()
    if left:
        print("\n" + "\n".join(left))
    return 0


if __name__ == "__main__":
    sys.exit(main())
