"""The leaderboard over every cell (rules/leaderboard.smk).

Takes: each cell's agent.json, verdict.json and metrics.json, the baselines' metrics and the
jobs' benchmark files. Gives: leaderboard.csv/.md/.html with outcome counts (leaderboard),
the altair charts (charts) and GPU-hours per stage and agent (job_times).
"""
