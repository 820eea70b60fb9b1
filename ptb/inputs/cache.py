"""The cache stage: models and datasets at pinned revisions, each with a manifest.

Two Hugging Face caches (config `cache:`):

- `hf_home`, the full cache: every model (base and instruct) and every dataset (test
  sets included). The cache stage, the evaluator and the judge read it.
- `agent_hf_home`, one read-only view per model, `<agent_hf_home>/<model>/hub/`, that
  holds that model's base snapshot and nothing else: no instruct model, no dataset.
  Agents get a private, writable HF_HOME in their run's home whose hub links to it
  (`agent_run_hf_home`), so `from_pretrained("<base id>")` works offline, an instruct
  model or a test set is not on disk, and nothing one run downloads reaches another.

A model manifest records its paths (`path`, `agent_view`, `hub_path`, `hf_cache`) relative to
its own folder (ptb.core.io.record_path: the results move with the checkout); read the model's
folder with model_path().

Production downloads from the hub (huggingface_hub / datasets) at the pinned revision,
once: a snapshot already in the cache is used without asking the hub. The demo builds
its models offline and reads the tasks' local data. Tests inject local sources;
nothing here downloads at test time.
"""

from __future__ import annotations

import json
import os
import random
import shutil
from pathlib import Path

from ptb.core import io, tasks
from ptb.inputs.demo_models import BUILDERS

# -- where the caches are (ptb.core.config.cache_dirs resolves the config's `cache:` paths) ----


def hub_cache(hf_home: str | Path) -> Path:
    """The hub cache inside an HF_HOME (what HF_HUB_CACHE defaults to)."""
    return Path(hf_home) / "hub"


def agent_model_view(agent_hf_home: str | Path, model: str) -> Path:
    """The agent's read-only HF_HOME view for one model: its base snapshot only."""
    return Path(agent_hf_home) / model


def repo_folder(repo_id: str, repo_type: str = "model") -> str:
    """The hub cache's folder name for a repo (models--Org--Name)."""
    return f"{repo_type}s--" + repo_id.replace("/", "--")


# -- models ---------------------------------------------------------------------------


def fetch_snapshot(repo_id: str, revision: str, cache_dir: str | Path | None) -> tuple[str, bool]:
    """The snapshot folder of repo_id@revision in cache_dir; (path, downloaded).

    A snapshot already in the cache is used as is (no request to the hub), so re-running
    the cache stage, or running it with HF_HUB_OFFLINE=1 after a pre-fetch, downloads nothing.
    """
    # heavy hub clients: imported only when something is fetched
    from huggingface_hub import snapshot_download  # noqa: PLC0415
    from huggingface_hub.errors import LocalEntryNotFoundError  # noqa: PLC0415

    try:
        path = snapshot_download(
            repo_id=repo_id, revision=revision, cache_dir=cache_dir, local_files_only=True
        )
        return str(path), False
    except (LocalEntryNotFoundError, FileNotFoundError, OSError):
        pass
    path = snapshot_download(repo_id=repo_id, revision=revision, cache_dir=cache_dir)
    return str(path), True


def _link_or_copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists() or target.is_symlink():
        target.unlink()
    try:
        os.link(source, target)  # same filesystem: no extra space, and no path back to the full cache
    except OSError:
        shutil.copyfile(source, target)


def mirror_snapshot(snapshot: str | Path, repo_id: str, revision: str, view_home: str | Path) -> Path:
    """Put one snapshot into view_home/hub as a hub-cache entry of regular files; return its path.

    The files are hard links (or copies) of the resolved blobs, never symlinks into the
    full cache, so neither a path nor a link leads from the view to other models.
    """
    snapshot = Path(snapshot)
    commit = snapshot.name
    repo_dir = hub_cache(view_home) / repo_folder(repo_id)
    target = repo_dir / "snapshots" / commit
    wanted = {p.relative_to(snapshot) for p in snapshot.rglob("*") if p.is_file()}
    if repo_dir.exists():  # the view holds this snapshot only: drop what a previous mirror left
        for old in sorted(repo_dir.rglob("*"), reverse=True):
            inside = old.is_relative_to(target)
            if (
                old.is_file()
                and not old.is_symlink()
                and (not inside or old.relative_to(target) not in wanted)
            ):
                old.unlink()
            elif old.is_dir() and not old.is_symlink() and not inside and not any(old.iterdir()):
                old.rmdir()
    for rel in sorted(wanted):
        source = (snapshot / rel).resolve()
        dest = target / rel
        if dest.is_file() and not dest.is_symlink() and os.path.samefile(source, dest):
            continue
        _link_or_copy(source, dest)
    for p in target.rglob("*"):
        if p.is_file():
            p.chmod(0o444)  # the base model is read-only for the agent
    refs = repo_dir / "refs"
    refs.mkdir(parents=True, exist_ok=True)
    # the view holds one snapshot: it is what the pinned revision and "main" (what
    # from_pretrained(<hub id>) asks for) resolve to
    for name in {revision, "main"} - {commit}:
        (refs / name).parent.mkdir(parents=True, exist_ok=True)
        (refs / name).write_text(commit)
    return target


