"""A small results tree in the real files' shapes for the audit page tests: one disqualified
cell whose trace, model output and findings carry hostile text, one clean cell, baselines,
written by the real writers where they exist (jobdir.prepare, tamper.check, an inspect eval of a
scripted model, evaluation.summarise, leaderboard.write, ptb.audit.pages)."""

from __future__ import annotations

import json
from pathlib import Path

from inspect_ai import eval as inspect_eval
from inspect_ai.model import ModelOutput, ModelUsage, get_model

from ptb.agent_runs import jobdir
from ptb.audit import pages
from ptb.core import io, paths, result_files, tasks
from ptb.core.grid import Cell
from ptb.evaluation import evaluation
from ptb.inputs.cache import prepare_dataset
from ptb.judge import tamper
from ptb.leaderboard import leaderboard

HOSTILE = (
    "<script>document.title='pwned'</script>"
    "<img src=x onerror=\"document.title='pwned-onerror'\">"
    "<a href=\"javascript:document.title='pwned-link'\">click me</a> [md link](javascript:alert(1))"
)
AGENTS = {"claude-x": {"display_name": "Claude <X>", "scaffold": "claude"}}
BENCHMARKS = {"gsm8k": "GSM8K"}
SEEDS = (1, 2)
FIXTURES = Path(__file__).parents[1] / "agents" / "fixtures"


def _eval_log(root: Path, contents: list[str]) -> str:
    usage = ModelUsage(input_tokens=1, output_tokens=1, total_tokens=2)
    outputs = []
    for text in contents:
        out = ModelOutput.from_content(model="mockllm/model", content=text)
        out.usage = usage
        outputs.append(out)
    data = root / "data"
    if not (data / "test.jsonl").exists():
        prepare_dataset("gsm8k", "local", data)
    [log] = inspect_eval(
        tasks.load_task("gsm8k", data, limit=len(contents), fewshot=0),
        model=get_model("mockllm/model", custom_outputs=outputs),
        log_dir=str(root / "logs"),
        display="none",
    )
    assert log.status == "success"
    return log


def _trace(hostile: bool) -> str:
    lines = (FIXTURES / "claude.jsonl").read_text().splitlines()
    if hostile:
        lines.insert(
            2,
            json.dumps(
                {
                    "type": "user",
                    "message": {
                        "content": [
                            {"type": "tool_result", "tool_use_id": "toolu_01Bash1", "content": HOSTILE}
                        ]
                    },
                }
            ),
        )
        lines.insert(
            2, json.dumps({"type": "assistant", "message": {"content": [{"type": "text", "text": HOSTILE}]}})
        )
    return "\n".join(lines) + "\nTraceback: stderr line " + HOSTILE + "\n"


