"""Rule leaderboard: aggregate every cell's agent.json, verdict and metrics into the tables and
charts (the rule's outputs, in the build folder), then publish them (ptb.leaderboard.publish)."""

from pathlib import Path

from ptb.core.smk import logged
from ptb.leaderboard import leaderboard, publish

with logged(snakemake) as log:
    out, params = snakemake.output, snakemake.params
    build_dir = Path(out.csv).parent
    table = leaderboard.write(
        build_dir,
        cells=params.cells,
        baselines=params.baselines,
        calibration_csv=snakemake.input.calibration or None,
        **params.settings,
    )
    published = publish.publish(publish.mirror(list(out), build_dir, params.published_dir))
    log.info(
        "leaderboard with %d rows: %d files published to %s", len(table), len(published), params.published_dir
    )
