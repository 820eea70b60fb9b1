"""The cache stage: pinned downloads (mocked hub), idempotence, manifests, and the agent's views.

No network: huggingface_hub.snapshot_download and datasets.load_dataset are replaced by
fakes that lay out a real hub cache (refs/, blobs/, snapshots/ with symlinks), and the
checks of what an agent can resolve use the real huggingface_hub in offline mode.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import huggingface_hub
import pytest
import yaml
from huggingface_hub.errors import LocalEntryNotFoundError

from ptb.core import config as ptb_config
from ptb.core import io, tasks
from ptb.core.paths import REPO_ROOT
from ptb.inputs import cache

REAL_SNAPSHOT_DOWNLOAD = huggingface_hub.snapshot_download
BASE = {"source": "hub", "hf_id": "Org/Tiny-Base", "revision": "main"}
INSTRUCT = {"source": "hub", "hf_id": "Org/Tiny-Instruct", "revision": "main"}
TEST_ROWS = [{"question": f"test question {i}?", "answer": f"#### {i}"} for i in range(5)]
TRAIN_ROWS = [{"question": f"train question {i}?", "answer": f"#### {i}"} for i in range(7)]


class FakeHub:
    """snapshot_download that writes a hub cache layout and counts real downloads."""

    def __init__(self):
        self.downloads: list[tuple[str, str]] = []
        self.calls: list[dict] = []

    @staticmethod
    def files(repo_id: str) -> dict[str, bytes]:
        return {
            "config.json": json.dumps({"model_type": "qwen3", "name": repo_id}).encode(),
            "model.safetensors": hashlib.sha256(repo_id.encode()).digest() * 64,
            "tokenizer/tokenizer.json": b'{"vocab": "' + repo_id.encode() + b'"}',
        }

    def __call__(self, repo_id, *, revision=None, cache_dir=None, local_files_only=False, **kwargs):
        self.calls.append(
            {
                "repo_id": repo_id,
                "revision": revision,
                "cache_dir": cache_dir,
                "local_files_only": local_files_only,
            }
        )
        revision = revision or "main"
        repo = Path(cache_dir) / cache.repo_folder(repo_id)
        ref = repo / "refs" / revision
        if ref.exists() and (repo / "snapshots" / ref.read_text()).is_dir():
            return str(repo / "snapshots" / ref.read_text())
        if local_files_only:
            raise LocalEntryNotFoundError(f"{repo_id}@{revision} is not in the cache")
        commit = hashlib.sha1(f"{repo_id}@{revision}".encode()).hexdigest()
        snapshot = repo / "snapshots" / commit
        for name, content in self.files(repo_id).items():
            blob = repo / "blobs" / hashlib.sha256(content).hexdigest()
            blob.parent.mkdir(parents=True, exist_ok=True)
            blob.write_bytes(content)
            link = snapshot / name
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(os.path.relpath(blob, link.parent))
        ref.parent.mkdir(parents=True, exist_ok=True)
        ref.write_text(commit)
        self.downloads.append((repo_id, revision))
        return str(snapshot)


@pytest.fixture
def hub(monkeypatch) -> FakeHub:
    fake = FakeHub()
    monkeypatch.setattr(huggingface_hub, "snapshot_download", fake)
    return fake


class FakeDatasets:
    def __init__(self):
        self.calls: list[dict] = []

    def __call__(self, path, name=None, *, split, **kwargs):
        self.calls.append({"path": path, "name": name, "split": split, **kwargs})
        return TEST_ROWS if split == "test" else TRAIN_ROWS


@pytest.fixture
def hub_datasets(monkeypatch) -> FakeDatasets:
    import datasets  # noqa: PLC0415 (heavy, optional)

    fake = FakeDatasets()
    monkeypatch.setattr(datasets, "load_dataset", fake)
    return fake


def sha(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def reachable_files(root: Path) -> list[Path]:
    """Every file an agent can reach from root, following symlinks (as a process would)."""
    found = []
    for dirpath, _dirs, files in os.walk(root, followlinks=True):
        found += [Path(dirpath) / f for f in files]
    return found


# -- models ---------------------------------------------------------------------------


def test_model_is_fetched_once_at_its_pinned_revision(hub, tmp_path):
    hf_cache = tmp_path / "hf_home" / "hub"
    first = cache.prepare_model(BASE, tmp_path / "dest", hf_cache)
    second = cache.prepare_model(BASE, tmp_path / "dest", hf_cache)

    assert hub.downloads == [("Org/Tiny-Base", "main")], "the second run must not download again"
    assert [c["local_files_only"] for c in hub.calls] == [True, False, True], "always look in the cache first"
    assert all(c["revision"] == "main" and Path(c["cache_dir"]) == hf_cache for c in hub.calls)
    assert first["downloaded"] is True and second["downloaded"] is False
    expected = {name: sha(content) for name, content in FakeHub.files("Org/Tiny-Base").items()}
    assert first["files"] == second["files"] == expected, (
        "the manifest hashes every file (through the blob links)"
    )
    assert first["hf_id"] == "Org/Tiny-Base" and first["revision"] == "main"
    assert first["commit"] == Path(first["path"]).name and len(first["commit"]) == 40


def test_offline_prefetched_cache_needs_no_hub(hub, tmp_path, monkeypatch):
    """Pre-fetch on a login node, then HF_HUB_OFFLINE=1 on the cluster: nothing is downloaded."""
    hf_cache = tmp_path / "hub"
    cache.prepare_model(INSTRUCT, tmp_path / "d", hf_cache)

    def offline(*args, local_files_only=False, **kwargs):
        if not local_files_only:
            raise AssertionError("asked the hub although the snapshot is cached")
        return hub(*args, local_files_only=True, **kwargs)

    monkeypatch.setattr(huggingface_hub, "snapshot_download", offline)
    manifest = cache.prepare_model(INSTRUCT, tmp_path / "d", hf_cache)
    assert manifest["downloaded"] is False and manifest["files"]


def test_a_model_manifest_records_its_paths_relative_to_itself(hub, tmp_path, monkeypatch):
    """As the rule gives them (relative to the workdir): the manifest names no absolute path, and
    model_path reads the folder back after the results moved."""
    monkeypatch.chdir(tmp_path)
    base = cache.prepare_model(BASE, "res/b", "res/hf_home/hub", agent_view="res/agent_hf_home/tiny")
    manifest_file = tmp_path / "res" / "cache" / "models" / "tiny" / "base.json"
    io.write_json(manifest_file, cache.recorded_model_manifest(base, manifest_file))
    recorded = io.read_json(manifest_file)
    assert str(tmp_path) not in json.dumps(recorded)
    assert recorded["path"].startswith("../../../agent_hf_home/tiny/hub/models--Org--Tiny-Base/snapshots/")
    (tmp_path / "res").rename(tmp_path / "moved")
    moved = cache.model_path(tmp_path / "moved" / "cache" / "models" / "tiny" / "base.json")
    assert io.hash_tree(moved, follow_links=True) == base["files"]
    io.write_json(manifest_file, base)  # an old manifest, with absolute paths: read as it is
    assert cache.model_path(manifest_file) == base["path"]


def test_base_model_view_holds_the_base_snapshot_only(hub, tmp_path):
    hf_cache, view = tmp_path / "hf_home" / "hub", tmp_path / "agent_hf_home" / "tiny"
    base = cache.prepare_model(BASE, tmp_path / "b", hf_cache, agent_view=view)
    instruct = cache.prepare_model(INSTRUCT, tmp_path / "i", hf_cache)

    assert [p.name for p in (view / "hub").iterdir()] == ["models--Org--Tiny-Base"]
    assert Path(base["path"]).is_relative_to(view), "the agent is handed the view's copy"
    assert Path(instruct["path"]).is_relative_to(hf_cache)
    files = [p for p in Path(base["path"]).rglob("*") if not p.is_dir()]
    assert files and not any(p.is_symlink() for p in files), "regular files: no link back into the full cache"
    assert io.hash_tree(base["path"], follow_links=True) == base["files"]
    assert all(p.stat().st_mode & 0o222 == 0 for p in files), "read-only for the agent"
    # the real huggingface_hub, offline: the base id resolves in the view, the instruct id does not
    found = REAL_SNAPSHOT_DOWNLOAD("Org/Tiny-Base", cache_dir=view / "hub", local_files_only=True)
    assert Path(found) == Path(base["path"])
    with pytest.raises(LocalEntryNotFoundError):
        REAL_SNAPSHOT_DOWNLOAD("Org/Tiny-Instruct", cache_dir=view / "hub", local_files_only=True)


def test_base_view_is_rebuilt_idempotently(hub, tmp_path):
    hf_cache, view = tmp_path / "hub", tmp_path / "view"
    first = cache.prepare_model(BASE, tmp_path / "b", hf_cache, agent_view=view)
    stray = Path(first["path"]) / "stray.bin"
    stray.write_bytes(b"left over")
    second = cache.prepare_model(BASE, tmp_path / "b", hf_cache, agent_view=view)
    assert first["path"] == second["path"] and first["files"] == second["files"]
    assert not stray.exists(), "a re-run leaves exactly the pinned snapshot in the view"
    assert len(hub.downloads) == 1


def test_agent_run_hf_home_is_private_and_links_the_base_only(hub, tmp_path):
    view = tmp_path / "agent_hf_home" / "tiny"
    base = cache.prepare_model(BASE, tmp_path / "b", tmp_path / "full" / "hub", agent_view=view)
    cache.prepare_model(INSTRUCT, tmp_path / "i", tmp_path / "full" / "hub")
    home = tmp_path / "run" / "home"
    hf_home = cache.agent_run_hf_home(home, view)

    assert hf_home == home / ".cache" / "huggingface", "the default HF_HOME of the agent's HOME"
    entries = list((hf_home / "hub").iterdir())
    assert [e.name for e in entries] == ["models--Org--Tiny-Base"] and entries[0].is_symlink()
    found = REAL_SNAPSHOT_DOWNLOAD("Org/Tiny-Base", cache_dir=hf_home / "hub", local_files_only=True)
    assert Path(found).resolve() == Path(base["path"]).resolve()
    (hf_home / "hub" / "models--Other--Downloaded").mkdir()  # what the agent fetches stays in its run
    assert [p.name for p in (view / "hub").iterdir()] == ["models--Org--Tiny-Base"]
    assert cache.agent_run_hf_home(home, view) == hf_home  # idempotent


def test_offline_built_models_get_an_empty_view(tmp_path):
    manifest = cache.prepare_model(
        {"source": "tiny_qwen3"}, tmp_path / "dest", None, agent_view=tmp_path / "view"
    )
    assert (tmp_path / "dest" / "config.json").exists() and manifest["files"]
    assert list((tmp_path / "view" / "hub").iterdir()) == []


# -- datasets -------------------------------------------------------------------------


def test_dataset_download_is_pinned_and_idempotent(hub_datasets, tmp_path):
    pins = tasks.spec("gsm8k")["dataset"]
    first = cache.prepare_dataset(
        "gsm8k", "hub", tmp_path / "gsm8k", cache_dir=tmp_path / "hf_home" / "datasets"
    )
    assert {(c["split"], c["revision"], c["cache_dir"]) for c in hub_datasets.calls} == {
        ("test", pins["revision"], str(tmp_path / "hf_home" / "datasets")),
        ("train", pins["revision"], str(tmp_path / "hf_home" / "datasets")),
    }
    assert all(c["path"] == pins["hub_id"] and c["name"] == pins["config"] for c in hub_datasets.calls)
    assert first["downloaded"] is True and first["pins"] == pins
    assert first["files"]["test.jsonl"] == io.sha256_file(tmp_path / "gsm8k" / "test.jsonl")
    io.write_json(tmp_path / "gsm8k" / "dataset.json", first)

    again = cache.prepare_dataset(
        "gsm8k", "hub", tmp_path / "gsm8k", cache_dir=tmp_path / "hf_home" / "datasets"
    )
    assert len(hub_datasets.calls) == 2, "a fetch with the same pins and files is kept"
    assert again["downloaded"] is False and again["files"] == first["files"]

    (tmp_path / "gsm8k" / "test.jsonl").write_text("tampered\n")
    cache.prepare_dataset("gsm8k", "hub", tmp_path / "gsm8k", cache_dir=tmp_path / "hf_home" / "datasets")
    assert len(hub_datasets.calls) == 4, "a changed file is fetched again"


def test_dataset_data_files_are_passed(hub_datasets, tmp_path):
    cache.prepare_dataset("healthbench", "hub", tmp_path / "hb")
    assert hub_datasets.calls[0]["data_files"] == tasks.spec("healthbench")["dataset"]["data_files"]


# -- what the agent sees --------------------------------------------------------------


def test_agent_views_hold_no_test_set_and_no_instruct_model(hub, hub_datasets, tmp_path):
    """The full cache has both models and the test set; nothing the agent can reach does."""
    config = ptb_config.validate({**_minimal_config(), "results_dir": str(tmp_path / "results")})
    dirs = ptb_config.cache_dirs(config)
    hub_dir = cache.hub_cache(dirs["hf_home"])
    view = cache.agent_model_view(dirs["agent_hf_home"], "tiny")
    base = cache.prepare_model(BASE, tmp_path / "b", hub_dir, agent_view=view)
    instruct = cache.prepare_model(INSTRUCT, tmp_path / "i", hub_dir)
    dataset_dir = tmp_path / "results" / "cache" / "datasets" / "gsm8k"
    manifest = cache.prepare_dataset("gsm8k", "hub", dataset_dir, cache_dir=dirs["hf_home"] / "datasets")
    data_view = tmp_path / "results" / "cache" / "agent_view" / "gsm8k"
    assert cache.agent_data_view(dataset_dir, data_view) == ["train.jsonl"]
    run_hf_home = cache.agent_run_hf_home(tmp_path / "run" / "home", view)

    forbidden = {manifest["files"]["test.jsonl"]} | set(instruct["files"].values())
    assert forbidden & {io.sha256_file(p) for p in reachable_files(hub_dir)}, (
        "sanity: the full cache has them"
    )
    agent_roots = [view, data_view.parent, run_hf_home, Path(base["path"])]
    seen = [p for root in agent_roots for p in reachable_files(root)]
    assert seen, "the agent sees its base model and the training split"
    assert not forbidden & {io.sha256_file(p) for p in seen}, (
        "no test set and no instruct file in the agent's views"
    )
    assert not any("Instruct" in str(p) or p.name.startswith("test") for p in seen)
    assert not any("datasets" in p.parts for p in seen)
    assert set(base["files"].values()) <= {io.sha256_file(p) for p in seen}
    assert not dirs["agent_hf_home"].is_relative_to(dirs["hf_home"])
    assert not dirs["hf_home"].is_relative_to(dirs["agent_hf_home"])


def _minimal_config() -> dict:
    return yaml.safe_load((REPO_ROOT / "workflow_config.yaml").read_text())


def test_cache_dirs_come_from_the_config(tmp_path):
    config = ptb_config.validate({**_minimal_config(), "results_dir": "res"})
    dirs = ptb_config.cache_dirs(config)
    # relative, as configured: rule params hold them, and a moved checkout must re-run nothing
    assert dirs["hf_home"] == Path("res/cache/hf_home")
    assert dirs["agent_hf_home"] == Path("res/cache/agent_hf_home")
    config["cache"] = {"hf_home": "/shared/hf", "agent_hf_home": "/shared/agent-views"}
    dirs = ptb_config.cache_dirs(ptb_config.validate(config))
    assert dirs["hf_home"] == Path("/shared/hf")
    assert cache.agent_model_view(dirs["agent_hf_home"], "qwen3-4b") == Path("/shared/agent-views/qwen3-4b")
    without = _minimal_config()
    without.pop("cache")
    assert ptb_config.validate(without)["cache"]["hf_home"] == "{results}/cache/hf_home", "schema default"
    with pytest.raises(ptb_config.ConfigError, match="cache"):
        ptb_config.validate({**_minimal_config(), "cache": {"hf_hom": "/x"}})
