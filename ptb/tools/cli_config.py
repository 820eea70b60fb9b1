"""The one --configfile / --config convention of the command-line tools (ptb-status,
compare-reference): snakemake's own. Config files are merged in order over workflow_config.yaml,
then `--config KEY=VALUE` overrides, parsed by snakemake's parser, then the result is validated.

A module of its own: snakemake's parser lives in snakemake.cli, which takes about a second to
import, and ptb.core.config is imported by every job.
"""

from __future__ import annotations

import argparse

from snakemake.cli import parse_config

from ptb.core import config as ptb_config


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--configfile",
        "--configfiles",
        nargs="+",
        default=[],
        metavar="FILE",
        help="config files merged in order over workflow_config.yaml, as snakemake --configfile",
    )
    parser.add_argument(
        "--config",
        "-C",
        nargs="*",
        default=[],
        metavar="KEY=VALUE",
        help="overrides, as snakemake --config (e.g. results_dir=results/demo 'select={agents: [noop]}')",
    )


def parse_overrides(items: list[str]) -> dict:
    """KEY=VALUE items as `snakemake --config` parses them."""
    try:
        return parse_config(items)
    except ValueError as error:
        raise ptb_config.ConfigError(f"--config: {error}") from None


def load(args: argparse.Namespace) -> dict:
    """The config `snakemake --configfile ... --config ...` would run with (ConfigError if bad)."""
    return ptb_config.load(args.configfile, parse_overrides(args.config))
