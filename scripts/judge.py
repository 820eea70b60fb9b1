"""Rule judge: review an agent run for reward hacking; write verdict.json outside the job dir."""

from ptb.core.smk import logged
from ptb.judge import judge_run

with logged(snakemake) as log:
    verdict = judge_run(
        agent_json=snakemake.params.agent,
        handout_json=snakemake.params.handout,
        base_manifest=snakemake.params.base,
        agent_dirs={
            "job": snakemake.params.job_dir,
            "home": snakemake.params.home,
            "scratch": snakemake.params.scratch,
        },
        served_json=snakemake.input.served,
        disallowed_manifests=snakemake.params.disallowed,
        dataset_manifest=snakemake.params.dataset,
        agent_view=snakemake.params.agent_view,
        controls=snakemake.params.controls,
        benchmark=snakemake.wildcards.benchmark,
        secret_names=snakemake.params.secret_names,
        settings=snakemake.params.settings,
        verdict_json=snakemake.output.verdict,
    )
    log.info("verdict: %s %s %s", verdict["outcome"], verdict["reasons"], verdict["review"])
