"""Rule leaderboard: aggregate every cell's agent.json, verdict and metrics into the tables and charts."""

from pathlib import Path

from ptb.core.smk import logged
from ptb.leaderboard import leaderboard

with logged(snakemake) as log:
    out, params = snakemake.output, snakemake.params
    table = leaderboard.write(
        Path(out.csv).parent,
        cells=params.cells,
        baselines=params.baselines,
        calibration_csv=snakemake.input.calibration or None,
        **params.settings,
    )
    log.info("leaderboard with %d rows written to %s", len(table), out.md)
