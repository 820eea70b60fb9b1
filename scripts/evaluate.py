"""Rules evaluate and baseline: score a model on its benchmark; always write metrics.json.

An agent run that left no model, and an eval that failed, each get an outcome
class in metrics.json instead of a missing file, so other cells are not held up.
"""

from pathlib import Path

from ptb.core import io, outcomes
from ptb.core.smk import logged
from ptb.evaluation import evaluation

params = snakemake.params
with logged(snakemake) as log:
    evaluation.set_environment(**params.environment)
    metrics = evaluation.evaluate_job(
        agent_json=snakemake.input.get("agent"),  # rule evaluate
        served_json=snakemake.input.get("served"),  # rule evaluate: the canonical model
        model_json=snakemake.input.get("model"),  # rule baseline
        dataset_dir=str(Path(snakemake.input.dataset).parent),
        benchmark=snakemake.wildcards.benchmark,
        family=params.family,
        settings=params.settings,
        throughput=params.throughput,
        log_dir=params.log_dir,
        cell=dict(snakemake.wildcards.items()),  # the .eval log's tags, metadata and model name
        store=params.store,
    )
    # paths relative to metrics.json's folder, in the log too: the results move with the checkout
    metrics = evaluation.recorded_metrics(metrics, snakemake.output.metrics)
    log.info(
        "metrics: %s",
        {k: metrics.get(k) for k in ("outcome", "score", "samples_scored", "reason", "reused_from")},
    )
    if metrics["outcome"] == outcomes.EVAL_ERROR:
        log.error("evaluation failed:\n%s", metrics.get("traceback", metrics.get("reason")))
    io.write_json(snakemake.output.metrics, metrics)
