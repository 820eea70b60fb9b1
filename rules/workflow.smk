# The whole workflow: one rule file per stage, and the targets of a sweep. Included by
# Snakefile (production config) and demo.smk (the embedded demo), after their configfiles.


from ptb.core import stops


report: "../report/workflow.rst"


include: "common.smk"
include: "containers.smk"
include: "cache.smk"
include: "agent.smk"
include: "served.smk"
include: "judge.smk"
include: "evaluate.smk"
include: "leaderboard.smk"
include: "sweep.smk"
include: "profiling.smk"


# SIGINT and SIGTERM cancel the running jobs; a killed run's orphaned jobs are killed first
onstart:
    stops.install()


# what `rule all` (in Snakefile and demo.smk: only a main file's first rule is the default target)
# (a shard of a sharded sweep: its own targets, rules/sweep.smk)
ALL_TARGETS = (
    SHARD_TARGETS
    if SHARD is not None
    else [
        *rules.leaderboard.output,
        *(
            paths.fill(paths.built(paths.AUDIT_AGENT), RESULTS, agent=a)
            for a in ([] if MERGE else SELECTION["agents"])
        ),
        *(rules.judge_calibration.output if config["calibration"] else []),
    ]
)
