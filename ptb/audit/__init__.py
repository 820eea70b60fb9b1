"""Static audit pages for a sweep: leaderboard -> agent page -> cell page -> raw evidence.

html: the page shell (strict CSP, no script), escaping and link checks; evallog: per-sample
results of an inspect .eval log; findings: the judge's verdict; trace_view: the agent's
trace; pages: the cell and agent pages (rules/leaderboard.smk writes them, one job each).

Takes: the leaderboard, each cell's results and the runner-side trace. Gives: one page per
agent and per cell, with the evidence they link.
"""