def prepare_model(
    ref: dict, dest: str | Path, hf_cache: str | Path | None = None, agent_view: str | Path | None = None
) -> dict:
    """Materialize one model (a config `base` / `instruct` entry); return its manifest.

    hf_cache: the hub cache of the full HF_HOME. agent_view: for a base model, the
    agent's HF_HOME view of this model, which then holds this snapshot only and whose
    path the manifest's `path` names (the evaluator reads the same files). Its paths are absolute;
    recorded_model_manifest gives what the manifest file records.
    """
    dest = Path(dest)
    source = ref["source"]
    if source == "hub":
        hf_cache = Path(hf_cache).absolute() if hf_cache else None  # the rule's param may be relative
        snapshot, downloaded = fetch_snapshot(ref["hf_id"], ref["revision"], hf_cache)
        files = io.hash_tree(snapshot, follow_links=True)  # to the blobs the snapshot links
        info = {
            "hf_id": ref["hf_id"],
            "revision": ref["revision"],
            "commit": Path(snapshot).name,
            "hub_path": str(Path(snapshot).resolve()),
            "downloaded": downloaded,
            "hf_cache": str(Path(hf_cache).resolve()) if hf_cache else None,
        }
        path = snapshot
        if agent_view is not None:
            path = mirror_snapshot(snapshot, ref["hf_id"], ref["revision"], agent_view)
            info["agent_view"] = str(Path(agent_view).absolute())
    else:
        if dest.exists():
            shutil.rmtree(dest)
        dest.mkdir(parents=True)
        info = BUILDERS[source](dest)
        path = dest
        files = io.hash_tree(path)
        if agent_view is not None:  # no hub model: the agent's HF cache view is empty
            hub_cache(agent_view).mkdir(parents=True, exist_ok=True)
            info["agent_view"] = str(Path(agent_view).absolute())
    return {"source": source, "path": str(Path(path).absolute()), "files": files, **info}


MODEL_PATH_KEYS = ("path", "agent_view", "hub_path", "hf_cache")


def recorded_model_manifest(manifest: dict, manifest_file: str | Path) -> dict:
    """prepare_model's manifest as manifest_file records it: paths relative to its folder."""
    return io.record_paths(manifest, MODEL_PATH_KEYS, manifest_file)


def model_path(manifest_file: str | Path) -> str:
    """The model folder a model manifest names, absolute (old manifests recorded it absolute)."""
    return str(io.recorded_path(io.read_json(manifest_file)["path"], manifest_file))


def agent_run_hf_home(run_home: str | Path, view: str | Path) -> Path:
    """A run's private, writable HF_HOME (inside its HOME) whose hub links to the model view.

    The agent finds its base model offline by hub id; what it downloads stays in this
    run's home and never reaches the shared view or another run.
    """
    hf_home = Path(run_home) / ".cache" / "huggingface"
    hub = hub_cache(hf_home)
    hub.mkdir(parents=True, exist_ok=True)
    view_hub = hub_cache(view)
    if view_hub.is_dir():
        for repo in sorted(view_hub.iterdir()):
            link = hub / repo.name
            if link.is_symlink() or not link.exists():
                if link.is_symlink():
                    link.unlink()
                link.symlink_to(repo.absolute(), target_is_directory=True)
    return hf_home


# -- datasets -------------------------------------------------------------------------


