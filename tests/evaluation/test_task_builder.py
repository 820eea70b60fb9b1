"""The task builder: every task's Task carries its folder's name and task.yaml; task.yaml is parsed
once per content."""

import re
import shutil

import pytest
import yaml

from ptb.core import io, tasks
from ptb.evaluation.task_builder import TaskFolder
from ptb.inputs.cache import prepare_dataset

TASKS = sorted(p.parent.name for p in tasks.TASKS_DIR.glob("*/task.yaml"))


@pytest.mark.parametrize("name", TASKS)
def test_every_task_is_stamped_from_its_task_yaml(name, tmp_path):
    settings = yaml.safe_load((tasks.task_dir(name) / "task.yaml").read_text())
    prepare_dataset(name, "local", tmp_path / "data")
    built = tasks.load_task(name, tmp_path / "data", limit=2)
    assert built.name == name and built.dataset.name == name and len(built.dataset) == 2
    assert built.version == settings["version"] and built.epochs == settings["epochs"]
    assert built.config.model_dump(exclude_none=True) == settings["generation"]
    assert built.metadata["task_version"] == settings["version"]
    assert built.metadata["dataset"] == settings["dataset"]


def test_the_folder_names_the_task_and_an_edit_is_seen(tmp_path, monkeypatch):
    """A copy of gsm8k under another name builds as that name, from its own task.yaml."""
    copy = tmp_path / "gsm8k_copy"
    shutil.copytree(tasks.task_dir("gsm8k"), copy)
    text = (copy / "task.py").read_text().replace("def gsm8k(", "def gsm8k_copy(")
    (copy / "task.py").write_text(text)
    monkeypatch.setattr(tasks, "TASKS_DIR", tmp_path)
    built = tasks.load_task("gsm8k_copy", copy / "data", limit=1, fewshot=0)
    assert built.name == "gsm8k_copy" and built.dataset.name == "gsm8k_copy"
    spec = copy / "task.yaml"
    spec.write_text(re.sub(r"^version: \S+", "version: 1.0.1", spec.read_text(), flags=re.M))
    assert tasks.load_task("gsm8k_copy", copy / "data", limit=1, fewshot=0).version == "1.0.1"
    assert TaskFolder(copy / "task.py").spec["version"] == "1.0.1"


def test_task_yaml_is_parsed_once_per_content_and_callers_get_copies(monkeypatch):
    parsed = []
    real = io.read_yaml
    monkeypatch.setattr(io, "read_yaml", lambda text: parsed.append(text) or real(text))
    tasks._parse_spec.cache_clear()
    first = tasks.spec("bfcl")
    first["generation"]["max_tokens"] = 1  # a caller's change stays its own
    again = tasks.spec("bfcl")
    assert len(parsed) == 1 and again["generation"]["max_tokens"] != 1
