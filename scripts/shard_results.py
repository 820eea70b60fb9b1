"""Rule shard_results: one shard's leaderboard table and cells table (docs/sweeps.md).

The merged leaderboard reads the same cell files these were built from; these tables are the
shard's own view and what the merge waits for.
"""

from ptb.core import io
from ptb.core.smk import logged
from ptb.leaderboard import leaderboard

with logged(snakemake) as log:
    params = snakemake.params
    table, cells, _ = leaderboard.build(cells=params.cells, baselines=params.baselines, **params.settings)
    io.write_text_atomic(snakemake.output.cells, cells.to_csv(index=False))
    io.write_text_atomic(snakemake.output.table, table.to_csv(index=False))
    log.info("shard of %d cells: %d rows written to %s", len(cells), len(table), snakemake.output.table)
