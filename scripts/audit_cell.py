"""Rule audit_cell: write one cell's audit page and the summary its agent's page reads."""

from ptb.audit import pages
from ptb.core.smk import logged

with logged(snakemake) as log:
    inp, out, params, w = snakemake.input, snakemake.output, snakemake.params, snakemake.wildcards
    record = {
        "agent": w.agent,
        "model": w.model,
        "benchmark": w.benchmark,
        "seed": int(w.seed),
        **{k: params[k] for k in ("agent_json", "manifest", "handout", "served")},
        **{k: inp[k] for k in ("verdict", "metrics")},
    }
    facts = pages.write_cell(
        record,
        inp.base_metrics,
        params.published_page,
        out.summary,
        params.leaderboard,
        params.agent_page,
        build_page=out.page,
    )
    log.info("cell page %s: %s", params.published_page, facts["outcome"])
