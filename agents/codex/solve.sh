#!/usr/bin/env bash
# Codex CLI, headless: one prompt, no approvals and no inner sandbox (the cell's
# container is the sandbox), its JSONL event stream on stdout for ptb.agent_runs.traces.
# At parity with PostTrainBench's agents/codex*/solve.sh (agents/README.md: what differs).
# Options (the entry's `options:`): reprompt (default false, as PostTrainBench's `codex`; its
# *_reprompt variants: true) resumes the session while more than reprompt_min_minutes (30) remain.
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
# PostTrainBench's flags: live web search, detailed reasoning summaries in the trace
config=(-c model_reasoning_summary=detailed
  # a command left running may be waited on for 10 hours (default 5 minutes per wait), as
  # Claude's BASH_MAX_TIMEOUT_MS: a training is not abandoned for want of a longer wait
  -c background_terminal_max_timeout=36000000)
if [[ -n "${PTB_AGENT_BASE_URL:-}" ]]; then
  # a custom provider: the built-in one first tries a Responses websocket (7 attempts) and
  # ignores --disable responses_websockets; supports_websockets=false goes straight to HTTP
  config+=(-c model_provider=ptb
    -c "model_providers.ptb={name=\"ptb\", base_url=\"$PTB_AGENT_BASE_URL\", env_key=\"CODEX_API_KEY\", wire_api=\"responses\", supports_websockets=false}")
fi
if [[ -n "${PTB_AGENT_EFFORT:-}" ]]; then
  config+=(-c "model_reasoning_effort=$PTB_AGENT_EFFORT")
fi
read -r reprompt min_minutes < <(python3 -c '
import json, os
options = json.loads(os.environ.get("PTB_AGENT_OPTIONS") or "{}")
print(str(bool(options.get("reprompt", False))).lower(), int(options.get("reprompt_min_minutes", 30)))
')
# The job dir is not a git repository, hence --skip-git-repo-check.
flags=(--json --model "$PTB_AGENT_LLM" --dangerously-bypass-approvals-and-sandbox --skip-git-repo-check "${config[@]}")
if [[ "$reprompt" != true ]]; then
  exec codex --search exec "${flags[@]}" "$(<"$PTB_PROMPT_FILE")"
fi
codex --search exec "${flags[@]}" "$(<"$PTB_PROMPT_FILE")"
# PostTrainBench's re-prompt loop: while more than min_minutes remain, resume the session
while :; do
  left=$(( PTB_DEADLINE - $(date +%s) ))
  (( left / 60 >= min_minutes )) || break
  hours=$(( left / 3600 )) minutes=$(( left % 3600 / 60 ))
  codex --search exec resume --last "${flags[@]}" \
    "You still have ${hours}h ${minutes}m remaining. Please continue improving your result and maximize performance."
done
