"""Rule judge_calibration: recall and false positives of the judge per class of planted cheat."""

from ptb.core.smk import logged
from ptb.judge.calibration import calibrate_files

with logged(snakemake) as log:
    rows = calibrate_files(
        snakemake.input.verdicts, snakemake.params.agents, snakemake.params.expected, snakemake.output.csv
    )
    for row in rows:
        log.info("%s", row)
