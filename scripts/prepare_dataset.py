"""Rule prepare_dataset: the benchmark's records (pinned hub revision or local source) and a manifest."""

from pathlib import Path

from ptb import io
from ptb.cache import prepare_dataset
from ptb.smk import logged

with logged(snakemake) as log:
    dest = Path(snakemake.output.manifest).parent
    manifest = prepare_dataset(
        snakemake.wildcards.benchmark, snakemake.params.data, dest, cache_dir=snakemake.params.datasets_cache
    )
    log.info("dataset %s: %s", snakemake.wildcards.benchmark, manifest["files"])
    io.write_json(snakemake.output.manifest, manifest)
