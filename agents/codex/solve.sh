#!/usr/bin/env bash
# Codex CLI, headless: one prompt, no approvals and no inner sandbox (the cell's
# container is the sandbox), its JSONL event stream on stdout for ptb.agent_runs.traces.
set -euo pipefail
if ! command -v codex >/dev/null 2>&1; then
  echo "agents/codex: the Codex CLI ('codex') is not on PATH" >&2
  exit 127
fi
: "${PTB_PROMPT_FILE:?agents/codex: PTB_PROMPT_FILE is not set}"
: "${PTB_AGENT_LLM:?agents/codex: PTB_AGENT_LLM is not set}"
# codex exec reads its API key from CODEX_API_KEY; the config hands out OPENAI_API_KEY
if [[ -z "${CODEX_API_KEY:-}" && -n "${OPENAI_API_KEY:-}" ]]; then
  export CODEX_API_KEY="$OPENAI_API_KEY"
fi
args=(exec --json --model "$PTB_AGENT_LLM" --dangerously-bypass-approvals-and-sandbox --skip-git-repo-check)
if [[ -n "${PTB_AGENT_BASE_URL:-}" ]]; then
  # a custom provider: the built-in one first tries a Responses websocket (7 attempts) and
  # ignores --disable responses_websockets; supports_websockets=false goes straight to HTTP
  args+=(-c model_provider=ptb
    -c "model_providers.ptb={name=\"ptb\", base_url=\"$PTB_AGENT_BASE_URL\", env_key=\"OPENAI_API_KEY\", wire_api=\"responses\", supports_websockets=false}")
fi
if [[ -n "${PTB_AGENT_EFFORT:-}" ]]; then
  args+=(-c "model_reasoning_effort=$PTB_AGENT_EFFORT")
fi
# The job dir is not a git repository, hence --skip-git-repo-check.
exec codex "${args[@]}" "$(<"$PTB_PROMPT_FILE")"
