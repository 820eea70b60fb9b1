"""Scoring a model on a benchmark with inspect-ai (rules/evaluate.smk, rules/profiling.smk).

Takes: a model folder (an agent's final_model or a cached base/instruct model), a benchmark's
dataset cache and task folder, the protocol. Gives: metrics.json with the score, its stderr and
sample counts, beside inspect's .eval logs (evaluation, kept by content in eval_store). Also
here: the tasks' shared building blocks (task_builder, answers, sampling, repetition, sandbox),
the one caller of inspect's eval (inspect_runner), scripted models for offline tests
(scripted_model), the agent-facing evaluate.py (agent_eval) and reward profiling (profiling).
"""
