"""Path patterns of the results tree, shared by the rules and the scripts.

Each pattern is filled with str.format (scripts) or used with wildcards (rules).
"""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

RUN = "{results}/runs/{agent}/{model}/{benchmark}/seed{seed}"
RUN_LOCK = RUN + ".lock"  # held by the live agent run of the cell (ptb.agent_runs.agent_run.cell_lock)
AGENT_JSON = RUN + "/agent.json"
MANIFEST = RUN + "/manifest.json"
HANDOUT = RUN + "/handout.json"
JOB_DIR = RUN + "/job"
FINAL_MODEL = JOB_DIR + "/final_model"
AGENT_HOME = RUN + "/home"  # the agent's HOME (with its HF_HOME and other caches)
AGENT_SCRATCH = RUN + "/scratch"  # the agent's /tmp in a container
# the run's canonical model (ptb.agent_runs.canonical): the judge checks it, every evaluation serves it
SERVED_DIR = "{results}/served/{agent}/{model}/{benchmark}/seed{seed}"
SERVED_JSON = SERVED_DIR + "/model.json"
VERDICT = "{results}/judge/{agent}/{model}/{benchmark}/seed{seed}/verdict.json"
EVAL_DIR = "{results}/eval/{agent}/{model}/{benchmark}/seed{seed}"
METRICS = EVAL_DIR + "/metrics.json"
EVAL_LOGS = EVAL_DIR + "/logs"
BASELINE_DIR = "{results}/baselines/{model}/{variant}/{benchmark}"
BASELINE_METRICS = BASELINE_DIR + "/metrics.json"
BASELINE_LOGS = BASELINE_DIR + "/logs"
MODEL_CACHE = "{results}/cache/models/{model}/{variant}"
MODEL_MANIFEST = MODEL_CACHE + ".json"
# every model manifest the judge compares against, as one file: one input per judge job, not one per model
JUDGED_MODELS_INDEX = "{results}/cache/judged_models.json"
DATASET_DIR = "{results}/cache/datasets/{benchmark}"
DATASET_MANIFEST = DATASET_DIR + "/dataset.json"
AGENT_VIEW = "{results}/cache/agent_view/{benchmark}"
# training items held back from the agent's view: the judge's probe compares test items with them
CONTROLS_DIR = "{results}/cache/controls/{benchmark}"
CONTROLS = CONTROLS_DIR + "/controls.jsonl"
# vLLM's torch.compile cache, shared by every evaluation: a fine-tuned model has its base's
# architecture, so after the first evaluation of a base model the others start faster
VLLM_CACHE = "{results}/cache/vllm"
INSPECT_DATA = "{results}/cache/inspect"  # inspect's traces of the evaluation jobs
IMAGE_DIGEST = "{results}/containers/{image}.json"  # an input of every job that uses the image
PROFILE_DIR = "{results}/profiling/{benchmark}"  # reward profiling (ptb.evaluation.profiling)
PROFILE_JSON = PROFILE_DIR + "/profile.json"
PROFILE_MD = PROFILE_DIR + "/profile.md"
PROFILE_SAMPLES = PROFILE_DIR + "/{model}/{variant}/samples.json"
PROFILE_LOGS = PROFILE_DIR + "/{model}/{variant}/logs"
CALIBRATION_CSV = "{results}/judge/calibration.csv"
LEADERBOARD_DIR = "{results}/leaderboard"
# a sharded sweep (docs/sweeps.md): each shard's own tables; the merged leaderboard reads them
SHARD_DIR = "{results}/shards/{shard}"
SHARD_TABLE = SHARD_DIR + "/leaderboard.csv"
SHARD_CELLS = SHARD_DIR + "/cells.csv"
CHARTS = ("ranking", "heatmap", "time", "outcomes")  # LEADERBOARD_DIR/charts/<name>.{html,svg,png}
LEADERBOARD_HTML = LEADERBOARD_DIR + "/leaderboard.html"
# the audit pages (ptb.audit): one per agent, one per cell with its summary for the agent page
AUDIT_AGENT = LEADERBOARD_DIR + "/agents/{agent}.html"
AUDIT_CELL = LEADERBOARD_DIR + "/cells/{agent}/{model}/{benchmark}/seed{seed}.html"
AUDIT_CELL_SUMMARY = LEADERBOARD_DIR + "/cells/{agent}/{model}/{benchmark}/seed{seed}.json"
# The leaderboard and audit rules declare their outputs here, a mirror of LEADERBOARD_DIR, and
# publish a copy to LEADERBOARD_DIR once every file is written (ptb.leaderboard.publish):
# snakemake deletes a job's outputs before it runs, so a failed rebuild leaves the last good pages.
LEADERBOARD_BUILD_DIR = "{results}/build/leaderboard"
LOGS = "{results}/logs"
EVAL_STORE = "{results}/eval-store"  # evaluations by content: <key>/metrics.json (ptb.evaluation.eval_store)
# snakemake's benchmark: file of each job (wall and CPU time, memory): <stage>/<job>.tsv, the job
# named as its log; ptb.leaderboard.job_times counts GPU-hours from them
BENCHMARKS = "{results}/benchmarks"
CELL_JOB = "{agent}/{model}/{benchmark}/seed{seed}"
BASELINE_JOB = "{model}/{variant}/{benchmark}"


def job_benchmark(stage: str, job: str) -> str:
    return f"{BENCHMARKS}/{stage}/{job}.tsv"


def checkout(start: str | Path | None = None) -> Path:
    """The workflow checkout a command runs in: the nearest folder at or above `start` (default:
    the working directory) with a Snakefile and tasks/; else the one this package was loaded from.
    The CLIs that write or read tasks/ and agents/ (new-task, new-agent, validate-task) act on it."""
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "Snakefile").is_file() and (folder / "tasks").is_dir():
            return folder
    return REPO_ROOT


def fill(pattern: str, results: str, **fields) -> str:
    return pattern.format(results=results, **fields)


def built(pattern: str) -> str:
    """The build copy's pattern of a pattern under LEADERBOARD_DIR."""
    if not pattern.startswith(LEADERBOARD_DIR + "/"):
        raise ValueError(f"{pattern!r} is not under {LEADERBOARD_DIR}")
    return LEADERBOARD_BUILD_DIR + pattern.removeprefix(LEADERBOARD_DIR)
