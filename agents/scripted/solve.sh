#!/usr/bin/env bash
# Offline agent with a scripted behaviour, chosen by the config entry's options
# ({"behavior": ...}): the failure modes the runner must classify, for tests and
# for checking a cluster setup.
#   submit_base  copy the base model to final_model/ (like noop)
#   submit_copy  the same plus a notes file: a model folder of its own (evaluated, not reused
#                from the evaluation store)
#   sleep        save a model, then outlive the budget (-> timeout, model still collected)
#   crash        exit 3 without a model (-> agent_error, log kept)
#   no_model     exit 0 without a model (-> no_model)
#   leak_env     write its environment and its key into files, then submit the base model
#   broken_model submit the base model with a tokenizer class that does not exist (-> eval_error)
#   empty_model  submit a final_model/ of zero-byte files (-> no_model: no loader reads it)
#   link_out     submit final_model/ as a symlink to the base model (-> no_model: not collected)
#   lock_up      leave unreadable files, read-only folders and options.files (default 0) small
#                files behind, then submit the base model
#   orphan       first run: start a background child, record both pids in $HOME, wait forever;
#                a later run of the cell (same HOME) submits the base model
#   call_api     an API agent's calls: options.calls (default 2) Anthropic Messages requests to
#                $PTB_AGENT_BASE_URL (the run's credential proxy) with the key in $PTB_TEST_API_KEY,
#                options.pause seconds apart,
#                then runs options.search (a script in its library, given options.find: the halves
#                of a value the test knows, the real key, which must not be in the box), then
#                submits the base model
set -euo pipefail
behavior=$(python -c 'import json, os; print(json.loads(os.environ["PTB_AGENT_OPTIONS"]).get("behavior", "submit_base"))')
echo "scripted agent: $behavior"
case "$behavior" in
  submit_base) cp -r "$PTB_BASE_MODEL" final_model ;;
  submit_copy) cp -r "$PTB_BASE_MODEL" final_model; echo "trained by nobody" > final_model/NOTES.md ;;
  sleep) cp -r "$PTB_BASE_MODEL" final_model; trap 'echo "got SIGTERM, ignoring it"' TERM; while true; do sleep 1; done ;;
  crash) echo "something went wrong" >&2; exit 3 ;;
  no_model) echo "done, but saved nothing" ;;
  leak_env)
    env > env_dump.txt
    echo "my key is ${PTB_TEST_API_KEY:-unset}" | tee notes.md
    cp -r "$PTB_BASE_MODEL" final_model
    echo "${PTB_TEST_API_KEY:-}" > final_model/key.txt ;;
  broken_model) cp -r "$PTB_BASE_MODEL" final_model; echo '{"tokenizer_class": "NoSuchTokenizer"}' > final_model/tokenizer_config.json ;;
  empty_model) mkdir final_model; : > final_model/config.json; : > final_model/model.safetensors ;;
  link_out) ln -s "$PTB_BASE_MODEL" final_model ;;
  lock_up)
    cp -r "$PTB_BASE_MODEL" final_model
    mkdir -p vault/inner; echo "private notes" > vault/inner/notes.txt; echo "secret" > hidden.txt
    chmod 000 vault/inner/notes.txt hidden.txt; chmod 000 vault/inner; chmod 500 vault
    chmod 400 final_model/config.json
    python -c 'import json, os, pathlib
n = json.loads(os.environ["PTB_AGENT_OPTIONS"]).get("files", 0)
for i in range(n):
    folder = pathlib.Path("scratch_files", f"{i // 1000:03d}")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"f{i}.txt").write_text(f"note {i}: step {i * 7 % 13}\n")' ;;
  orphan)
    if [ -e "$HOME/ran_once" ]; then cp -r "$PTB_BASE_MODEL" final_model; exit 0; fi
    touch "$HOME/ran_once"
    sleep 600 & echo $! > "$HOME/child.pid"
    echo $$ > "$HOME/solve.pid"
    wait ;;
  call_api)
    python - <<'PY'
import json, os, subprocess, sys, time, urllib.error, urllib.request
options = json.loads(os.environ["PTB_AGENT_OPTIONS"])
for i in range(options.get("calls", 2)):
    request = urllib.request.Request(
        os.environ["PTB_AGENT_BASE_URL"] + "/v1/messages",
        data=json.dumps({"model": "claude-x", "max_tokens": 8, "messages": [{"role": "user", "content": "hi"}]}).encode(),
        headers={"x-api-key": os.environ.get("PTB_TEST_API_KEY", ""), "content-type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as reply:
            print("call", i, reply.status, flush=True)
    except urllib.error.HTTPError as error:
        print("call", i, error.code, flush=True)
    time.sleep(options.get("pause", 0))
if options.get("search"):
    subprocess.run([sys.executable, os.path.join(os.environ["PYTHONPATH"], options["search"]), *options["find"]])
print("my token:", os.environ.get("PTB_TEST_API_KEY", "")[:8], flush=True)
PY
    cp -r "$PTB_BASE_MODEL" final_model ;;
  *) echo "unknown behavior $behavior" >&2; exit 2 ;;
esac
