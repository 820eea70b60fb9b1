"""Path patterns of the results tree, shared by the rules and the scripts.

Each pattern is filled with str.format (scripts) or used with wildcards (rules).
"""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

RUN = "{results}/runs/{agent}/{model}/{benchmark}/seed{seed}"
RUN_LOCK = RUN + ".lock"  # held by the live agent run of the cell (ptb.agent_run.cell_lock)
AGENT_JSON = RUN + "/agent.json"
MANIFEST = RUN + "/manifest.json"
HANDOUT = RUN + "/handout.json"
JOB_DIR = RUN + "/job"
FINAL_MODEL = JOB_DIR + "/final_model"
AGENT_HOME = RUN + "/home"  # the agent's HOME (with its HF_HOME and other caches)
AGENT_SCRATCH = RUN + "/scratch"  # the agent's /tmp in a container
VERDICT = "{results}/judge/{agent}/{model}/{benchmark}/seed{seed}/verdict.json"
EVAL_DIR = "{results}/eval/{agent}/{model}/{benchmark}/seed{seed}"
METRICS = EVAL_DIR + "/metrics.json"
EVAL_LOGS = EVAL_DIR + "/logs"
BASELINE_DIR = "{results}/baselines/{model}/{variant}/{benchmark}"
BASELINE_METRICS = BASELINE_DIR + "/metrics.json"
BASELINE_LOGS = BASELINE_DIR + "/logs"
MODEL_CACHE = "{results}/cache/models/{model}/{variant}"
MODEL_MANIFEST = MODEL_CACHE + ".json"
DATASET_DIR = "{results}/cache/datasets/{benchmark}"
DATASET_MANIFEST = DATASET_DIR + "/dataset.json"
AGENT_VIEW = "{results}/cache/agent_view/{benchmark}"
# vLLM's torch.compile cache, shared by every evaluation: a fine-tuned model has its base's
# architecture, so after the first evaluation of a base model the others start faster
VLLM_CACHE = "{results}/cache/vllm"
INSPECT_DATA = "{results}/cache/inspect"  # inspect's traces of the evaluation jobs
IMAGE_DIGEST = "{results}/containers/{image}.json"  # an input of every job that uses the image
PROFILE_DIR = "{results}/profiling/{benchmark}"  # reward profiling (ptb.profiling)
PROFILE_JSON = PROFILE_DIR + "/profile.json"
PROFILE_MD = PROFILE_DIR + "/profile.md"
PROFILE_SAMPLES = PROFILE_DIR + "/{model}/{variant}/samples.json"
PROFILE_LOGS = PROFILE_DIR + "/{model}/{variant}/logs"
CALIBRATION_CSV = "{results}/judge/calibration.csv"
LEADERBOARD_DIR = "{results}/leaderboard"
CHARTS = ("ranking", "heatmap", "time", "outcomes")  # LEADERBOARD_DIR/charts/<name>.{html,svg,png}
LOGS = "{results}/logs"


def fill(pattern: str, results: str, **fields) -> str:
    return pattern.format(results=results, **fields)
