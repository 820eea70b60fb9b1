"""Search an agent's box for secrets: its environment, /proc (every process's environment and
command line) and every file the agent could have written. Run inside the box by the real CLIs
(tests/agents/test_real_clis.py) and the scripted agent's call_api (tests/agent_runs/
test_api_runs.py), handed in with the library (box_read_only).

    python find_key.py HALF1 HALF2 [HALF1 HALF2 ...]

Each secret comes in two halves, joined only in this process's memory, so no argv or file of
the search holds one. Prints `key search: [N]`, N the places holding a secret (0: none).
FIND_KEY_PLACES (':'-separated) replaces the folders searched (default: ., $HOME, /tmp).
"""

import glob
import os
import sys
from pathlib import Path


def read(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError:  # a process that ended mid-search takes its /proc files with it
        return b""


def writable_files(folder: str) -> list[str]:
    """Files below folder, pruning read-only folders (binds of the runtime: a checkout under
    /tmp puts the venv there), which the agent could not have written."""
    found = []
    for root, dirs, files in os.walk(folder):
        if not os.access(root, os.W_OK):
            dirs.clear()
            continue
        found += [os.path.join(root, name) for name in files]
    return found


def main(halves: list[str]) -> int:
    secrets = [(a + b).encode() for a, b in zip(halves[::2], halves[1::2], strict=True)]
    folders = os.environ.get("FIND_KEY_PLACES", f".:{os.environ['HOME']}:/tmp").split(":")
    places = glob.glob("/proc/[0-9]*/environ") + glob.glob("/proc/[0-9]*/cmdline")
    places += [path for folder in folders for path in writable_files(folder)]
    blobs = [read(p) for p in places] + [repr(dict(os.environ)).encode()]
    print(f"key search: [{sum(secret in blob for secret in secrets for blob in blobs)}]", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
