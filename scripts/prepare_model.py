"""Rule prepare_model: a model at its pinned revision in the full HF cache (or built offline), its manifest,
and for a base model the agent's view of the cache holding that model only."""

from ptb.core import io
from ptb.core.smk import logged
from ptb.inputs.cache import prepare_model, recorded_model_manifest

with logged(snakemake) as log:
    manifest = recorded_model_manifest(  # paths relative to the manifest's folder, in the log too
        prepare_model(
            snakemake.params.ref,
            snakemake.params.dest,
            snakemake.params.hub_cache,
            agent_view=snakemake.params.agent_view,
        ),
        snakemake.output.manifest,
    )
    log.info(
        "model %s/%s at %s, from the manifest's folder (%s)",
        snakemake.wildcards.model,
        snakemake.wildcards.variant,
        manifest["path"],
        "downloaded" if manifest.get("downloaded") else "already in the cache or built offline",
    )
    io.write_json(snakemake.output.manifest, manifest)
