"""Every rule that runs a job writes a log and a snakemake benchmark file (README: results/benchmarks/
<stage>/...tsv, read by ptb.leaderboard.job_times), under the same stage as its log; read from the rule
files' text (a parse of the workflow would plan the grid: seconds)."""

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
RULE = re.compile(r"^(?P<indent>[ \t]*)(?:rule|checkpoint)\s+(?P<name>\w+)\s*:", re.M)
ACTIONS = ("script", "shell", "run", "wrapper", "notebook")


def rule_blocks(text: str) -> dict[str, str]:
    """rule name -> its body: the lines after `rule name:` indented deeper than it."""
    blocks = {}
    for found in RULE.finditer(text):
        indent, body = len(found["indent"]), []
        for line in text[found.end() :].splitlines()[1:]:
            if line.strip() and len(line) - len(line.lstrip()) <= indent:
                break
            body.append(line)
        blocks[found["name"]] = "\n".join(body)
    return blocks


def directive(body: str, name: str) -> str | None:
    """The text of a rule's directive (its own line and the deeper ones under it), or None."""
    found = re.search(rf"^([ \t]+){name}:(.*(?:\n\1[ \t]+.*)*)", body, re.M)
    return found[2] if found else None


def missing_records(text: str) -> list[str]:
    """'rule: what' for each job-running rule without a log, a benchmark or one stage for both."""
    problems = []
    for rule, body in rule_blocks(text).items():
        if not any(directive(body, action) is not None for action in ACTIONS):
            continue  # a target rule (all, profiling): no job runs
        log, bench = directive(body, "log"), directive(body, "benchmark")
        for name, value in (("log", log), ("benchmark", bench)):
            if value is None:
                problems.append(f"{rule}: no {name}:")
        if log and bench:
            stages = [re.search(r'_path\(\s*"(\w+)"', v) for v in (log, bench)]
            if None in stages or stages[0][1] != stages[1][1]:
                problems.append(f"{rule}: log and benchmark under different stages")
    return problems


def workflow_files() -> list[Path]:
    return [REPO / "Snakefile", REPO / "demo.smk", *sorted((REPO / "rules").glob("*.smk"))]


def test_every_rule_that_runs_a_job_writes_a_log_and_a_benchmark_file():
    rules = {f.name: rule_blocks(f.read_text()) for f in workflow_files()}
    assert {"audit_cell", "audit_agent", "judged_models", "evaluate"} <= set().union(*rules.values())
    problems = [f"{f.name}: {p}" for f in workflow_files() for p in missing_records(f.read_text())]
    assert not problems, problems


def test_the_check_finds_a_rule_without_a_benchmark_and_skips_target_rules():
    text = """
rule all:
    input:
        "x",

if SHARD:

    rule shard:
        output:
            "t",
        log:
            log_path("leaderboard", "shard"),
        script:
            "s.py"


rule mixed:
    output:
        "y",
    log:
        log_path("audit", "{agent}"),
    benchmark:
        benchmark_path("judge", "{agent}")
    shell:
        "true"
"""
    assert missing_records(text) == [
        "shard: no benchmark:",
        "mixed: log and benchmark under different stages",
    ]