def _write_jsonl(rows, path: Path) -> None:
    io.write_text_atomic(path, "".join(json.dumps(r, default=str) + "\n" for r in rows))


def _dataset_manifest(benchmark: str, data: str, dest: Path, **extra) -> dict:
    files = {p.name: io.sha256_file(p) for p in sorted(dest.glob("*.jsonl"))}
    return {
        "benchmark": benchmark,
        "data": data,
        "pins": tasks.spec(benchmark)["dataset"],
        "files": files,
        "task_version": tasks.spec(benchmark)["version"],
        **extra,
    }


def _already_fetched(benchmark: str, dest: Path) -> dict | None:
    """The manifest of a previous hub fetch into dest, if its pins and files still match."""
    previous = dest / "dataset.json"
    if not previous.exists():
        return None
    try:
        old = io.read_json(previous)
    except (OSError, ValueError):
        return None
    if (
        old.get("data") != "hub"
        or old.get("pins") != tasks.spec(benchmark)["dataset"]
        or not old.get("files")
    ):
        return None
    for name, digest in old["files"].items():
        if not (dest / name).exists() or io.sha256_file(dest / name) != digest:
            return None
    return old


def prepare_dataset(benchmark: str, data: str, dest: str | Path, cache_dir: str | Path | None = None) -> dict:
    """Write test.jsonl (and train.jsonl where the task has one) into dest; return a manifest.

    data='hub': the pinned hub revision (production), through `datasets` with its cache
    in cache_dir (the full HF_HOME's datasets folder); a fetch already in dest with the
    same pins and file hashes is kept. data='local': the task's offline source (its
    package data, or the fixtures in tasks/<name>/data/).
    """
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    pins = tasks.spec(benchmark)["dataset"]
    if data == "hub":
        previous = _already_fetched(benchmark, dest)
        if previous is not None:
            return {**previous, "downloaded": False}
        from datasets import load_dataset  # noqa: PLC0415 (heavy: only for a hub download)

        kwargs = {"revision": pins["revision"]}
        if pins.get("data_files"):
            kwargs["data_files"] = pins["data_files"]
        if cache_dir is not None:
            kwargs["cache_dir"] = str(Path(cache_dir).absolute())
        for split_key, name in (("test_split", "test"), ("train_split", "train")):
            if pins.get(split_key):
                rows = load_dataset(pins["hub_id"], pins.get("config"), split=pins[split_key], **kwargs)
                _write_jsonl(rows, dest / f"{name}.jsonl")
        return _dataset_manifest(benchmark, data, dest, downloaded=True)
    local = tasks.task_dir(benchmark) / "data"
    offline = tasks.offline_records(benchmark)
    if offline is not None:
        _write_jsonl(offline, dest / "test.jsonl")
    for name in ("test", "train"):
        if (local / f"{name}.jsonl").exists() and not (name == "test" and offline is not None):
            shutil.copyfile(local / f"{name}.jsonl", dest / f"{name}.jsonl")
    return _dataset_manifest(benchmark, data, dest)


def agent_data_view(
    dataset_dir: str | Path,
    view: str | Path,
    controls: str | Path | None = None,
    control_count: int = 0,
    seed: int = 0,
) -> list[str]:
    """Copy the training split of a prepared dataset into the agent's data view, less a seeded
    slice of at most control_count items (never more than half the split) written to `controls`
    (outside the view): same-distribution items the agent is never handed, which the judge's
    probe (ptb/judge/probe.py) compares the test items with. A task without a training split
    gets an empty controls file."""
    view = Path(view)
    view.mkdir(parents=True, exist_ok=True)
    source = Path(dataset_dir) / "train.jsonl"
    lines = [line for line in source.read_text().splitlines() if line.strip()] if source.exists() else []
    held = set()
    if lines and control_count:
        held = set(random.Random(seed).sample(range(len(lines)), min(control_count, len(lines) // 2)))
    if held:
        kept = [line for i, line in enumerate(lines) if i not in held]
        io.write_text_atomic(view / "train.jsonl", "".join(line + "\n" for line in kept))
    elif source.exists():
        shutil.copyfile(source, view / "train.jsonl")
    if controls is not None:
        io.write_text_atomic(controls, "".join(lines[i] + "\n" for i in sorted(held)))
    return sorted(p.name for p in view.iterdir())
