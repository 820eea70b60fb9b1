"""The agent-facing evaluate.py: the workflow's task, data and template; nothing from its folder."""

import json
import shutil
import subprocess
import sys

import pytest
import yaml

from ptb.core import tasks
from ptb.core.config import validate
from ptb.core.paths import REPO_ROOT
from ptb.core.tasks import TASKS_DIR
from ptb.evaluation import agent_eval
from ptb.inputs.demo_models import build_tiny_qwen3


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    path = tmp_path_factory.mktemp("tiny-qwen3")
    build_tiny_qwen3(path)
    return path


def test_evaluates_a_local_model_and_writes_json(tiny_model, tmp_path, capsys):
    out = tmp_path / "eval.json"
    code = agent_eval.main(
        "gsm8k",
        [
            "--model-path",
            str(tiny_model),
            "--limit",
            "2",
            "--data-dir",
            str(TASKS_DIR / "gsm8k" / "data"),
            "--json-output-file",
            str(out),
            "--log-dir",
            str(tmp_path / "logs"),
        ],
    )
    metrics = json.loads(out.read_text())
    assert code == 0 and metrics["outcome"] == "ok", metrics
    assert metrics["samples_scored"] + metrics["samples_failed"] == 2
    assert metrics["task_version"] == tasks.spec("gsm8k")["version"]
    assert metrics["protocol"] == "posttrainbench-v1"
    assert capsys.readouterr().out.startswith("gsm8k: score ")


def test_a_missing_model_is_an_error_exit(tmp_path, capsys):
    code = agent_eval.main(
        "aime2025",
        [
            "--model-path",
            str(tmp_path / "none"),
            "--data-dir",
            str(TASKS_DIR / "aime2025" / "data"),
            "--log-dir",
            str(tmp_path),
        ],
    )
    assert code == 1 and "evaluation failed" in capsys.readouterr().out


def test_the_script_ignores_a_ptb_package_planted_next_to_it(tmp_path):
    job = tmp_path / "job"
    (job / "ptb").mkdir(parents=True)
    (job / "ptb" / "__init__.py").write_text("raise SystemExit('the planted ptb was imported')\n")
    shutil.copyfile(TASKS_DIR / "bfcl" / "evaluate.py", job / "evaluate.py")
    proc = subprocess.run(
        [sys.executable, "evaluate.py", "--help"], cwd=job, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert "Evaluate a model on bfcl" in proc.stdout


def test_the_options_default_to_the_workflow_schemas_evaluation_defaults(capsys):
    """The script runs without the workflow config: its defaults are the schema's, nowhere else."""
    schema = yaml.safe_load((REPO_ROOT / "schemas" / "config.schema.yaml").read_text())
    defaults = {k: v.get("default") for k, v in schema["properties"]["evaluation"]["properties"].items()}
    args = agent_eval.parse_args("gsm8k", [])
    assert args.max_connections == defaults["max_connections"]
    assert args.max_model_len == defaults["max_model_len"]
    assert args.gpu_memory_utilization == defaults["gpu_memory_utilization"]
    assert args.evaluation["grader_max_connections"] == defaults["grader_max_connections"]
    assert args.evaluation["epochs"] == defaults["epochs"] and args.evaluation["provider"] == "hf"
    with pytest.raises(SystemExit) as exit_info:
        agent_eval.parse_args("gsm8k", ["--provider", "vllm", "--gpu-memory-utilization", "1.5"])
    assert exit_info.value.code == 2
    assert (
        "evaluation.gpu_memory_utilization': 1.5 is greater than the maximum of 1" in capsys.readouterr().err
    )


def test_the_protocol_is_an_option_and_checked(capsys):
    args = agent_eval.parse_args("gsm8k", ["--model-path", "m", "--protocol", "posttrainbench-v1-corrected"])
    assert args.protocol == "posttrainbench-v1-corrected"
    assert agent_eval.parse_args("gsm8k", ["--model-path", "m"]).protocol == "posttrainbench-v1"
    with pytest.raises(SystemExit):
        agent_eval.parse_args("gsm8k", ["--model-path", "m", "--protocol", "v2"])
    assert "invalid choice: 'v2'" in capsys.readouterr().err


def test_the_by_hand_evaluator_defaults_are_productions():
    """One source of defaults: what an agent's evaluate.py runs with unless told otherwise is what
    the production workflow evaluates with (context length and batch), except the provider."""
    production = validate(yaml.safe_load((REPO_ROOT / "workflow_config.yaml").read_text()))["evaluation"]
    args = agent_eval.parse_args("gsm8k", [])
    for key in ("max_model_len", "max_connections", "gpu_memory_utilization"):
        assert getattr(args, key) == production[key], key
    assert args.evaluation == {**production, "provider": "hf"}
