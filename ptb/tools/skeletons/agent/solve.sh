#!/usr/bin/env bash
# {{name}}: TODO one line on the CLI this scaffold drives (scaffolded by `new-agent {{name}}`).
# Headless: one prompt, every tool allowed (the cell's container is the sandbox), a JSON event
# stream (one object per line) on stdout for the trace parser in agents/{{name}}/trace.py.
# The contract (environment, final_model/, budget) is in agents/README.md.
set -euo pipefail
CLI={{cli}}                      # TODO the CLI's executable
if ! command -v "$CLI" >/dev/null 2>&1; then
  echo "agents/{{name}}: the CLI ('$CLI') is not on PATH" >&2
  exit 127
fi
: "${PTB_PROMPT_FILE:?agents/{{name}}: PTB_PROMPT_FILE is not set}"
: "${PTB_AGENT_LLM:?agents/{{name}}: PTB_AGENT_LLM is not set}"
effort=()
if [[ -n "${PTB_AGENT_EFFORT:-}" ]]; then
  effort=(--effort "$PTB_AGENT_EFFORT")   # TODO the CLI's flag for reasoning effort, if any
fi
# The prompt goes as one argument: the runner gives the agent no stdin.
# TODO the CLI's flags for a non-interactive run with JSON output and no permission prompts.
exec "$CLI" run --output-format stream-json --model "$PTB_AGENT_LLM" "${effort[@]}" \
  "$(<"$PTB_PROMPT_FILE")"
