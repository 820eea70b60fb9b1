"""Rule canonical_model: write the run's model/ as both loaders would read final_model/, or refuse."""

from pathlib import Path

from ptb.agent_runs.canonical import canonicalize
from ptb.core import io
from ptb.core.smk import logged
from ptb.inputs.cache import model_path

with logged(snakemake) as log:
    record = canonicalize(
        snakemake.params.final_model,
        model_path(snakemake.input.base),
        Path(snakemake.output.record).parent / "model",  # model/ beside its record
    )
    log.info(
        "canonical model: %s",
        {k: record.get(k) for k in ("model", "refused", "reason", "layout", "tensors", "dropped")},
    )
    io.write_json(snakemake.output.record, record)
