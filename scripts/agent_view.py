"""Rule agent_view: copy only the training split into the cache the agent can read, less the
control items the judge's probe holds back (written outside the view)."""

from pathlib import Path

from ptb.core.smk import logged
from ptb.inputs.cache import agent_data_view

with logged(snakemake) as log:
    files = agent_data_view(
        Path(snakemake.input.dataset).parent,
        snakemake.output.view,
        controls=snakemake.output.controls,
        control_count=snakemake.params.control_count,
        seed=snakemake.params.control_seed,
    )
    log.info("agent view of %s: %s", snakemake.wildcards.benchmark, files)
