"""PostTrainBench as a Snakemake workflow: the library the rules' scripts use.

One package per stage of the workflow (rules/<stage>.smk -> scripts/<stage>.py -> ptb/<package>),
around a core every stage shares. A package imports only core and the packages listed before
it, never one after it (tests/test_layout.py holds the library to that):

    core         the config, the grid, results paths, task folders, protocols, chat templates
    inputs       images, model and dataset caches, the demo's models   (rules/containers, cache)
    agent_runs   the agent's job dir, its run under a budget, its trace (rules/agent)
    judge        the verdict on a finished run                          (rules/judge)
    evaluation   scoring a model on a benchmark with inspect            (rules/evaluate, profiling)
    leaderboard  the table and charts over every cell                   (rules/leaderboard)
    audit        the agent and cell pages behind the leaderboard        (rules/leaderboard)
    tools        the command-line tools (ptb-status, new-task, validate-task, ...)
"""
