"""Rule judge_calibration: the confusion table of the judge's checks on labelled runs."""

from ptb import grid, io, paths
from ptb.judge.calibration import calibrate
from ptb.smk import logged

config = snakemake.config
with logged(snakemake) as log:
    records = [
        (
            cell.agent,
            expected,
            io.read_json(paths.fill(paths.VERDICT, config["results_dir"], **cell.as_dict())),
        )
        for cell, expected in grid.calibration_cells(config.get("calibration"))
    ]
    for row in calibrate(records, snakemake.output.csv):
        log.info("%s", row)
