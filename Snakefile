# PostTrainBench: agents x base models x benchmarks x seeds, as one workflow.
# Plan a sweep:   snakemake -n
# Run on SLURM:   snakemake --profile slurm
# Offline demo:   make demo   (snakemake --profile profiles/demo: demo.smk)
from snakemake.utils import min_version

from ptb.core import plan_speed
from ptb.core.config import check_files

min_version("9.0")
check_files(["workflow_config.yaml"])  # a YAML error or a duplicated key: file and line
# snakemake's planning minus work whose answer is known, among it parsing the config again for
# `configfile:` (it takes the parse check_files made): ptb/core/plan_speed.py
plan_speed.install()


configfile: "workflow_config.yaml"


include: "rules/workflow.smk"


rule all:
    input:
        ALL_TARGETS,
