"""List the shards of a sharded sweep (docs/sweeps.md), one name a line, for a loop:

    for s in $(python -m ptb.tools.shards --config shard_seeds=10); do
        snakemake --profile slurm --config shard_seeds=10 shard=$s
    done
    snakemake --profile slurm --config shard_seeds=10     # the merge: the leaderboard

Takes the same --configfile / --config as snakemake (ptb.tools.cli_config).
"""

from __future__ import annotations

import argparse
import sys

from ptb.core import config as ptb_config
from ptb.tools import cli_config


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cli_config.add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        config = cli_config.load(args)
    except ptb_config.ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    names = list(ptb_config.shards(config))
    if not names:
        print("error: config key 'shard_seeds' is not set: the grid is one DAG", file=sys.stderr)
        return 2
    print("\n".join(names))
    return 0


if __name__ == "__main__":
    sys.exit(main())
