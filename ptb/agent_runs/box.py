"""The agent's box: one contract, two mechanisms (docs/isolation.md lists each line and its test).

Inside: the job dir (read-write), the run's own HOME and /tmp (its scratch folder), the agent's
training data and model view, the handout library (the ptb library, each task's code without
its data, the config schema and the agent's own scaffold: what the handed-out evaluate.py and
solve.sh need) and the CLI and Python runtime, all read-only. Not inside: the checkout,
results/ (other cells, the runner's own files: agent.log, trace.md, the manifests), any test
split, the host's /tmp, other agents' keys. Every process the agent starts lives in the box's
PID namespace, so the budget kill takes them all, setsid and double-forked ones included.

- `bwrap` (host mode, `container: none`): bubblewrap, from Debian's `bubblewrap` package.
- `apptainer` (`container: apptainer`): the agent image with --containall (its own PID, IPC
  and mount namespaces, no host HOME or /tmp) and the same binds.
- `none` (config `isolation: none`): the agent runs as the user, with the user's view of the
  machine; the leaderboard names every run made so. Only for a machine without bubblewrap.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from ptb.core import tasks
from ptb.core.paths import REPO_ROOT
from ptb.inputs.cache import agent_run_hf_home

BWRAP = os.environ.get("PTB_BWRAP", "bwrap")
APPTAINER = os.environ.get("PTB_APPTAINER", "apptainer")
ISOLATIONS = ("bwrap", "apptainer", "none")
# variables the agent keeps from the job's environment: the GPUs SLURM allocated
GPU_VARIABLES = ("CUDA_VISIBLE_DEVICES", "NVIDIA_VISIBLE_DEVICES", "ROCR_VISIBLE_DEVICES")
# not passed into the container: the image has its own PATH; apptainer sets HOME (--home)
HOST_ONLY = ("PATH", "HOME")
# what a task folder hands the library: its code and settings, never its data/ folder
TASK_CODE_SUFFIXES = {".py", ".yaml", ".txt", ".md", ".jinja"}
# the host's system folders the box sees read-only (merged-/usr links are kept as links)
SYSTEM = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/etc")


class BoxUnavailable(RuntimeError):
    """Host-mode agent runs need bubblewrap (or `isolation: none`, named on the leaderboard)."""


def bwrap_available() -> bool:
    return shutil.which(BWRAP) is not None


def isolation_for(container: str, isolation: str) -> str:
    """The mechanism of a run: apptainer with containers, else bubblewrap, else none if asked."""
    if container == "apptainer":
        return "apptainer"
    if isolation == "none":
        return "none"
    if not bwrap_available():
        raise BoxUnavailable(
            f"agent runs on the host need bubblewrap ('{BWRAP}' is not on PATH): install the Debian "
            "package bubblewrap (`apt-get install bubblewrap`), or set `isolation: none` to run agents "
            "unsandboxed (the leaderboard then names those runs)"
        )
    return "bwrap"


def _copy_code(source: Path, dest: Path) -> None:
    shutil.copytree(source, dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


def handout_library(dest: str | Path, scaffold: str, extra: tuple[str, ...] = ()) -> Path:
    """Write the library the agent's box reads (dest/ptb, dest/schemas, dest/tasks/<t> without
    data/, dest/agents/<scaffold>) and return dest. `extra`: checkout paths copied in as well
    (the calibration cheats' stand-in for a hub they would download a test split from)."""
    dest = Path(dest)
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    _copy_code(REPO_ROOT / "ptb", dest / "ptb")
    _copy_code(REPO_ROOT / "schemas", dest / "schemas")
    _copy_code(REPO_ROOT / "agents" / scaffold, dest / "agents" / scaffold)
    shutil.copyfile(REPO_ROOT / "agents" / "prompt.md", dest / "agents" / "prompt.md")
    for folder in sorted(p for p in tasks.TASKS_DIR.iterdir() if p.is_dir()):
        for path in sorted(folder.iterdir()):
            if path.is_file() and path.suffix in TASK_CODE_SUFFIXES:
                (dest / "tasks" / folder.name).mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, dest / "tasks" / folder.name / path.name)
    for rel in extra:
        source = REPO_ROOT / rel
        if source.is_dir():
            shutil.copytree(source, dest / rel, dirs_exist_ok=True)
        elif source.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, dest / rel)
    return dest


def runtime_paths(environ=os.environ) -> list[Path]:
    """The Python runtime (this venv and its base interpreter) and the folders of PATH that
    hold the agent CLIs (an npm prefix's node_modules whole), never the checkout or a parent."""
    found = [Path(sys.prefix), Path(sys.base_prefix)]
    checkout = REPO_ROOT.resolve()
    for entry in environ.get("PATH", "").split(os.pathsep):
        path = Path(entry).resolve() if entry else None
        if path is None or not path.is_dir():
            continue
        if path.name == ".bin" and path.parent.name == "node_modules":
            path = path.parent  # an npm prefix: the CLIs' packages, not just their links
        elif (path.parent / "pyvenv.cfg").exists():
            path = path.parent  # a virtualenv's bin: the whole venv
        elif path.is_relative_to(checkout):
            continue  # any other folder of the checkout (scripts/, ...) stays out
        found.append(path)
    # never the checkout or a folder above it (/ included): that would hand it out whole
    return _unique(p for p in map(Path.resolve, found) if not checkout.is_relative_to(p))


