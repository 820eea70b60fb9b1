"""Rule agent_run: hand out the job dir, run the agent under its budget, write agent.json + manifest."""

from ptb.agent_runs import agent_run
from ptb.core.grid import Cell
from ptb.core.smk import logged

w = snakemake.wildcards
with logged(snakemake) as log:
    agent_run.run_cell(
        Cell(w.agent, w.model, w.benchmark, int(w.seed)),
        settings=snakemake.params.run.value,
        base_manifest=snakemake.input.base,
        view=snakemake.input.view,
        image_digest=snakemake.input.get("image"),
        gpus=snakemake.resources.gpu,
        agent_json=snakemake.output.agent,
        manifest_json=snakemake.output.manifest,
        handout_json=snakemake.output.handout,
        log=log,
    )
