# A sweep past one DAG (docs/sweeps.md). With `shard_seeds` set, `--config shard=NAME` plans
# one shard: its cells, their audit pages and the shard's own tables (shard_results); a run
# without `shard` plans the merge: the leaderboard rule, whose declared inputs are then the
# shards' tables (rules/leaderboard.smk), so its plan holds no cell's job.

if SHARD is not None:

    rule shard_results:
        # the leaderboard's own reading of this shard's cells: a table and cells.csv (no page); its
        # inputs are the leaderboard's (rules/leaderboard.smk)
        input:
            verdicts=[c["verdict"] for c in LEADERBOARD_CELLS],
            metrics=[c["metrics"] for c in LEADERBOARD_CELLS],
            baselines=[b["metrics"] for b in LEADERBOARD_BASELINES],
        output:
            table=paths.fill(paths.SHARD_TABLE, RESULTS, shard=SHARD),
            cells=paths.fill(paths.SHARD_CELLS, RESULTS, shard=SHARD),
        log:
            log_path("leaderboard", f"shard_{SHARD}"),
        benchmark:
            benchmark_path("leaderboard", f"shard_{SHARD}")
        localrule: True
        params:
            cells=LEADERBOARD_CELLS,
            baselines=LEADERBOARD_BASELINES,
            settings={**LEADERBOARD_LABELS, "protocol_name": config["protocol"]},
        script:
            "../scripts/shard_results.py"


# what a shard run makes: its tables and its cells' audit pages (the agent pages list every
# cell of an agent, so a sharded sweep has none)
SHARD_TARGETS = [
    *(rules.shard_results.output if SHARD is not None else []),
    *(paths.fill(paths.built(paths.AUDIT_CELL), RESULTS, **c.as_dict()) for c in CELLS),
]
