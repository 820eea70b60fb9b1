"""Skeletons of a new benchmark (`new-task NAME`) and of a new agent scaffold (`new-agent NAME`).

("Scaffold" is the agent CLI harness under agents/; this module writes the starting files.)

    new-task NAME    tasks/NAME/{benchmark.txt,task.yaml,task.py,evaluate.py,data/test.jsonl}
                     and tests/tasks/test_NAME.py; passes validate-task and its tests as is
    new-agent NAME   agents/NAME/{solve.sh,trace.py} and tests/agents/test_NAME.py, and prints
                     the config entry to paste under `agents:`

The templates live in ptb/tools/skeletons/ ({{name}}-style placeholders). Nothing that
exists is overwritten.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

from ptb.core.paths import REPO_ROOT, checkout
from ptb.tools import cli_paths

TEMPLATES = Path(__file__).resolve().parent / "skeletons"
# fullmatch: `$` would let a trailing newline through (a folder named "x\n")
TASK_NAME = re.compile(r"[a-z][a-z0-9_]*")
AGENT_NAME = re.compile(r"[a-z][a-z0-9_]*")
NAME_MAX = 100  # the config's limit on names (schemas/config.schema.yaml $defs/name)

# template file -> path in the repo ({name} filled in)
TASK_FILES = {
    "benchmark.txt": "tasks/{name}/benchmark.txt",
    "task.yaml": "tasks/{name}/task.yaml",
    "task.py": "tasks/{name}/task.py",
    "evaluate.py": "tasks/{name}/evaluate.py",
    "test.jsonl": "tasks/{name}/data/test.jsonl",
    "test_task.py": "tests/tasks/test_{name}.py",
}
AGENT_FILES = {
    "solve.sh": "agents/{name}/solve.sh",
    "trace.py": "agents/{name}/trace.py",
    "test_agent.py": "tests/agents/test_{name}.py",
}
EXECUTABLE = {"evaluate.py", "solve.sh"}


class SkeletonError(ValueError):
    """A name that cannot be scaffolded (invalid, or files that already exist)."""


def render(text: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", value)
    return text


def title_of(name: str) -> str:
    return " ".join(part.capitalize() for part in name.split("_"))


def _write(kind: str, files: dict[str, str], name: str, values: dict[str, str], root: Path) -> list[Path]:
    targets = {src: root / dest.format(name=name) for src, dest in files.items()}
    existing = [str(p.relative_to(root)) for p in targets.values() if p.exists()]
    if existing:
        raise SkeletonError(f"{kind} {name!r}: {', '.join(existing)} already exist(s); nothing written")
    for src, target in targets.items():
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(render((TEMPLATES / kind / src).read_text(), values))
        if src in EXECUTABLE:
            target.chmod(0o755)
    _lint_clean([p for p in targets.values() if p.suffix == ".py"])
    return list(targets.values())


def _lint_clean(files: list[Path]) -> None:
    """Format the written files and sort their imports as the project's lint wants them (line
    breaks and import order depend on the name filled in), so `make test` passes on them as
    written: ruff, the project's pinned linter (its settings from the checkout's pyproject.toml)."""
    for args in (["format", "--quiet"], ["check", "--fix", "--quiet", "--select", "I"]):
        try:
            subprocess.run([sys.executable, "-m", "ruff", *args, *map(str, files)], check=False, timeout=120)
        except (OSError, subprocess.TimeoutExpired):  # pragma: no cover - ruff is a pinned dependency
            return


def new_task(name: str, root: str | Path = REPO_ROOT) -> list[Path]:
    """Write the task folder and its test; return the files written."""
    if not TASK_NAME.fullmatch(name) or len(name) > NAME_MAX:
        raise SkeletonError(
            f"task name {name!r}: use lowercase letters, digits and underscores, starting with a letter, "
            f"at most {NAME_MAX} characters (it is the folder, the @task function and the config key)"
        )
    return _write("task", TASK_FILES, name, {"name": name, "title": title_of(name)}, Path(root))


def agent_config_entry(name: str) -> str:
    return render((TEMPLATES / "agent" / "config_entry.yaml").read_text(), _agent_values(name))


def _agent_values(name: str) -> dict[str, str]:
    return {
        "name": name,
        "cli": name.replace("_", "-"),
        "title": title_of(name),
        "key": f"{name.upper()}_API_KEY",
    }


def new_agent(name: str, root: str | Path = REPO_ROOT) -> list[Path]:
    """Write agents/NAME/{solve.sh,trace.py} and its test; return the files written."""
    if not AGENT_NAME.fullmatch(name) or len(name) > NAME_MAX:
        raise SkeletonError(
            f"scaffold name {name!r}: use lowercase letters, digits and underscores, starting with a "
            f"letter, at most {NAME_MAX} characters"
        )
    return _write("agent", AGENT_FILES, name, _agent_values(name), Path(root))


def _report(files: list[Path], root: Path) -> str:
    return "\n".join(f"  {p.relative_to(root)}" for p in files)


def _skeleton_main(
    prog: str, folder: str, noun: str, name_help: str, make, argv: list[str] | None
) -> str | None:
    """Parse NAME and --root, write the files; the name on success, None (after the error) otherwise."""
    parser = argparse.ArgumentParser(prog=prog, description=f"Write {folder}/NAME/ and its test.")
    parser.add_argument("name", help=name_help)
    parser.add_argument(
        "--root",
        default=str(checkout()),
        help="repository root (default: the checkout around the working dir)",
    )
    cli_paths.add_mkdir_argument(parser, "--root")
    args = parser.parse_args(argv)
    root = Path(args.root)
    try:
        for folder in cli_paths.ensure_folder(root, create=args.mkdir, option="--root"):
            print(f"{prog}: created {folder}", file=sys.stderr)
        files = make(args.name, root)
    except (SkeletonError, ValueError) as error:
        print(f"{prog}: {error}", file=sys.stderr)
        return None
    print(f"wrote {noun} {args.name}:\n{_report(files, root)}")
    return args.name


def new_task_main(argv: list[str] | None = None) -> int:
    name = _skeleton_main(
        "new-task", "tasks", "task", "the task's name: folder, @task function and config key", new_task, argv
    )
    if name is None:
        return 1
    print(
        f"\nNext: edit tasks/{name}/ (task.yaml pins, task.py, data/test.jsonl), then\n"
        f"  validate-task {name}\n"
        f"  python -m pytest tests/tasks/test_{name}.py\n"
        f"and add it to the config: benchmarks: {{{name}: {{data: hub}}}} (docs/adding-a-task.md)."
    )
    return 0


def new_agent_main(argv: list[str] | None = None) -> int:
    name = _skeleton_main(
        "new-agent", "agents", "scaffold", "the scaffold's name (agents/NAME/solve.sh)", new_agent, argv
    )
    if name is None:
        return 1
    print(
        f"\nNext: edit agents/{name}/solve.sh and trace.py for the CLI, run\n"
        f"  python -m pytest tests/agents/test_{name}.py\n"
        f"and paste this entry under `agents:` in workflow_config.yaml:\n"
    )
    print(agent_config_entry(name))
    return 0


if __name__ == "__main__":
    sys.exit(new_task_main())
