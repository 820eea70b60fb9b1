# The embedded demo (profiles/demo names this file): config/demo.yaml merged over
# workflow_config.yaml. Loaded here rather than by the profile's `configfile:`, which a
# `--configfile` on the command line would replace, silently planning the production grid;
# after each configfile directive snakemake applies the command line's files and --config
# on top, so `--profile profiles/demo --configfile X` is the demo with X merged over it.
from snakemake.utils import min_version

from ptb.core import plan_speed
from ptb.core.config import check_files

min_version("9.0")
check_files(["workflow_config.yaml", "config/demo.yaml"])
# snakemake's planning minus work whose answer is known, among it parsing the config again for
# `configfile:` (it takes the parse check_files made): ptb/core/plan_speed.py
plan_speed.install()


configfile: "workflow_config.yaml"
configfile: "config/demo.yaml"


include: "rules/workflow.smk"


rule all:
    input:
        ALL_TARGETS,
