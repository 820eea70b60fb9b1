"""tasks/README.md is generated from every tasks/*/task.yaml and must be up to date."""

import importlib.util

from ptb.core.paths import REPO_ROOT
from ptb.core.tasks import TASKS_DIR, load_task, read_jsonl, spec
from ptb.core.tasks import test_texts as exported_texts  # not test_*: pytest would collect it
from ptb.inputs.cache import prepare_dataset

REQUIRED = {"name", "version", "dataset", "samples", "generation", "epochs", "scorer"}
PINS = {"hub_id", "config", "revision", "test_split", "train_split"}


def task_table():
    loaded = importlib.util.spec_from_file_location("task_table", REPO_ROOT / "scripts" / "task_table.py")
    module = importlib.util.module_from_spec(loaded)
    loaded.loader.exec_module(module)
    return module


def test_readme_is_up_to_date():
    assert (TASKS_DIR / "README.md").read_text() == task_table().render(), "run: python scripts/task_table.py"


def test_every_task_folder_is_complete_and_pinned():
    names = sorted(p.parent.name for p in TASKS_DIR.glob("*/task.yaml"))
    assert names == ["aime2025", "arenahardwriting", "bfcl", "gpqamain", "gsm8k", "healthbench", "humaneval"]
    for name in names:
        settings = spec(name)
        assert REQUIRED <= set(settings) and settings["name"] == name
        assert PINS <= set(settings["dataset"])
        revision = settings["dataset"]["revision"]
        assert len(revision) == 40 and int(revision, 16) >= 0, (name, revision)
        assert {"max_tokens", "temperature", "top_p", "seed"} <= set(settings["generation"])
        for handout in ("benchmark.txt", "task.py", "evaluate.py"):
            assert (TASKS_DIR / name / handout).exists(), (name, handout)
        assert f'script("{name}")' in (TASKS_DIR / name / "evaluate.py").read_text()


def test_committed_data_files_are_small():
    for path in TASKS_DIR.glob("*/data/*"):
        assert path.stat().st_size < 2 << 20, path


def test_every_task_loads_its_offline_data_and_fingerprints_it(tmp_path):
    for name in sorted(p.parent.name for p in TASKS_DIR.glob("*/task.yaml")):
        data = tmp_path / name
        manifest = prepare_dataset(name, "local", data)
        assert manifest["task_version"] == spec(name)["version"] and "test.jsonl" in manifest["files"]
        assert len(load_task(name, data, limit=3).dataset) == 3
        texts = exported_texts(name, data)
        assert len(texts) >= len(read_jsonl(data / "test.jsonl")) and all(
            isinstance(t, str) and t for t in texts
        )
