#!/usr/bin/env bash
# OpenCode, headless: one prompt, its JSON events on stdout for ptb.agent_runs.traces.
# PTB_AGENT_LLM is provider/model (e.g. anthropic/claude-sonnet-4-6).
set -euo pipefail
if ! command -v opencode >/dev/null 2>&1; then
  echo "agents/opencode: the OpenCode CLI ('opencode') is not on PATH" >&2
  exit 127
fi
: "${PTB_PROMPT_FILE:?agents/opencode: PTB_PROMPT_FILE is not set}"
: "${PTB_AGENT_LLM:?agents/opencode: PTB_AGENT_LLM is not set}"
# Nobody can answer a permission prompt in a headless run: allow every action (the
# cell's container is the sandbox), including reading the base model outside the job dir.
export OPENCODE_PERMISSION='{"*":"allow"}'
# No catalogue download from models.dev at start (a cell may have no internet; OpenCode then
# fails with "UnknownError"): the provider and model come from the config below.
export OPENCODE_DISABLE_MODELS_FETCH=1 OPENCODE_DISABLE_AUTOUPDATE=1 OPENCODE_DISABLE_SHARE=1
# The model is declared in the inline config, so it resolves without the catalogue; with a
# base URL (a gateway, or the test server) the provider's requests go there.
OPENCODE_CONFIG_CONTENT=$(python3 -c '
import json, os
provider, _, model = os.environ["PTB_AGENT_LLM"].partition("/")
options = {"baseURL": os.environ["PTB_AGENT_BASE_URL"]} if os.environ.get("PTB_AGENT_BASE_URL") else {}
# the key, named as PostTrainBench does ({env:<PROVIDER>_API_KEY}), else the one *_API_KEY given:
# a custom provider (not one the AI SDK knows) otherwise sends no Authorization header at all
named = provider.upper().replace("-", "_") + "_API_KEY"
given = sorted(name for name, value in os.environ.items() if name.endswith("_API_KEY") and value)
if named in given or len(given) == 1:
    options["apiKey"] = "{env:%s}" % (named if named in given else given[0])
config = {"provider": {provider: {"options": options, "models": {model: {}}}}, "autoupdate": False}
config["small_model"] = os.environ["PTB_AGENT_LLM"]  # titles too: else a second model (haiku) is billed
print(json.dumps(config))
')
export OPENCODE_CONFIG_CONTENT
args=(run --format json --model "$PTB_AGENT_LLM")
if [[ -n "${PTB_AGENT_EFFORT:-}" ]]; then
  args+=(--variant "$PTB_AGENT_EFFORT")  # the model's reasoning-effort variant (high, max, ...)
fi
# The prompt goes on stdin: `opencode run` quotes a message argument that holds a space
# (wrapping it in "..." and escaping its quotes), so an argument would not arrive verbatim.
exec opencode "${args[@]}" <"$PTB_PROMPT_FILE"
