#!/usr/bin/env python3
"""Evaluate a model on AIME 2025 as the workflow does.

    python evaluate.py --model-path final_model --limit 50 --json-output-file eval.json

Run with --help for the options. The task, data, chat template and scoring come from the
workflow's ptb library (ptb/evaluation/agent_eval.py), not from the files next to this script.
"""

import sys
from pathlib import Path

# import ptb only from the installed library, never from this script's folder
HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]

from ptb.evaluation.agent_eval import script  # noqa: E402

if __name__ == "__main__":
    script("aime2025")
