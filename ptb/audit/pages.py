"""The audit pages: one per cell (its evidence) and one per agent (its cells), static HTML
written next to the leaderboard, linked leaderboard -> agent page -> cell page -> raw files.

A cell page reads the cell's record files (agent.json, manifest.json, handout.json,
verdict.json, metrics.json) and the base model's metrics, which its rule declares, plus what
the same jobs wrote beside them (agent.log, the .eval log, the job dir): those change only
when the declared file beside them does. It also writes a small summary (the cell's
outcome, scores, time and cost) that the agent page reads, so a new cell rewrites its own
page, its agent's page and the leaderboard, and no other page.
"""

from __future__ import annotations

import shlex
from pathlib import Path

from markupsafe import Markup

from ptb.agent_runs import monitor as system_monitor
from ptb.audit import evallog, findings, trace_view
from ptb.audit.html import (
    bold,
    br,
    clipped,
    code,
    details,
    dl,
    esc,
    join,
    link,
    muted,
    page,
    para,
    relative,
    render,
    status,
    table,
    value,
)
from ptb.core import io, outcomes, result_files
from ptb.leaderboard import publish

SAMPLE_ROWS = 2000  # beyond this the page links the log instead of listing every sample


def _read(path, reader=result_files.read_record) -> dict | None:
    """A file's object, checked by `reader` (ptb.core.result_files); None if absent or corrupt."""
    try:
        return reader(path)
    except io.CorruptFile:
        return None


def _pct(x) -> str:
    return "–" if x is None else f"{100 * x:.1f}"


def _hours(seconds) -> str:
    return f"{(seconds or 0) / 3600:.2f}"


def _money(x) -> str:
    return "–" if x is None else f"${x:.2f}"


def _or_dash(x) -> str:
    return "–" if x is None else str(x)


def _from_checkout(path: str | Path) -> str:
    """path as typed in the checkout (the workdir): relative there, so pages name no absolute path."""
    path = Path(path).absolute()
    return str(path.relative_to(Path.cwd())) if path.is_relative_to(Path.cwd()) else str(path)


def _log_file(metrics: dict, metrics_path: Path) -> Path | None:
    """The cell's .eval log: where metrics.json says (relative to it: ptb.core.io.recorded_path),
    else the same name in its logs folder (old results recorded it absolute, and may have moved)."""
    named = metrics.get("log_file")
    if not named:
        return None
    for candidate in (io.recorded_path(named, metrics_path), metrics_path.parent / "logs" / Path(named).name):
        if candidate.is_file():
            return candidate
    return None


def _samples(log: Path | None, page_path: Path) -> Markup:
    if log is None:
        return para("no .eval log", "missing")
    try:
        found = evallog.read_samples(log)
    except Exception as err:  # truncated (BadZipFile), half-written, foreign: say so, keep the page
        problem = f"{type(err).__name__}: {err}"
        return para(f"unreadable .eval log: cannot read {log.name}: {problem}", "bad")
    rows = []
    for r in found["rows"][:SAMPLE_ROWS]:
        ok = evallog.correct(r["value"])
        mark = status("✓", "ok") if ok else status("✗", "bad") if ok is False else esc(r["value"])
        rows.append(
            [
                esc(r["id"]),
                esc(r["epoch"]),
                esc(r["target"]),
                esc(r["answer"]) if r["answer"] is not None else muted("–"),
                mark,
                esc(r["error"] or ""),
                details(f"{len(r['completion']):,} chars", clipped(r["completion"], 3000)),
            ]
        )
    more = len(found["rows"]) - len(rows)
    command = f"inspect view --log-dir {shlex.quote(_from_checkout(log.parent))}"
    return (
        para(
            esc(f"task {found['task']}, model {found['model']}, status {found['status']}; ")
            + link(relative(log, page_path), "the .eval log")
            + "; browse it with "
            + code(command)
        )
        + table(["item", "epoch", "target", "answer extracted", "correct", "error", "model output"], rows)
        + (para(f"{more:,} more rows in the log", "muted") if more > 0 else "")
    )


def _provenance(manifest: dict | None, metrics: dict, metrics_path: Path, served: dict | None) -> Markup:
    if manifest is None:
        return para("no manifest.json", "missing")
    software = manifest.get("software") or {}
    facts = {
        "workflow commit": software.get("workflow_commit"),
        "evaluation's workflow commit": (metrics.get("software") or {}).get("workflow_commit"),
        "images": manifest.get("images"),
        # the agent's box (ptb.agent_runs.box) and what was handed into it beyond the library
        "agent's box": manifest.get("isolation", "not recorded"),
        "handed in read-only (box_read_only)": manifest.get("box_read_only") or None,
        "base model": manifest.get("base_model"),
        "prompt sha256": manifest.get("prompt_sha256"),
        "final_model files (sha256)": manifest.get("final_model_files"),
        # what the judge checked and the evaluation served (ptb.agent_runs.canonical)
        "canonical model": None
        if served is None
        else {
            k: served.get(k)
            for k in ("layout", "weights_sha256", "refused", "reason", "dropped")
            if served.get(k)
        },
        "evaluated model": metrics.get("model_path")
        and _from_checkout(io.recorded_path(metrics["model_path"], metrics_path)),
        "task version": metrics.get("task_version"),
        "generation": metrics.get("generation"),
    }
    return (
        value(facts)
        + details("the cell's resolved config", value(manifest.get("config")))
        + details("package versions", value(software.get("packages")))
    )


