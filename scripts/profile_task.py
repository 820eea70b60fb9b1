"""Rules profile_model (K repeats per item of one model) and profile_task (profile.json + .md)."""

from pathlib import Path

from ptb import evaluation, io, profiling
from ptb.smk import logged

params = snakemake.params
with logged(snakemake) as log:
    if snakemake.rule == "profile_model":
        settings = params.settings
        evaluation.set_environment(snakemake.config["results_dir"])
        result = profiling.run_model(
            model_path=io.read_json(snakemake.input.model)["path"],
            family=params.family,
            benchmark=snakemake.wildcards.benchmark,
            data_dir=str(Path(snakemake.input.dataset).parent),
            log_dir=params.log_dir,
            evaluation_settings=snakemake.config["evaluation"],
            section=settings["profiling"],
            limit=settings["limit"],
            task_args=settings["task_args"],
        )
        result["settings"] = settings
        log.info(
            "profile of %s/%s on %s: %s (%s)",
            snakemake.wildcards.model,
            snakemake.wildcards.variant,
            snakemake.wildcards.benchmark,
            result["outcome"],
            result.get("reason", ""),
        )
        if result["outcome"] != "ok":
            log.error("evaluation failed:\n%s", result.get("traceback", result.get("reason")))
        io.write_json(snakemake.output.samples, result)
    else:
        files = dict(zip(params.labels, snakemake.input.samples))
        profile = profiling.write(
            snakemake.wildcards.benchmark,
            files,
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
