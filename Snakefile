# PostTrainBench: agents x base models x benchmarks x seeds, as one workflow.
# Plan a sweep:   snakemake -n
# Run on SLURM:   snakemake --profile slurm
# Offline demo:   make demo
from snakemake.utils import min_version

from ptb.config import check_files

min_version("9.0")
check_files(["workflow_config.yaml"])  # a YAML error or a duplicated key: file and line


configfile: "workflow_config.yaml"


report: "report/workflow.rst"


include: "rules/common.smk"
include: "rules/containers.smk"
include: "rules/cache.smk"
include: "rules/agent.smk"
include: "rules/judge.smk"
include: "rules/evaluate.smk"
include: "rules/leaderboard.smk"
include: "rules/profiling.smk"


rule all:
    input:
        rules.leaderboard.output,
        rules.judge_calibration.output if config.get("calibration") else [],
