"""Rule prepare_dataset: the benchmark's records (pinned hub revision or local source) and a manifest."""

from pathlib import Path

from ptb.core import io
from ptb.core.smk import logged
from ptb.inputs.cache import prepare_dataset

with logged(snakemake) as log:
    dest = Path(snakemake.output.manifest).parent
    manifest = prepare_dataset(
        snakemake.wildcards.benchmark, snakemake.params.data, dest, cache_dir=snakemake.params.datasets_cache
    )
    log.info("dataset %s: %s", snakemake.wildcards.benchmark, manifest["files"])
    io.write_json(snakemake.output.manifest, manifest)
