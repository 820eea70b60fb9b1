"""Rules profile_model (K repeats per item of one model) and profile_task (profile.json + .md)."""

from pathlib import Path

from ptb.core import io, outcomes
from ptb.core.smk import logged
from ptb.evaluation import evaluation, profiling

params = snakemake.params
with logged(snakemake) as log:
    if snakemake.rule == "profile_model":
        evaluation.set_environment(**params.environment)
        result = profiling.profile_job(
            model_json=snakemake.input.model,
            dataset_dir=str(Path(snakemake.input.dataset).parent),
            benchmark=snakemake.wildcards.benchmark,
            family=params.family,
            settings=params.settings,
            throughput=params.throughput,
            log_dir=params.log_dir,
            cell=dict(snakemake.wildcards.items()),  # the .eval log's tags, metadata, model name
        )
        log.info(
            "profile of %s/%s on %s: %s (%s)",
            snakemake.wildcards.model,
            snakemake.wildcards.variant,
            snakemake.wildcards.benchmark,
            result["outcome"],
            result.get("reason", ""),
        )
        if result["outcome"] != outcomes.OK:
            log.error("evaluation failed:\n%s", result.get("traceback", result.get("reason")))
        # its log_file relative to samples.json's folder, as metrics.json records it
        io.write_json(snakemake.output.samples, evaluation.recorded_metrics(result, snakemake.output.samples))
    else:
        profile = profiling.write(
            snakemake.wildcards.benchmark,
            dict(zip(params.labels, snakemake.input.samples)),
            params.profiling,
            snakemake.output.json,
            snakemake.output.md,
            params.limit,
        )
        log.info(
            "profile of %s: std under threshold: %s; always fail %d, always pass %d",
            snakemake.wildcards.benchmark,
            profile["std_under_threshold"],
            len(profile["always_fail"]),
            len(profile["always_pass"]),
        )