def summary(
    record: dict, base_metrics: str, agent: dict | None, verdict: dict | None, metrics: dict | None
) -> dict:
    """The cell's row on its agent page: outcome, own and counted score, time."""
    outcome = outcomes.classify(agent, verdict, metrics)
    base = _read(base_metrics, result_files.read_metrics) or {}
    own = metrics.get("score") if metrics and metrics.get("outcome") == outcomes.OK else None
    base_score = base.get("score") if base.get("outcome") == outcomes.OK else None
    return {
        **{k: record[k] for k in ("agent", "model", "benchmark", "seed")},
        "outcome": outcome,
        "reason": outcomes.reason(outcome, agent or {}, verdict or {}, metrics or {}),
        "own_score": own,
        "stderr": (metrics or {}).get("stderr") if own is not None else None,
        "ci95": (metrics or {}).get("ci95") if own is not None else None,
        "base_score": base_score,
        # PostTrainBench's policy (ptb.leaderboard.leaderboard.apply_policy): own score or the base model's
        "score": None
        if outcome == outcomes.MISSING
        else own
        if outcome in outcomes.OWN_SCORE
        else base_score,
        "wall_seconds": (agent or {}).get("wall_seconds"),
        "budget_seconds": (agent or {}).get("budget_seconds"),
        "served_other_model": ((agent or {}).get("api") or {}).get("served_other_model") or [],
    }


def cell_page(
    record: dict, base_metrics: str, page_path: str | Path, leaderboard_html: str, agent_html: str
) -> tuple[str, dict]:
    """(HTML, summary) of a cell. record: ptb.core.result_files.cell_record plus `manifest` and
    `handout`; base_metrics: the base model's metrics.json for the same model and benchmark."""
    page_path = Path(page_path)
    found = result_files.read_cell(record)  # checked as the leaderboard checks them
    agent, verdict, metrics, corrupt = (found[k] for k in ("agent", "verdict", "metrics", "corrupt"))
    manifest, handout = _read(record["manifest"]), _read(record["handout"]) or {}
    served = _read(record["served"]) if record.get("served") else None
    run_dir = Path(record["agent_json"]).parent
    facts = summary(record, base_metrics, agent, verdict, metrics)
    if corrupt:  # as on the leaderboard (result_files.cell_outcome): named, scored as the base model
        facts.update(outcome=outcomes.CORRUPT, reason="; ".join(corrupt), score=facts["base_score"])
    scaffold = ((manifest or {}).get("config") or {}).get("agent", {}).get("scaffold", "?")
    trace_html, used = trace_view.render(scaffold, run_dir / "agent.log")
    facts.update(used)
    api = (agent or {}).get("api")
    if api:  # the provider's own numbers (the run's credential proxy), not what the CLI printed
        facts.update(cost_usd=api.get("cost_usd"), tokens=sum((api.get("tokens") or {}).values()))
    m = metrics or {}
    ci = facts["ci95"] or [None, None]
    counted = "own score" if facts["outcome"] in outcomes.OWN_SCORE else "the base model's"
    stages = [("agent", agent), ("judge", verdict), ("eval", metrics)]
    overview = {
        "outcome": None,
        "reason": facts["reason"] or "–",
        "score counted": f"{_pct(facts['score'])} ({counted})",
        "own score": f"{_pct(facts['own_score'])} ± {_pct(facts['stderr'])} (stderr); "
        f"95% CI {_pct(ci[0])}–{_pct(ci[1])}",
        "base model": _pct(facts["base_score"]),
        "samples": ", ".join(
            f"{m.get(k, '–')} {word}"
            for k, word in (
                ("samples_scored", "scored"),
                ("samples_failed", "failed"),
                ("truncated", "truncated"),
            )
        ),
        "stage outcomes": ", ".join(f"{name} {(data or {}).get('outcome', '–')}" for name, data in stages),
        "time": f"{_hours(facts['wall_seconds'])} h of {_hours(facts['budget_seconds'])} h",
        "cost, tokens, tool calls": ", ".join(
            [_money(facts["cost_usd"]), _or_dash(facts["tokens"]), str(facts["tool_calls"])]
        ),
    }
    if api:
        overview["model served"] = ", ".join(f"{m} ({n} requests)" for m, n in api["models_served"].items())
        if api.get("served_other_model"):
            overview["model served"] += (
                f" — warning: not the configured {api.get('model_configured')}"
                f" ({', '.join(api['served_other_model'])})"
            )
    machine = system_monitor.describe((agent or {}).get("monitor"))  # the runner's samples of the machine
    if machine:
        overview["machine during the run"] = machine
    rows = dl((k, status(facts["outcome"]) if k == "outcome" else v) for k, v in overview.items())
    raw = [
        (record["agent_json"], "agent.json"),
        (record["manifest"], "manifest.json"),
        (record["handout"], "handout.json"),
        *([(record["served"], "model.json (the canonical model)")] if record.get("served") else []),
        (run_dir / "agent.log", "agent.log (raw trace)"),
        (run_dir / "trace.md", "trace.md"),
        (record["verdict"], "verdict.json"),
        (record["metrics"], "metrics.json"),
        (run_dir / "job", "job dir"),
    ]
    links = join((link(relative(p, page_path), text) for p, text in raw if Path(p).exists()), " · ")
    ctx = {"run_dir": run_dir, "page": page_path, "handout": handout, "benchmark": record["benchmark"]}
    eval_body = value(
        {
            k: m.get(k)
            for k in ("outcome", "reason", "score", "stderr", "ci95", "epochs", "grader", "timing")
            if k in m
        }
    )
    calls = used["tool_calls"]
    body = render(
        "cell.html.j2",
        overview=rows,
        raw_files=links,
        judge=findings.verdict_section(verdict, ctx),
        evaluation=eval_body + _samples(_log_file(m, Path(record["metrics"])), page_path),
        trace=details(f"{scaffold} trace: {calls} tool calls", trace_html),
        provenance=_provenance(manifest, m, Path(record["metrics"]), served),
    )
    title = f"{record['agent']} · {record['model']} · {record['benchmark']} · seed {record['seed']}"
    nav = [
        (relative(leaderboard_html, page_path), "Leaderboard"),
        (relative(agent_html, page_path), record["agent"]),
    ]
    return page(title, body, nav), facts


