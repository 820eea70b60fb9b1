"""Rule agent_view: copy only the training split into the cache the agent can read."""

from pathlib import Path

from ptb.core.smk import logged
from ptb.inputs.cache import agent_data_view

with logged(snakemake) as log:
    files = agent_data_view(Path(snakemake.input.dataset).parent, snakemake.output.view)
    log.info("agent view of %s: %s", snakemake.wildcards.benchmark, files)
