# The GPU-bound agent runs. Inputs are ancient() and params Untracked, so only an
# explicit request (--forcerun / -R on a cell) re-runs a finished run.

# every agent's API-key variables: each run redacts them all from its outputs
SECRET_NAMES = sorted(
    {name for entry in config["agents"].values() for name in entry["env"]}
)


rule agent_run:
    input:
        base=ancient(
            paths.fill(paths.MODEL_MANIFEST, RESULTS, model="{model}", variant="base")
        ),
        view=ancient(pattern(paths.AGENT_VIEW)),
        # with containers: the agent image's digest (the runner wraps solve.sh in it;
        # the job itself stays on the host, so no container: here)
        image=image_input("agent", keep=True),
    output:
        agent=pattern(paths.AGENT_JSON),
        manifest=pattern(paths.MANIFEST),
        handout=pattern(paths.HANDOUT),
    log:
        log_path("agent", "{agent}/{model}/{benchmark}/seed{seed}"),
    benchmark:
        benchmark_path("agent", paths.CELL_JOB)
    # an infrastructure failure (the provider's, the GPU's) leaves no agent.json: run it again
    retries: resources_for("agent")["retries"]
    threads: resources_for("agent")["cpus"]
    resources:
        **stage_resources(
            "agent",
            runtime=int(
                config["budget"]["hours"] * 60 + config["budget"]["grace_seconds"] / 60
            )
            + 30,
        ),
    params:
        # Untracked: a config edit never re-runs a finished agent run (ptb/core/smk.py).
        # Everything ptb.agent_runs.agent_run.run_cell reads: the cell's resolved config (agent entry
        # with its llm, effort, base_url, environment; model; budget), every agent's key
        # variables (redacted from all outputs), the agent image and HF_HOME view.
        run=lambda w: Untracked(
            {
                "cell_config": ptb_config.cell_config(
                    config, grid.Cell(w.agent, w.model, w.benchmark, int(w.seed))
                ),
                "secret_names": SECRET_NAMES,
                "image": config["images"]["agent"] if CONTAINERS else None,
                "view": str(
                    ptb_cache.agent_model_view(CACHE_DIRS["agent_hf_home"], w.model)
                ),
            }
        ),
    script:
        "../scripts/agent_run.py"
