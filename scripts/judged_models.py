"""Rule judged_models: one index of every model manifest the judge compares against.

Each judge job takes this file as its one input for those models instead of a manifest per
model (about 15 per job on the production grid: most of the planning graph's edges); the job
still reads each manifest by the path in its params.
"""

from ptb.core import io
from ptb.core.smk import logged

with logged(snakemake) as log:
    names = snakemake.params.names
    index = {name: io.read_json(path) for name, path in zip(names, snakemake.input.manifests, strict=True)}
    io.write_json(snakemake.output.index, index)
    log.info("%d model manifests indexed", len(index))
