#!/usr/bin/env bash
# Claude Code, headless: one prompt, every tool allowed (the cell's container is the
# sandbox), its JSON event stream on stdout for the trace parser (ptb.agent_runs.traces).
# At parity with PostTrainBench's agents/claude/solve.sh (agents/README.md: what differs).
set -euo pipefail
if ! command -v claude >/dev/null 2>&1; then
  echo "agents/claude: the Claude Code CLI ('claude') is not on PATH" >&2
  exit 127
fi
: "${PTB_PROMPT_FILE:?agents/claude: PTB_PROMPT_FILE is not set}"
: "${PTB_AGENT_LLM:?agents/claude: PTB_AGENT_LLM is not set}"
if [[ -n "${PTB_AGENT_EFFORT:-}" ]]; then
  export CLAUDE_CODE_EFFORT_LEVEL="$PTB_AGENT_EFFORT"  # low|medium|high|max
fi
if [[ -n "${PTB_AGENT_BASE_URL:-}" ]]; then
  export ANTHROPIC_BASE_URL="$PTB_AGENT_BASE_URL"  # without /v1: the CLI appends /v1/messages
fi
# PostTrainBench's value: a command the model gives a timeout may run 10 hours (the CLI's own
# cap is 10 minutes, 2 hours in the background); an entry's `environment:` may set another
export BASH_MAX_TIMEOUT_MS="${BASH_MAX_TIMEOUT_MS:-36000000}"
# no telemetry, error reporting or update checks from the cell
export CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1
if (( EUID == 0 )); then
  # Claude Code refuses --dangerously-skip-permissions as root unless told it is sandboxed
  export IS_SANDBOX=1
fi
# PostTrainBench's note for this agent (src/eval/general/get_prompt.py), after the prompt
NOTE="You are running in a non-interactive mode. So make sure every process you are running finishes before you write your last message."
# The prompt goes as an argument: the runner gives the agent no stdin.
exec claude --print --output-format stream-json --verbose \
  --model "$PTB_AGENT_LLM" --dangerously-skip-permissions \
  "$(<"$PTB_PROMPT_FILE")"$'\n\n'"$NOTE"
