"""Rule audit_agent: write one agent's audit page from its cells' summaries."""

from ptb.audit import pages
from ptb.core.smk import logged

with logged(snakemake) as log:
    inp, out, params = snakemake.input, snakemake.output, snakemake.params
    pages.write_agent(
        snakemake.wildcards.agent,
        params.display_name,
        params.benchmarks,
        list(inp.summaries),
        list(params.cell_pages),
        params.published_page,
        params.leaderboard,
        build_page=out.page,
    )
    log.info("agent page %s: %d cells", params.published_page, len(inp.summaries))
