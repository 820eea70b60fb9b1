"""compare-reference: a baseline's metrics.json against PostTrainBench's published numbers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from ptb.core.paths import REPO_ROOT
from ptb.tools import reproduce

SHARED = REPO_ROOT.parent / "shared" / "reference" / "posttrainbench-v1" / "aggregated_baseline.csv"


def metrics(score, ci, **extra) -> dict:
    return {"outcome": "ok", "score": score, "ci95": ci, "stderr": 0.01, **extra}


def test_reference_tables_hold_the_published_numbers():
    zero = reproduce.load_reference("zero-shot")
    assert zero[("Qwen3-1.7B-Base", "gsm8k")] == pytest.approx(0.12661106899166036)
    assert zero[("gemma-3-4b-it", "arenahardwriting")] == pytest.approx(0.948)
    assert len(zero) == 8 * 7
    few = reproduce.load_reference("few-shot")
    assert few[("Qwen3-1.7B-Base", "gsm8k")] == pytest.approx(0.46679302501895537)
    if SHARED.exists():  # the copy is unchanged
        assert (reproduce.REFERENCE_DIR / "posttrainbench_v1_baselines.csv").read_text() == SHARED.read_text()


def test_reference_name_is_the_hub_name_without_organisation():
    assert reproduce.reference_name({"source": "hub", "hf_id": "Qwen/Qwen3-4B"}) == "Qwen3-4B"
    assert reproduce.reference_name({"source": "tiny_qwen3"}, "tiny random Qwen3") == "tiny random Qwen3"


def test_within_and_outside_the_runs_ci():
    ref = 0.5333333333333333  # Qwen3-4B on aime2025
    inside = reproduce.compare(metrics(0.5, [0.33, 0.7]), "Qwen3-4B", "aime2025", "zero-shot")
    assert inside["within_ci"] is True and inside["status"] == "within_ci"
    assert inside["difference"] == pytest.approx(ref - 0.5) and inside["reference"] == pytest.approx(ref)
    outside = reproduce.compare(metrics(0.2, [0.1, 0.3]), "Qwen3-4B", "aime2025", "zero-shot")
    assert outside["within_ci"] is False and outside["difference"] == pytest.approx(ref - 0.2)
    on_edge = reproduce.compare(metrics(0.0, [0.0, 0.0]), "Qwen3-1.7B-Base", "aime2025", "zero-shot")
    assert on_edge["within_ci"] is True  # published 0.0, a degenerate CI at 0
    unknown = reproduce.compare(metrics(0.1, [0.0, 0.2]), "tiny random Qwen3", "gsm8k")
    assert unknown["status"] == "no_reference" and unknown["within_ci"] is None
    failed = reproduce.compare({"outcome": "eval_error", "reason": "boom"}, "Qwen3-4B", "gsm8k", "zero-shot")
    assert failed["within_ci"] is None and failed["status"].startswith("not_comparable")


def test_auto_compares_with_what_posttrainbench_evaluate_py_scored():
    """PostTrainBench's published GSM8K baselines (aggregated_baseline.csv) already use inspect_evals'
    10 worked examples: a run of the default protocol compares with them, not the few-shot table."""
    shots = reproduce.compare(metrics(0.13, [0.11, 0.15]), "Qwen3-1.7B-Base", "gsm8k")
    assert shots["table"] == "zero-shot" and shots["within_ci"] is True  # published 0.1266
    asked = reproduce.compare(metrics(0.45, [0.42, 0.48]), "Qwen3-1.7B-Base", "gsm8k", "few-shot")
    assert asked["table"] == "few-shot" and asked["within_ci"] is True  # published 0.4668


def test_cli_over_a_results_tree(tmp_path, capsys):
    results = tmp_path / "results"
    runs = {
        ("qwen3-1.7b", "base", "humaneval"): metrics(0.08, [0.04, 0.12]),  # published 0.079: inside
        ("qwen3-1.7b", "instruct", "humaneval"): metrics(0.5, [0.42, 0.58]),
    }  # published 0.689: outside
    for (model, variant, bench), data in runs.items():
        path = results / "baselines" / model / variant / bench / "metrics.json"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(data))
    select = tmp_path / "select.yaml"
    select.write_text(yaml.safe_dump({"select": {"models": ["qwen3-1.7b"]}}))
    out_json = tmp_path / "rows.json"
    code = reproduce.main(
        [
            "--configfile",
            str(select),
            "--config",
            f"results_dir={results}",
            "select={models: [qwen3-1.7b], benchmarks: [humaneval]}",  # --config merges over the file
            "--json",
            str(out_json),
        ]
    )
    printed = capsys.readouterr().out
    assert code == 1, "one published number lies outside its run's CI"
    rows = {r["variant"]: r for r in json.loads(out_json.read_text())}
    assert rows["base"]["model"] == "Qwen3-1.7B-Base" and rows["base"]["within_ci"] is True
    assert rows["instruct"]["model"] == "Qwen3-1.7B" and rows["instruct"]["within_ci"] is False
    assert rows["instruct"]["difference"] == pytest.approx(0.6890243902439024 - 0.5)
    assert "| Qwen3-1.7B | humaneval | 68.9 (zero-shot) | 50.0 | [42.0, 58.0] | +18.9 | **no** |" in printed
    assert "1/2 published numbers lie within the run's 95% CI" in printed


def test_cli_single_metrics_file(tmp_path, capsys):
    path = tmp_path / "metrics.json"
    path.write_text(json.dumps(metrics(0.94, [0.9, 0.97])))
    assert reproduce.main([str(path), "--model", "Qwen3-1.7B", "--benchmark", "bfcl"]) == 0
    assert "| Qwen3-1.7B | bfcl | 94.0 (zero-shot) | 94.0 |" in capsys.readouterr().out
    path.write_text(json.dumps(metrics(0.1, [0.0, 0.2])))
    assert reproduce.main([str(path), "--model", "nobody", "--benchmark", "bfcl"]) == 2


def test_baseline_runs_take_plain_inputs(tmp_path):
    models = {
        "qwen3-4b": {
            "display_name": "Qwen3-4B-Base",
            "base": {"source": "hub", "hf_id": "Qwen/Qwen3-4B-Base"},
            "instruct": {"source": "hub", "hf_id": "Qwen/Qwen3-4B"},
        },
        "tiny": {"display_name": "tiny random Qwen3", "base": {"source": "tiny_qwen3"}},
    }
    baselines = [("qwen3-4b", "base", "gsm8k"), ("qwen3-4b", "instruct", "gsm8k"), ("tiny", "base", "gsm8k")]
    runs = reproduce.baseline_runs(str(tmp_path), baselines, models)
    assert [r["name"] for r in runs] == ["Qwen3-4B-Base", "Qwen3-4B", "tiny random Qwen3"]
    assert runs[1]["metrics"] == str(
        tmp_path / "baselines" / "qwen3-4b" / "instruct" / "gsm8k" / "metrics.json"
    )
    Path(runs[1]["metrics"]).parent.mkdir(parents=True)
    Path(runs[1]["metrics"]).write_text(json.dumps(metrics(0.92, [0.9, 0.94])))  # published 0.938
    rows = reproduce.compare_runs(runs, "zero-shot")
    assert [r["status"] for r in rows] == ["no_metrics", "within_ci", "no_metrics"]
    assert rows[1]["model"] == "Qwen3-4B" and rows[1]["config_model"] == "qwen3-4b"


def test_cli_reports_a_bad_config(capsys):
    assert reproduce.main(["--config", "select={models: [nobody]}"]) == 2
    assert "nobody" in capsys.readouterr().err
