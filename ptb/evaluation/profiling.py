"""Reward profiling: how noisy is a benchmark's reward, and which items carry no signal?

`snakemake profiling` evaluates each configured benchmark K times per item (inspect epochs=K,
sampling at the configured temperature) on several models (the baselines' base and instruct
models), then writes results/profiling/{benchmark}/profile.{json,md} with, per model:

- per-item pass rates (an item passes a repeat when its value reaches 1, i.e. CORRECT);
- pass@1 and pass@k with the unbiased estimator 1 - C(n-c, k) / C(n, k) (n repeats, c passes);
- majority@k: the value of the item's most frequent answer (Score.answer; ties average the
  tied answers' values; a scorer that records no answer votes pass/fail instead);
- the mean score of each of the K runs and their standard deviation (run to run), and whether
  that std is under the threshold (profiling.variance_threshold, default 0.01 = 1 point);

and, across models, the items every model always fails or always passes (no signal).

Sampling: task.yaml fixes temperature 0 and a seed for the leaderboard's evals; profiling runs
the same evaluation path (ptb.evaluation.evaluation.evaluate) with its sampling overrides: the temperature
(and top_p / max_tokens where set) and no per-request seed, or every repeat would be the same
sample. The hf provider samples (do_sample) from an RNG seeded once per model with
profiling.seed. Nothing here changes a leaderboard number.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Collection
from pathlib import Path

from ptb.core import io, outcomes, paths
from ptb.core import protocol as protocols
from ptb.evaluation import evaluation as scoring  # `evaluation` is run_model's settings argument
from ptb.inputs import cache


class ProfilingError(ValueError):
    """A profiling section that names what the config does not have."""


def targets(
    section: dict | None, models: Collection[str], benchmarks: Collection[str], instruct: Collection[str]
) -> list[tuple[str, str, str]]:
    """(benchmark, model, variant) for every model the profile evaluates (none without a
    profiling section); checks the names against the configured models and benchmarks.
    instruct: the models with an official instruct variant."""
    if section is None:
        return []
    for axis, known in (("models", models), ("benchmarks", benchmarks)):
        for name in section[axis]:
            if name not in known:
                raise ProfilingError(
                    f"config key 'profiling.{axis}' names unknown {axis[:-1]} {name!r}; "
                    f"allowed: {', '.join(sorted(known))}"
                )
    return [
        (bench, model, variant)
        for bench in section["benchmarks"]
        for model in section["models"]
        for variant in section["variants"]
        if variant == "base" or model in instruct
    ]


def model_label(model: str, variant: str) -> str:
    return f"{model}/{variant}"


def sample_files(results: str, profile_targets: list[tuple[str, str, str]], benchmark: str) -> dict[str, str]:
    """label -> samples.json of every model profiled on the benchmark."""
    return {
        model_label(m, v): paths.fill(paths.PROFILE_SAMPLES, results, benchmark=b, model=m, variant=v)
        for b, m, v in profile_targets
        if b == benchmark
    }


def profile_files(results: str, profile_targets: list[tuple[str, str, str]]) -> list[str]:
    benches = dict.fromkeys(b for b, _, _ in profile_targets)
    return [paths.fill(paths.PROFILE_JSON, results, benchmark=b) for b in benches]


# --- running one model ------------------------------------------------------------------------


def items_from_log(log) -> dict[str, list[dict]]:
    """item id -> one {"epoch", "value", "answer"} per repeat; value None when the sample failed."""
    items: dict[str, list[dict]] = {}
    for sample in log.samples or []:
        failed = scoring.sample_failed(sample)
        score = None if failed else scoring.main_score(sample)
        items.setdefault(str(sample.id), []).append(
            {
                "epoch": sample.epoch,
                "value": None if failed else scoring.score_value(score.value),
                "answer": None if failed or score.answer is None else str(score.answer),
            }
        )
    for runs in items.values():
        runs.sort(key=lambda r: r["epoch"])
    return items


def repeats_summary(log) -> dict:
    """samples.json's content of a finished K-epoch eval: every repeat's value and answer."""
    items = items_from_log(log)
    return {
        "repeats": log.eval.config.epochs,
        "items": items,
        "samples_scored": sum(any(r["value"] is not None for r in runs) for runs in items.values()),
        "samples_failed": sum(r["value"] is None for runs in items.values() for r in runs),
        "log_file": log.location,
        "generation": scoring.generation_of(log),
        "task_version": log.eval.task_version,
    }


def run_model(
    *,
    model_path: str,
    family: str,
    benchmark: str,
    data_dir: str,
    log_dir: str,
    evaluation: dict,
    section: dict,
    limit: int | None = None,
    task_args: dict | None = None,
    protocol: str = protocols.DEFAULT,
    cell: dict | None = None,
) -> dict:
    """Evaluate one model K times per item (the evaluation path with profiling's sampling
    overrides, epochs = K); return samples.json's content (never raises)."""
    return scoring.evaluate(
        model_path=model_path,
        family=family,
        benchmark=benchmark,
        data_dir=data_dir,
        log_dir=log_dir,
        evaluation={**evaluation, "epochs": section["repeats"]},
        limit=limit,
        task_args=task_args,
        protocol=protocol,
        sampling=section,
        summary=repeats_summary,
        cell=cell,
    )


