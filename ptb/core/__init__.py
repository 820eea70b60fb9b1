"""What every stage shares: the config and its one loader, the grid, the results tree's paths,
atomic file io, outcome names, provenance and code hashes, infrastructure faults, redaction of
secrets, and what a score means: the task folders (tasks), the evaluation protocols (protocol)
and the chat templates each protocol pins (chat_templates, templates/, reference/).

Takes: the config files and the repository's tasks/. Gives: plain values (cells, paths, specs)
to every other package. Imports no other package of ptb.
"""