def write_cell(
    record: dict,
    base_metrics: str,
    page_path,
    summary_json,
    leaderboard_html: str,
    agent_html: str,
    build_page,
) -> dict:
    """page_path: the published page (its links are relative to it); build_page: the rule's
    output, published to page_path once written with the summary (ptb.leaderboard.publish)."""
    text, facts = cell_page(record, base_metrics, page_path, leaderboard_html, agent_html)
    io.write_text_atomic(build_page, text)
    io.write_json(summary_json, facts)
    publish.publish([(build_page, page_path)])
    return facts


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def agent_page(
    agent: str,
    display_name: str,
    benchmarks: dict[str, str],
    cells: list[tuple[dict, str]],
    page_path,
    leaderboard_html: str,
) -> str:
    """The agent's model × benchmark matrix (mean of the counted scores and each seed, with
    outcome and time per seed, each linking its cell page), then every cell as a row.
    cells: (summary, cell page path) pairs; benchmarks: benchmark -> display name, in order."""
    page_path = Path(page_path)
    by_key = {(s["model"], s["benchmark"]): [] for s, _ in cells}
    for s, cell_html in cells:
        by_key[(s["model"], s["benchmark"])].append((s, cell_html))
    models = list(dict.fromkeys(s["model"] for s, _ in cells))
    matrix = []
    for model in models:
        row = [model]
        for bench in benchmarks:
            runs = sorted(by_key.get((model, bench), []), key=lambda c: c[0]["seed"])
            scores = [s["score"] for s, _ in runs]  # one cell without a score: no mean (incomplete)
            mean = None if None in scores else _mean(scores)
            seeds = [
                link(relative(h, page_path), f"seed {s['seed']}: {_pct(s['score'])}")
                + " "
                + status(s["outcome"])
                for s, h in runs
            ]
            row.append(br([bold(_pct(mean)), *seeds]) if runs else "–")
        matrix.append(row)
    listing = [
        [
            link(relative(h, page_path), f"{s['model']} / {s['benchmark']} / seed {s['seed']}"),
            status(s["outcome"]),
            _pct(s["score"]),
            _pct(s["own_score"]),
            _hours(s["wall_seconds"]),
            _money(s.get("cost_usd")),
            _or_dash(s.get("tokens")),
            s["reason"],
        ]
        for s, h in sorted(cells, key=lambda c: (c[0]["model"], c[0]["benchmark"], c[0]["seed"]))
    ]
    counts = {o: sum(1 for s, _ in cells if s["outcome"] == o) for o in outcomes.CELL}
    body = render(
        "agent.html.j2",
        counts=", ".join(f"{o} {n}" for o, n in counts.items() if n),
        matrix=table(["model", *benchmarks.values()], matrix),
        cells=table(
            ["cell", "outcome", "score", "own score", "hours", "cost", "tokens", "reason"],
            listing,
            {2, 3, 4, 5, 6},
        ),
    )
    return page(f"{display_name} ({agent})", body, [(relative(leaderboard_html, page_path), "Leaderboard")])


def write_agent(
    agent: str,
    display_name: str,
    benchmarks: dict[str, str],
    summaries: list[str],
    cell_pages: list[str],
    page_path,
    leaderboard_html: str,
    build_page,
) -> None:
    """page_path: the published page, build_page: the rule's output (as write_cell)."""
    cells = [(io.read_json(s), h) for s, h in zip(summaries, cell_pages, strict=True)]
    text = agent_page(agent, display_name, benchmarks, cells, page_path, leaderboard_html)
    io.write_text_atomic(build_page, text)
    publish.publish([(build_page, page_path)])