def profile_job(
    *,
    model_json: str,
    dataset_dir: str,
    benchmark: str,
    family: str,
    settings: dict,
    throughput: dict,
    log_dir: str,
    cell: dict | None = None,
) -> dict:
    """One profile_model job: the cached model K times per item, with the rule's settings
    recorded (settings: the score settings and the profiling section; throughput: the rest)."""
    result = run_model(
        model_path=cache.model_path(model_json),
        family=family,
        benchmark=benchmark,
        data_dir=dataset_dir,
        log_dir=log_dir,
        section=settings["profiling"],
        cell={**(cell or {}), "stage": "profiling"},
        **scoring.rule_arguments(settings, throughput),
    )
    return {**result, "settings": settings}


# --- statistics -----------------------------------------------------------------------------------


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k of one item from n samples with c correct: 1 - C(n-c, k) / C(n, k)."""
    if k > n:
        raise ValueError(f"pass@{k} needs at least {k} samples, got {n}")
    if n - c < k:
        return 1.0
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


def ks_for(repeats: int) -> list[int]:
    """1, the powers of two below K, and K."""
    ks, k = [1], 2
    while k < repeats:
        ks.append(k)
        k *= 2
    return ks + ([repeats] if repeats > 1 else [])


def majority_value(runs: list[dict]) -> float | None:
    """The value of the most frequent answer over the repeats (ties: the tied answers' mean)."""
    scored = [r for r in runs if r["value"] is not None]
    if not scored:
        return None
    if all(r["answer"] is None for r in scored):  # no answers recorded: vote pass / fail
        passes = sum(r["value"] >= 1.0 for r in scored)
        return 1.0 if passes * 2 > len(scored) else 0.5 if passes * 2 == len(scored) else 0.0
    counts = Counter(r["answer"] for r in scored)
    top = max(counts.values())
    tied = [answer for answer, count in counts.items() if count == top]
    group_values = [statistics.fmean(r["value"] for r in scored if r["answer"] == a) for a in tied]
    return statistics.fmean(group_values)


def summarise_model(result: dict, threshold: float) -> dict:
    """Per-item pass rates and the model's pass@k, majority@k, run scores and run-to-run std."""
    if result.get("outcome") != outcomes.OK:
        return {"outcome": result.get("outcome", outcomes.MISSING), "reason": result.get("reason")}
    repeats = result["repeats"]
    items = {}
    for item, runs in result["items"].items():
        values = [r["value"] for r in runs if r["value"] is not None]
        items[item] = {
            "n": len(values),
            "passes": sum(v >= 1.0 for v in values),
            "failed_runs": len(runs) - len(values),
            "mean": statistics.fmean(values) if values else None,
            "pass_rate": sum(v >= 1.0 for v in values) / len(values) if values else None,
            "majority": majority_value(runs),
        }
    scored = {k: v for k, v in items.items() if v["n"]}
    pass_k = {}
    for k in ks_for(repeats):
        eligible = [pass_at_k(v["n"], v["passes"], k) for v in scored.values() if v["n"] >= k]
        pass_k[f"pass@{k}"] = statistics.fmean(eligible) if eligible else None
    by_epoch: dict[int, list[float]] = {}
    for runs in result["items"].values():
        for r in runs:
            if r["value"] is not None:
                by_epoch.setdefault(r["epoch"], []).append(r["value"])
    run_scores = [statistics.fmean(by_epoch[e]) for e in sorted(by_epoch)]
    std = statistics.stdev(run_scores) if len(run_scores) > 1 else None
    majorities = [v["majority"] for v in scored.values() if v["majority"] is not None]
    return {
        "outcome": outcomes.OK,
        "repeats": repeats,
        "items_scored": len(scored),
        "score": statistics.fmean(v["mean"] for v in scored.values()) if scored else None,
        **pass_k,
        f"majority@{repeats}": statistics.fmean(majorities) if majorities else None,
        "run_scores": run_scores,
        "run_std": std,
        "std_under_threshold": None if std is None else std < threshold,
        "items": items,
    }


def aggregate(benchmark: str, results: dict[str, dict], section: dict, limit: int | None = None) -> dict:
    """profile.json: every model's summary, and the items without signal across models."""
    threshold = section["variance_threshold"]
    models = {label: summarise_model(result, threshold) for label, result in results.items()}
    ok = {label: m for label, m in models.items() if m["outcome"] == outcomes.OK}
    item_ids = sorted({item for m in ok.values() for item in m["items"]}, key=_natural)

    def every_model(test) -> list[str]:
        if not ok:
            return []
        return [
            i
            for i in item_ids
            if all(i in m["items"] and m["items"][i]["n"] and test(m["items"][i]) for m in ok.values())
        ]

    stds = {label: m["run_std"] for label, m in ok.items()}
    versions = {r.get("task_version") for r in results.values() if r.get("task_version")}
    return {
        "benchmark": benchmark,
        "repeats": section["repeats"],
        "temperature": section["temperature"],
        "top_p": section.get("top_p"),
        "max_tokens": section.get("max_tokens"),
        "limit": limit,
        "task_version": versions.pop() if len(versions) == 1 else sorted(versions),
        "variance_threshold": threshold,
        "std_under_threshold": (
            all(m["std_under_threshold"] for m in ok.values())
            if ok and all(s is not None for s in stds.values())
            else None
        ),
        "over_threshold": sorted(label for label, m in ok.items() if m["std_under_threshold"] is False),
        "always_fail": every_model(lambda v: v["passes"] == 0),
        "always_pass": every_model(lambda v: v["passes"] == v["n"]),
        "items": item_ids,
        "models": models,
    }


def _natural(item: str):
    return (0, int(item), "") if item.isdigit() else (1, 0, item)


def _fmt(value, pct: bool = True) -> str:
    if value is None:
        return "-"
    return f"{100 * value:.1f}" if pct else f"{value:g}"


def _ids(items: list[str], limit: int = 30) -> str:
    if not items:
        return "none"
    shown = ", ".join(f"`{i}`" for i in items[:limit])
    return shown + (f", ... ({len(items) - limit} more)" if len(items) > limit else "")


def to_markdown(profile: dict) -> str:
    repeats, threshold = profile["repeats"], profile["variance_threshold"]
    ks = [f"pass@{k}" for k in ks_for(repeats)]
    labels = list(profile["models"])
    settings_text = f"temperature {profile['temperature']}"
    if profile.get("top_p") is not None:
        settings_text += f", top_p {profile['top_p']}"
    if profile.get("max_tokens") is not None:
        settings_text += f", max_tokens {profile['max_tokens']}"
    limit_text = "" if profile["limit"] is None else f" (limit {profile['limit']})"
    lines = [
        f"# Reward profile: {profile['benchmark']}",
        "",
        f"{repeats} repeats per item ({settings_text}), {len(profile['items'])} items{limit_text}, "
        f"task version {profile['task_version']}. "
        "Scores in percent; an item passes a repeat when it scores 1.",
        "",
        "| model | score | " + " | ".join(ks) + f" | majority@{repeats} | run scores | run-to-run std | "
        f"std < {_fmt(threshold)} pt? |",
        "|---|" + "---|" * (len(ks) + 5),
    ]
    for label, m in profile["models"].items():
        if m["outcome"] != outcomes.OK:
            lines.append(f"| {label} | {m['outcome']}: {m.get('reason') or ''} |" + " |" * (len(ks) + 4))
            continue
        verdict = {True: "yes", False: "**no**", None: "-"}[m["std_under_threshold"]]
        lines.append(
            f"| {label} | {_fmt(m['score'])} | "
            + " | ".join(_fmt(m[k]) for k in ks)
            + f" | {_fmt(m[f'majority@{repeats}'])} | {', '.join(_fmt(s) for s in m['run_scores'])}"
            f" | {_fmt(m['run_std'])} | {verdict} |"
        )
    under = profile["std_under_threshold"]
    lines += [
        "",
        {
            True: f"Run-to-run std is under the {_fmt(threshold)}% threshold for every model.",
            False: f"Run-to-run std is over the {_fmt(threshold)}% threshold for: "
            f"{', '.join(profile['over_threshold'])}: "
            "one eval of this benchmark is not precise to that threshold; "
            "average more repeats (epochs) or items.",
            None: "Run-to-run std could not be computed for every model (fewer than 2 scored runs).",
        }[under],
        "",
    ]
    lines += [
        f"Items every model always fails ({len(profile['always_fail'])}/{len(profile['items'])}): "
        f"{_ids(profile['always_fail'])}",
        "",
        f"Items every model always passes ({len(profile['always_pass'])}/{len(profile['items'])}): "
        f"{_ids(profile['always_pass'])}",
        "",
    ]
    ok = [label for label in labels if profile["models"][label]["outcome"] == outcomes.OK]
    if ok:
        lines += [
            "## Per-item pass rates (passes / scored repeats)",
            "",
            "| item | " + " | ".join(ok) + " |",
            "|---|" + "---|" * len(ok),
        ]
        for item in profile["items"]:
            cells = []
            for label in ok:
                v = profile["models"][label]["items"].get(item)
                cells.append("-" if not v or not v["n"] else f"{v['passes']}/{v['n']}")
            lines.append(f"| `{item}` | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write(
    benchmark: str,
    files: dict[str, str | Path],
    section: dict,
    json_path,
    md_path,
    limit: int | None = None,
) -> dict:
    """profile.json and profile.md from every model's samples.json (files: label -> path)."""
    results = {label: io.read_json(path) for label, path in files.items()}
    profile = aggregate(benchmark, results, section, limit)
    io.write_json(json_path, profile)
    io.write_text_atomic(md_path, to_markdown(profile))
    return profile
