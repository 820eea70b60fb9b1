"""The library's shape (issue "one reader of the config"): checked, not just described."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from helpers import REPO

LIBRARY = REPO / "ptb"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def library_modules() -> dict[str, Path]:
    return {module_name(p): p for p in LIBRARY.rglob("*.py") if "skeletons" not in p.parts}


def imports_of(path: Path, known: set[str]) -> set[str]:
    """The library modules `path` imports at any level (ptb.x, from ptb import x, from ptb.x import y)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        found |= {name for name in names if name in known}
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every import cycle, found by depth-first search."""
    found, state = [], {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                found.append(stack[stack.index(nxt) :] + [nxt])
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    return found


def test_the_library_has_no_import_cycles():
    modules = library_modules()
    graph = {
        name: {m for m in imports_of(path, set(modules)) if m != name and not name.startswith(m + ".")}
        for name, path in modules.items()
    }
    assert cycles(graph) == []


def test_the_cycle_finder_finds_a_planted_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]


def test_only_the_config_loader_indexes_the_config():
    """Rule files read `config`; library functions take plain arguments."""
    offenders = [
        f"{path.relative_to(REPO)}:{number}"
        for path in LIBRARY.rglob("*.py")
        if path.name != "config.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"\bconfig\[", line)
    ]
    assert offenders == []


def test_scripts_read_no_config():
    """Scripts unpack snakemake.input/params/output into one library call."""
    offenders = [p.name for p in (REPO / "scripts").glob("*.py") if "snakemake.config" in p.read_text()]
    assert offenders == []


# The stage packages in the order they may import one another: each imports only core and the
# packages before it (ptb/__init__.py says why each sits where it does).
LAYERS = ("core", "inputs", "agent_runs", "judge", "evaluation", "leaderboard", "audit", "tools")


def package_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    """'a -> b' for every import of a module in a later layer (or outside the layers)."""
    found = []
    for name, imported in sorted(graph.items()):
        here = package_of(name)
        if here is None:
            continue
        for target in sorted(imported):
            there = package_of(target)
            if (
                there is not None
                and there != here
                and (there not in LAYERS or here not in LAYERS or LAYERS.index(there) > LAYERS.index(here))
            ):
                found.append(f"{name} -> {target}")
    return found


def library_graph() -> dict[str, set[str]]:
    modules = library_modules()
    return {name: imports_of(path, set(modules)) - {name} for name, path in modules.items()}


def test_every_module_lives_in_a_stage_package():
    loose = [name for name in library_modules() if name != "ptb" and package_of(name) not in LAYERS]
    assert loose == []
    assert sorted(p.name for p in LIBRARY.iterdir() if (p / "__init__.py").is_file()) == sorted(LAYERS)


def test_no_package_imports_a_later_one():
    assert upward_imports(library_graph()) == []


def test_core_imports_no_stage():
    graph = library_graph()
    assert {
        t for n, ts in graph.items() if package_of(n) == "core" for t in ts if package_of(t) != "core"
    } == set()


def test_the_layer_check_finds_planted_upward_imports():
    planted = {
        "ptb.core.config": {"ptb.evaluation.tasks"},  # core reading a stage
        "ptb.inputs.cache": {"ptb.judge.common", "ptb.core.io"},  # an earlier stage reading a later one
        "ptb.tools.status": {"ptb.leaderboard.leaderboard"},  # allowed: tools sit on top
        "ptb.judge": {"ptb.agent_runs.traces"},  # allowed: an earlier stage
        "ptb.audit.pages": {"ptb.extra.thing"},  # a package outside the layers
    }
    assert upward_imports(planted) == [
        "ptb.audit.pages -> ptb.extra.thing",
        "ptb.core.config -> ptb.evaluation.tasks",
        "ptb.inputs.cache -> ptb.judge.common",
    ]


def test_each_package_says_what_its_stage_takes_and_gives():
    for layer in LAYERS:
        doc = ast.get_docstring(ast.parse((LIBRARY / layer / "__init__.py").read_text())) or ""
        assert "Takes:" in doc and "Gives:" in doc or layer == "tools", layer


def test_tests_mirror_the_packages():
    """tests/<package>/ for each package (tests/agents/ and tests/tasks/ mirror the top-level folders)."""
    folders = {p.name for p in (REPO / "tests").iterdir() if p.is_dir() and p.name != "fixtures"}
    assert set(LAYERS) <= folders
    assert folders - set(LAYERS) == {"agents", "tasks", "workflow"}
    assert sorted(p.name for p in (REPO / "tests").glob("test_*.py")) == ["test_layout.py"]
