"""Apptainer images: their paths, their digests, and the command that runs an agent in one.

With `container: apptainer` (workflow_config.yaml), evaluations run in the eval image
through snakemake (`--sdm apptainer`, rules/evaluate.smk) and an agent run wraps only
`solve.sh` in the agent image (`agent_command`): the runner itself (budget, trace,
redaction, manifest) stays on the host, outside the agent's reach. With `container:
none` (the demo) the agent runs on the host in its job dir.
"""

from __future__ import annotations

import functools
import os
import shutil
import sys
from pathlib import Path

from ptb.core import io
from ptb.core.paths import REPO_ROOT
from ptb.inputs.cache import agent_run_hf_home

IMAGES = ("agent", "eval")
APPTAINER = os.environ.get("PTB_APPTAINER", "apptainer")
# what an agent needs of the repository, read-only: its scaffold, and the library, task files
# and config schema (its evaluation defaults) the handed-out evaluate.py reads (never
# results/, which holds test sets)
REPO_PARTS = ("agents", "ptb", "schemas", "tasks")
# variables the agent keeps from the job's environment: the GPUs SLURM allocated
GPU_VARIABLES = ("CUDA_VISIBLE_DEVICES", "NVIDIA_VISIBLE_DEVICES", "ROCR_VISIBLE_DEVICES")
# not passed into the container: the image has its own PATH; apptainer sets HOME (--home)
HOST_ONLY = ("PATH", "HOME")


@functools.lru_cache(maxsize=None)  # asked once per planned job
def runtime_available() -> bool:
    """Whether snakemake can find a container runtime (it looks for apptainer, then singularity)."""
    return bool(shutil.which("apptainer") or shutil.which("singularity"))


_warned = []


def warn_no_runtime_once() -> None:
    if not _warned:
        _warned.append(True)
        print(
            "[containers] dry run: apptainer is not on PATH here; the plan is shown without the "
            "images (a real run needs apptainer)",
            file=sys.stderr,
        )


def image_digest(sif: str | Path, definition: str | Path | None = None) -> dict:
    """sha256 and size of a built image, with the definition it was built from."""
    sif = Path(sif)
    record = {"image": str(sif.absolute()), "sha256": io.sha256_file(sif), "bytes": sif.stat().st_size}
    if definition is not None and Path(definition).exists():
        record.update(definition=str(definition), definition_sha256=io.sha256_file(definition))
    return record


def exec_prefix(
    image: str | Path,
    *,
    job_dir: Path,
    home: Path,
    scratch: Path,
    read_only=(),
    gpu: bool = True,
    apptainer: str = APPTAINER,
) -> list[str]:
    """`apptainer exec` for one agent: a clean environment, nothing of the host but the binds.

    --containall: no host HOME, /tmp, cwd, PID or IPC namespace, and no host variables
    (--cleanenv) except those passed as APPTAINERENV_* (`container_env`). The job dir is
    the only writable bind besides the run's own home and scratch; every path in
    read_only is bound at the same path, read-only.
    """
    job_dir, home, scratch = (Path(p).absolute() for p in (job_dir, home, scratch))
    cmd = [apptainer, "exec", "--cleanenv", "--containall"]
    if gpu:
        cmd.append("--nv")
    cmd += [
        "--home",
        f"{home}:{home}",
        "--workdir",
        str(scratch),
        "--pwd",
        str(job_dir),
        "--bind",
        f"{job_dir}:{job_dir}:rw",
    ]
    bound: list[Path] = []
    for path in read_only:
        path = Path(path).absolute()
        if not path.exists() or any(path.is_relative_to(b) for b in bound):
            continue  # missing, or already visible through a bound parent
        bound.append(path)
        cmd += ["--bind", f"{path}:{path}:ro"]
    cmd.append(str(Path(image).absolute()) if Path(image).exists() else str(image))
    return cmd


def container_env(env: dict) -> dict:
    """The agent's environment as apptainer passes it through --cleanenv (APPTAINERENV_*).

    PATH and HOME stay on the host side (for the apptainer binary and the runner); inside,
    the image's PATH applies and HOME is the --home bind.
    """
    out = {name: env[name] for name in HOST_ONLY if name in env}
    out.update({f"APPTAINERENV_{name}": str(value) for name, value in env.items() if name not in HOST_ONLY})
    return out


def agent_command(
    env: dict,
    *,
    image: str | None,
    view: Path,
    job_dir: Path,
    run_dir: Path,
    read_only=(),
    environ=os.environ,
) -> tuple[list[str], dict]:
    """(prefix, env) for ptb.agent_runs.agent_run.run_agent: the container wrapper and the
    agent's environment.

    Both modes give the agent a private HF_HOME in its home that links to `view`, the
    model's agent view holding its base model only (ptb.inputs.cache.agent_run_hf_home), and the
    GPUs SLURM allocated to the job. With an `image` (None: no containers), the prefix runs
    solve.sh in the agent image (see `exec_prefix`).
    """
    env = dict(env)
    env["HF_HOME"] = str(agent_run_hf_home(env["HOME"], view))
    env.update({name: environ[name] for name in GPU_VARIABLES if name in environ})
    if image is None:
        return [], env
    scratch = Path(run_dir) / "scratch"
    scratch.mkdir(parents=True, exist_ok=True)
    binds = [REPO_ROOT / part for part in REPO_PARTS] + [view, *read_only]
    prefix = exec_prefix(
        image,
        job_dir=job_dir,
        home=Path(env["HOME"]),
        scratch=scratch,
        read_only=binds,
        gpu=True,
    )
    return prefix, container_env(env)
