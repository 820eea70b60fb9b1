"""The command-line tools around the workflow (console scripts in pyproject.toml).

ptb-status (status: where each cell stands), new-task / new-agent (skeleton, from skeletons/),
validate-task (validate_task: a task folder checked before a sweep uses it), compare-reference
(reproduce: a run against PostTrainBench's published numbers); cli_config is their one way to
read --config overrides. Tools may import every other package; none imports a tool.
"""
