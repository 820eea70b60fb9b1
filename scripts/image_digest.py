"""Rule image_digest: record the sha256 of a built image (and of its definition file)."""

from ptb.core import io
from ptb.core.smk import logged
from ptb.inputs import containers

with logged(snakemake) as log:
    record = containers.image_digest(snakemake.input.sif, snakemake.params.definition)
    io.write_json(snakemake.output.digest, record)
    log.info("%s sha256 %s", record["image"], record["sha256"])
