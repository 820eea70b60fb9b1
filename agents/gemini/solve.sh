#!/usr/bin/env bash
# Gemini CLI, headless: one prompt, every tool call auto-approved (--yolo; the cell's
# container is the sandbox), its stream-json events on stdout for ptb.agent_runs.traces.
# PTB_AGENT_EFFORT is not used: the CLI has no reasoning-effort flag.
set -euo pipefail
if ! command -v gemini >/dev/null 2>&1; then
  echo "agents/gemini: the Gemini CLI ('gemini') is not on PATH" >&2
  exit 127
fi
: "${PTB_PROMPT_FILE:?agents/gemini: PTB_PROMPT_FILE is not set}"
: "${PTB_AGENT_LLM:?agents/gemini: PTB_AGENT_LLM is not set}"
# The job dir is a new folder: untrusted folders reset --yolo to the default approval mode.
export GEMINI_CLI_TRUST_WORKSPACE=true
# PostTrainBench's setting: no sandbox of the CLI's own (the cell's box is the sandbox)
export GEMINI_SANDBOX=false
# The auth type is chosen here, not from the environment: with GOOGLE_GEMINI_BASE_URL set the
# CLI picks the "gateway" auth type, which its headless start then rejects ("Invalid auth
# method selected", exit 41). gemini-api-key with the base URL in the environment works.
# No usage statistics or update checks: they would call Google from the cell.
mkdir -p "$HOME/.gemini"
cat >"$HOME/.gemini/settings.json" <<'JSON'
{
  "security": {"auth": {"selectedType": "gemini-api-key"}},
  "privacy": {"usageStatisticsEnabled": false},
  "general": {"enableAutoUpdate": false, "enableAutoUpdateNotification": false}
}
JSON
if [[ -n "${PTB_AGENT_BASE_URL:-}" ]]; then
  export GOOGLE_GEMINI_BASE_URL="$PTB_AGENT_BASE_URL"
fi
exec gemini --output-format stream-json --model "$PTB_AGENT_LLM" --yolo \
  --prompt "$(<"$PTB_PROMPT_FILE")"
