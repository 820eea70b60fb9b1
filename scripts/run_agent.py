"""Rule agent_run: hand out the job dir, run the agent under its budget, write agent.json + manifest."""

import json
import time
from pathlib import Path

from ptb import agent_run, containers, io, jobdir, provenance, redaction
from ptb.config import cell_config
from ptb.grid import Cell
from ptb.smk import logged

config, w = snakemake.config, snakemake.wildcards
cell = Cell(w.agent, w.model, w.benchmark, int(w.seed))
agent, model = config["agents"][cell.agent], config["models"][cell.model]
run_dir = Path(snakemake.output.agent).parent
job_dir = run_dir / "job"

with logged(snakemake) as log:
    base = io.read_json(snakemake.input.base)
    budget_s = config["budget"]["hours"] * 3600
    deadline = int(time.time() + budget_s)
    if job_dir.exists():
        jobdir.allow_cleanup(job_dir)
    prompt = jobdir.render_prompt(
        model_id=model["base"].get("hf_id", cell.model),
        family=model["family"],
        benchmark=cell.benchmark,
        hours=config["budget"]["hours"],
        base_model_path=base["path"],
        gpu_info=f"{snakemake.resources.gpu} GPU(s)" if snakemake.resources.gpu else "CPU only (no GPU)",
    )
    handout = jobdir.prepare(
        job_dir, benchmark=cell.benchmark, family=model["family"], prompt=prompt, deadline=deadline
    )
    io.write_json(snakemake.output.handout, handout)
    env = agent_run.agent_environment(
        agent,
        {
            "PTB_PROMPT_FILE": job_dir / "prompt.md",
            "PTB_BASE_MODEL": base["path"],
            "PTB_MODEL": cell.model,
            "PTB_BENCHMARK": cell.benchmark,
            "PTB_AGENT_LLM": agent.get("llm") or "",
            "PTB_AGENT_EFFORT": agent.get("effort") or "",
            "PTB_AGENT_OPTIONS": json.dumps(agent.get("options", {})),
            "PTB_AGENT_CACHE": Path(snakemake.input.view).resolve().parent,
            "PTB_DEADLINE": deadline,
            "PTB_SEED": cell.seed,
        },
        home=run_dir / "home",
    )
    # the agent's HF_HOME (its base model only), its GPUs, and with containers the apptainer wrapper
    container, env = containers.agent_command(
        config,
        env,
        model=cell.model,
        job_dir=job_dir,
        run_dir=run_dir,
        read_only=[base["path"], env["PTB_AGENT_CACHE"]],
    )
    log.info("running agent %s on %s (budget %.0f s)", cell.agent, cell.key, budget_s)
    result = agent_run.run_agent(
        scaffold=agent["scaffold"],
        job_dir=job_dir,
        run_dir=run_dir,
        env=env,
        budget_s=budget_s,
        grace_s=config["budget"]["grace_seconds"],
        secrets=redaction.known_secrets(redaction.secret_names(config["agents"])),
        container=container,
    )
    result["final_model"] = str(job_dir / "final_model") if result["has_model"] else None
    log.info("outcome: %s", agent_run.describe(result))
    manifest = {
        "cell": cell.as_dict(),
        "config": cell_config(config, cell),
        "software": provenance.software(),
        "images": containers.recorded_digests(config, ("agent",)),  # the image solve.sh ran in
        "base_model": {k: base.get(k) for k in ("source", "hf_id", "revision", "files")},
        "prompt_sha256": handout["prompt.md"],
        "handout": handout,
        "final_model_files": io.hash_tree(job_dir / "final_model"),
        "outcome": result["outcome"],
        "started_deadline": deadline,
    }
    io.write_json(snakemake.output.manifest, manifest)
    io.write_json(snakemake.output.agent, result)
