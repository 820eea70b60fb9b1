"""One agent run per cell (rules/agent.smk): the GPU-hours of a sweep.

Takes: a cell's config, the model and dataset caches, the agent's scaffold (agents/<name>/).
Gives: the run dir: the job dir handed out and given back (jobdir), final_model/, the raw
trace and its readable trace.md (traces), the machine's use during the run (monitor),
agent.json with the outcome class and manifest.json (agent_run).
"""
