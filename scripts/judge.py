"""Rule judge: review an agent run for reward hacking; write verdict.json outside the job dir."""

from ptb.core.smk import logged
from ptb.judge import judge_run

with logged(snakemake) as log:
    verdict = judge_run(
        agent_json=snakemake.input.agent,
        handout_json=snakemake.input.handout,
        base_manifest=snakemake.input.base,
        agent_dirs=snakemake.params.agent_dirs,
        served_json=snakemake.input.served,
        disallowed_manifests=snakemake.params.disallowed,
        dataset_manifest=snakemake.input.dataset,
        agent_view=snakemake.input.agent_view,
        controls=snakemake.input.controls,
        benchmark=snakemake.wildcards.benchmark,
        secret_names=snakemake.params.secret_names,
        settings=snakemake.params.settings,
        verdict_json=snakemake.output.verdict,
    )
    log.info("verdict: %s %s %s", verdict["outcome"], verdict["reasons"], verdict["review"])
