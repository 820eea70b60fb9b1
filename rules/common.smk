# Config validation, the grid, and helpers shared by every rule file.
from ptb import cache as ptb_cache
from ptb import config as ptb_config
from ptb import containers as ptb_containers
from ptb import grid, paths
from ptb.code_hash import source_hash
from ptb.smk import Untracked

# Fails before any job runs, naming the file and line (YAML errors, duplicated keys), or the
# bad key and what is allowed.
ptb_config.check_files(workflow.configfiles)
ptb_config.validate(config)

RESULTS = config["results_dir"]
CACHE_DIRS = ptb_config.cache_dirs(config)
CONTAINERS = config["container"] == "apptainer"
SELECTION = ptb_config.selection(config)
CELLS = grid.cells(SELECTION)
BASELINES = grid.baselines(SELECTION, ptb_config.instruct_models(config))


wildcard_constraints:
    agent=r"[^/]+",
    model=r"[^/]+",
    benchmark=r"[^/]+",
    seed=r"\d+",
    variant=r"base|instruct",


def pattern(template):
    """A results path pattern with the results dir filled in and the wildcards left open."""
    return template.replace("{results}", RESULTS)


def log_path(stage, template):
    return f"{RESULTS}/logs/{stage}/{template}.log"


def benchmark_path(stage, template):
    """A job's snakemake benchmark file (named as its log): ptb.job_times reads them."""
    return pattern(paths.job_benchmark(stage, template))


# the placement keys of a stage that snakemake-executor-plugin-slurm reads (2.8: gpu_model
# with gpu as --gpus=<model>:<n>, slurm_partition -p, qos --qos, constraint -C, slurm_extra
# appended); unset (null) ones are left out, so the profile's default-resources apply
PLACEMENT_KEYS = ("gpu_model", "slurm_partition", "slurm_extra", "qos", "constraint")


def resources_for(stage):
    """A stage's resources section, schema defaults filled in (profiling uses evaluate's)."""
    return config["resources"][stage]


def stage_resources(stage, runtime=None):
    """The `resources:` of a stage's jobs: gpu, mem_mb, runtime (minutes; `runtime` where the
    stage derives its own: agent runs from the budget) and the placement keys that are set.
    """
    own = resources_for(stage)
    chosen = {
        "gpu": own["gpu"],
        "mem_mb": own["mem_mb"],
        "runtime": own["runtime"] if runtime is None else runtime,
    }
    chosen.update({key: own[key] for key in PLACEMENT_KEYS if own[key] is not None})
    return chosen


# Containers (rules/containers.smk builds the images)


def image_input(name, keep=False):
    """The digest json of image `name` as an input, or nothing without containers.

    keep=True: ancient(), so a rebuilt image never re-runs the job (agent runs).
    """
    if not CONTAINERS:
        return []
    path = paths.fill(paths.IMAGE_DIGEST, RESULTS, image=name)
    return ancient(path) if keep else path


def image_for(name):
    """The `container:` directive value for jobs that run in image `name` (None = on the host).

    A function, so that it is evaluated once the run mode is known: a dry run (planning
    only) on a machine without apptainer plans the jobs without their image and says so,
    instead of failing; a real run there fails as it must.
    """
    if not CONTAINERS:
        return None
    image = config["images"][name]

    def container(wildcards):
        if workflow.dryrun and not ptb_containers.runtime_available():
            ptb_containers.warn_no_runtime_once()
            return None
        return image

    return container