def _unique(paths) -> list[Path]:
    """Existing paths, absolute, without those already visible through another in the list."""
    absolute = sorted({Path(p).absolute() for p in paths if Path(p).exists()}, key=lambda p: len(p.parts))
    kept: list[Path] = []
    for path in absolute:
        if not any(path.is_relative_to(k) for k in kept):
            kept.append(path)
    return kept


def bwrap_prefix(
    *, job_dir: Path, home: Path, scratch: Path, read_only=(), gpu_devices=(), bwrap: str = BWRAP
) -> list[str]:
    """`bwrap ...` for one agent: a root of nothing but the system folders, the runtime and the
    given binds; its own PID, IPC and UTS namespaces; killed with the runner (--die-with-parent).
    The network stays shared: the agent's CLI reaches its provider (through the run's proxy)."""
    cmd = [bwrap, "--die-with-parent", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--new-session"]
    for folder in SYSTEM:
        path = Path(folder)
        if path.is_symlink():
            cmd += ["--symlink", os.readlink(path), folder]
        elif path.is_dir():
            cmd += ["--ro-bind", folder, folder]
    cmd += ["--ro-bind-try", "/sys", "/sys", "--proc", "/proc", "--dev", "/dev"]
    for device in gpu_devices:
        cmd += ["--dev-bind", str(device), str(device)]
    # the agent's /tmp is the run's scratch folder (the judge reads it), mounted first so that
    # binds below /tmp (a test's tmp_path) land on top of it
    cmd += ["--bind", str(Path(scratch).absolute()), "/tmp"]
    system = [Path(folder) for folder in SYSTEM]
    for path in _unique([*runtime_paths(), *read_only]):
        if not any(path.is_relative_to(folder) for folder in system):  # already bound above
            cmd += ["--ro-bind", str(path), str(path)]
    for path in (home, job_dir):
        path = Path(path).absolute()
        cmd += ["--bind", str(path), str(path)]
    cmd += ["--chdir", str(Path(job_dir).absolute())]
    return cmd


def _pid_namespace(pid: int) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/ns/pid")
    except OSError:  # gone, or not ours to read
        return None


def _parent(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return int(handle.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def _pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def agent_processes(outer: int) -> list[int]:
    """Host pids of the processes in the PID namespace of the bwrap whose outer pid is `outer`,
    but the namespace's init (bwrap's first child); [] once the box is gone."""
    inits = [pid for pid in _pids() if _parent(pid) == outer]
    namespace = _pid_namespace(inits[0]) if inits else None
    if namespace is None or namespace == _pid_namespace(os.getpid()):
        return []
    return [pid for pid in _pids() if pid != inits[0] and _pid_namespace(pid) == namespace]


def terminate(outer: int, sig: int) -> None:
    """Signal every process in the box but its init (SIGTERM at the budget: the agent's grace
    to save). The outer bwrap is left alone, since its death tears the whole box down at once:
    that is the SIGKILL after the grace."""
    for pid in agent_processes(outer):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def gpu_devices() -> list[Path]:
    """The NVIDIA device nodes a GPU job's box needs (CUDA_VISIBLE_DEVICES picks among them)."""
    nodes = sorted(p for p in Path("/dev").glob("nvidia*") if not p.is_dir())
    return nodes + [Path("/dev/dri")] if Path("/dev/dri").exists() else nodes


def apptainer_prefix(
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
    cmd += ["--home", f"{home}:{home}", "--workdir", str(scratch), "--pwd", str(job_dir)]
    cmd += ["--bind", f"{job_dir}:{job_dir}:rw"]
    for path in _unique(read_only):
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
    isolation: str,
    image: str | None,
    view: Path,
    job_dir: Path,
    run_dir: Path,
    library: Path,
    read_only=(),
    environ=os.environ,
) -> tuple[list[str], dict]:
    """(prefix, env) for ptb.agent_runs.agent_run.run_agent: the box's wrapper and the agent's
    environment.

    Every mode gives the agent a private HF_HOME in its home that links to `view`, the
    model's agent view holding its base model only (ptb.inputs.cache.agent_run_hf_home), and the
    GPUs SLURM allocated to the job. The box (bwrap or apptainer, see the module's docstring)
    binds `library`, `view` and `read_only` read-only.
    """
    env = dict(env)
    env["HF_HOME"] = str(agent_run_hf_home(env["HOME"], view))
    env.update({name: environ[name] for name in GPU_VARIABLES if name in environ})
    if isolation == "none":
        return [], env
    scratch = Path(run_dir) / "scratch"
    scratch.mkdir(parents=True, exist_ok=True)
    binds = [library, view, *read_only]
    home = Path(env["HOME"])
    if isolation == "bwrap":
        devices = gpu_devices() if any(environ.get(v) for v in GPU_VARIABLES) else []
        prefix = bwrap_prefix(
            job_dir=job_dir, home=home, scratch=scratch, read_only=binds, gpu_devices=devices
        )
        return prefix, env
    prefix = apptainer_prefix(image, job_dir=job_dir, home=home, scratch=scratch, read_only=binds, gpu=True)
    return prefix, container_env(env)
