"""Rules evaluate and baseline: score a model on its benchmark; always write metrics.json.

An agent run that left no model, and an eval that failed, each get an outcome
class in metrics.json instead of a missing file, so other cells are not held up.
"""

from pathlib import Path

from ptb import evaluation, io, provenance
from ptb.smk import logged

settings = snakemake.params.settings
with logged(snakemake) as log:
    if snakemake.rule == "baseline":
        model_path = io.read_json(snakemake.input.model)["path"]
    else:
        run = io.read_json(snakemake.input.agent)
        model_path = run.get("final_model")
    evaluation.set_environment(snakemake.config["results_dir"])
    if model_path is None:
        metrics = {"outcome": "no_model", "reason": f"agent outcome {run['outcome']}: nothing to evaluate"}
    else:
        metrics = evaluation.evaluate(
            model_path=model_path,
            family=snakemake.params.family,
            benchmark=snakemake.wildcards.benchmark,
            data_dir=str(Path(snakemake.input.dataset).parent),
            log_dir=snakemake.params.log_dir,
            evaluation=snakemake.config["evaluation"],
            limit=settings["limit"],
            task_args=settings["task_args"],
        )
    metrics.update(model_path=model_path, settings=settings, software=provenance.software())
    log.info("metrics: %s", {k: metrics.get(k) for k in ("outcome", "score", "samples_scored", "reason")})
    if metrics["outcome"] == "eval_error":
        log.error("evaluation failed:\n%s", metrics.get("traceback", metrics.get("reason")))
    io.write_json(snakemake.output.metrics, metrics)
