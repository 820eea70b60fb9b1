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