def build(results: Path, scratch: Path) -> dict:
    """Write the tree; return {cells: records, pages: {cell key: page path}, agent_page, leaderboard}."""
    res = str(results)
    records, summaries, cell_pages = [], [], []
    answers = [
        r["answer"].split("####")[1].strip() for r in tasks.read_jsonl(_data(scratch) / "test.jsonl")[:3]
    ]
    for seed in SEEDS:
        cell = Cell("claude-x", "tiny-qwen3", "gsm8k", seed)
        record = result_files.cell_record(res, cell)
        fields = cell.as_dict()
        record["manifest"] = paths.fill(paths.MANIFEST, res, **fields)
        record["handout"] = paths.fill(paths.HANDOUT, res, **fields)
        record["served"] = paths.fill(paths.SERVED_JSON, res, **fields)
        served = {"model": "model", "refused": None, "layout": "safetensors", "weights_sha256": "d" * 64}
        if seed == 2:  # a folder the loaders would read differently: nothing served
            served = {"model": None, "refused": "an lm_head unlike the embeddings under tie_word_embeddings"}
        io.write_json(record["served"], served)
        run_dir = Path(record["agent_json"]).parent
        job = run_dir / "job"
        handout = jobdir.prepare(
            job, benchmark="gsm8k", family="qwen3", prompt="Train the model.", deadline=0
        )
        io.write_json(record["handout"], handout)
        cheat = seed == 1
        if cheat:  # the agent edits the handed-out evaluate.py
            target = job / "evaluate.py"
            target.chmod(0o644)
            target.write_text(target.read_text() + "\nSCORE = 1.0  # " + HOSTILE + "\n")
        (run_dir / "agent.log").write_text(_trace(hostile=cheat))
        (job / "train.jsonl").write_text('{"q": "a test question copied"}\n')
        io.write_json(
            record["agent_json"],
            {
                "outcome": "ok",
                "reason": "",
                "has_model": True,
                "wall_seconds": 1800 * seed,
                "budget_seconds": 36000,
            },
        )
        io.write_json(
            record["manifest"],
            {
                "config": {"agent": {"scaffold": "claude", "llm": "x"}},
                "software": {"workflow_commit": "abc1234", "packages": {"torch": "2.13.0"}},
                "images": {"agent": {"sha256": "f" * 64}},
                "base_model": {"hf_id": "Qwen/Qwen3-1.7B-Base", "revision": "rev123"},
                "prompt_sha256": handout["prompt.md"],
                "final_model_files": {"model.safetensors": "e" * 64},
            },
        )
        checks = [tamper.check(job, handout), *(_findings() if cheat else [])]
        io.write_json(
            record["verdict"],
            {
                "judge_version": "2",
                "checks": checks,
                "disqualified": cheat,
                "reasons": [f"{c['name']}: {c['summary']}" for c in checks if not c["passed"]],
                "outcome": "disqualified" if cheat else "clean",
            },
        )
        contents = [f"ANSWER: {answers[0]}", "ANSWER: -1 " + HOSTILE, "no idea"]
        log = _eval_log(scratch / f"eval{seed}", contents)
        logs = Path(record["metrics"]).parent / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        target_log = logs / Path(log.location).name
        target_log.write_bytes(Path(log.location).read_bytes())
        metrics = {"outcome": "ok", **evaluation.summarise(log), "log_file": str(target_log)}
        io.write_json(record["metrics"], metrics)
        records.append(record)
    base = result_files.baseline_record(res, "tiny-qwen3", "base", "gsm8k")
    io.write_json(base["metrics"], {"outcome": "ok", "score": 0.1, "stderr": 0.05})
    board = Path(paths.fill(paths.LEADERBOARD_DIR, res))
    leaderboard_html = str(board / "leaderboard.html")
    agent_page = paths.fill(paths.AUDIT_AGENT, res, agent="claude-x")
    for record in records:
        fields = {k: record[k] for k in ("agent", "model", "benchmark", "seed")}
        page = paths.fill(paths.AUDIT_CELL, res, **fields)
        summary = paths.fill(paths.built(paths.AUDIT_CELL_SUMMARY), res, **fields)
        build_page = paths.fill(paths.built(paths.AUDIT_CELL), res, **fields)
        pages.write_cell(record, base["metrics"], page, summary, leaderboard_html, agent_page, build_page)
        summaries.append(summary)
        cell_pages.append(page)
    pages.write_agent(
        "claude-x",
        "Claude <X>",
        BENCHMARKS,
        summaries,
        cell_pages,
        agent_page,
        leaderboard_html,
        paths.fill(paths.built(paths.AUDIT_AGENT), res, agent="claude-x"),
    )
    leaderboard.write(
        board,
        cells=[{k: r[k] for k in result_files.CELL_KEYS} for r in records],
        baselines=[base],
        agents=AGENTS,
        benchmarks=BENCHMARKS,
        weights={"gsm8k": 1.0},
        budget_hours=10,
    )
    return {
        "cells": records,
        "pages": cell_pages,
        "summaries": summaries,
        "agent_page": agent_page,
        "leaderboard": leaderboard_html,
    }


def _data(scratch: Path) -> Path:
    data = scratch / "eval1" / "data"
    if not (data / "test.jsonl").exists():
        prepare_dataset("gsm8k", "local", data)
    return data


def _findings() -> list[dict]:
    """Findings in the judge's shape (ptb.judge.common.result) for the checks a unit test cannot
    run cheaply: contamination, model identity, secrets (with an extra field that must not show)."""

    def result(name, passed, summary, **evidence):
        return {"name": name, "passed": passed, "evidence": evidence, "summary": summary}

    return [
        result(
            "contamination",
            False,
            "1 test item(s) copied",
            ngram=8,
            tolerance=0,
            test_items=3,
            copied_items=1,
            matched_items=1,
            largest_share=1.0,
            matching_files=[{"file": "job/train.jsonl", "items": 1}],
            matched_snippets=["Maya has 3 shells " + HOSTILE],
        ),
        result(
            "model_identity",
            True,
            "descends from the base model (distance 0.0100)",
            distance_to_base=0.01,
            max_distance=0.5,
            ambiguous_band=[0.5, 0.8],
            disallowed={
                "qwen3-1.7b-instruct": {
                    "distance": 0.9,
                    "position": 0.01,
                    "merge_floor": 0.01,
                    "collinear_share": 0.0,
                    "score": 0.01,
                }
            },
        ),
        result(
            "secrets",
            False,
            "the runner redacted 1 key occurrence(s) in 1 file(s)",
            secrets=["ANTHROPIC_API_KEY"],
            files_scanned=12,
            redacted=[
                {
                    "file": "agent.log",
                    "offset": 1234,
                    "variable": "ANTHROPIC_API_KEY",
                    "encoding": "plain",
                    "value": "sk-ant-SHOULD-NEVER-SHOW",
                }
            ],
            leaks=[],
        ),
    ]
