"""What keeps planning cheap (benchmarks/plan_grid.py, issue 31), held to the behaviour it must keep."""

from __future__ import annotations

import pytest
from helpers import dry_run_jobs, snakemake

from ptb.core import config as ptb_config
from ptb.core import paths

SELECT = "select={agents: [noop], models: [tiny-qwen3, smollm2-135m], benchmarks: [gsm8k], seeds: [1]}"


def test_the_judge_waits_for_every_disallowed_model_through_one_index(tmp_path):
    """One input per judge job for the disallowed models; the index job takes all their manifests.
    With snakemake's full default resources (a cluster's), no un-awaited coroutine either."""
    proc = snakemake(
        "-n", "--default-resources", "--configfile", "config/demo.yaml",
        "--config", SELECT, "calibration=", f"results_dir={tmp_path}",
    )  # fmt: skip
    output = proc.stdout + proc.stderr
    assert "never awaited" not in output
    jobs = dry_run_jobs(output)
    index = paths.fill(paths.JUDGED_MODELS_INDEX, str(tmp_path))
    (indexer,) = [j for j in jobs if j["rule"] == "judged_models"]
    manifests = set(indexer["input"].split(", "))
    assert (
        manifests
        == {
            paths.fill(paths.MODEL_MANIFEST, str(tmp_path), model=m, variant=v)
            for m in ("tiny-qwen3", "smollm2-135m")
            for v in ("base", "instruct")
        }
        & manifests
    )  # the instruct ones where the config has them
    assert {m for m in manifests if m.endswith("/base.json")} == {
        paths.fill(paths.MODEL_MANIFEST, str(tmp_path), model=m, variant="base")
        for m in ("tiny-qwen3", "smollm2-135m")
    }
    judges = [j for j in jobs if j["rule"] == "judge"]
    assert len(judges) == 2
    for judge in judges:
        inputs = judge["input"].split(", ")
        assert index in inputs
        own_base = paths.fill(
            paths.MODEL_MANIFEST,
            str(tmp_path),
            model=judge["wildcards"].split("model=")[1].split(",")[0],
            variant="base",
        )
        assert [i for i in inputs if "/cache/models/" in i] == [own_base]  # no manifest per disallowed model


def test_a_config_file_checked_once_is_not_parsed_again(tmp_path, monkeypatch):
    path = tmp_path / "config.yaml"
    path.write_text("a: 1\n")
    parsed = []
    real = ptb_config.read_file
    monkeypatch.setattr(ptb_config, "read_file", lambda p: parsed.append(p) or real(p))
    ptb_config.check_files([path])
    ptb_config.check_files([path])
    assert parsed == [path]
    path.write_text("a: 1\na: 2\n")  # edited since: read again, and its duplicated key found
    with pytest.raises(ptb_config.ConfigError, match="line 2"):
        ptb_config.check_files([path])
    assert parsed == [path, path]
