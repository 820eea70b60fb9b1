"""The CLIs create no folder that was not asked for (`compare-reference --json /x/y.json` and
`new-task --root /x` made folders at / before), and new-task/new-agent refuse control characters."""

from __future__ import annotations

import json

import pytest

from ptb.tools import reproduce, skeleton


def one_metrics(tmp_path):
    path = tmp_path / "metrics.json"
    path.write_text(json.dumps({"outcome": "ok", "score": 0.13, "ci95": [0.11, 0.15], "stderr": 0.01}))
    return ["--model", "Qwen3-1.7B-Base", "--benchmark", "gsm8k", str(path)]


def test_compare_reference_refuses_a_json_path_whose_folder_is_missing(tmp_path, capsys):
    out = tmp_path / "not" / "there" / "rows.json"
    assert reproduce.main([*one_metrics(tmp_path), "--json", str(out)]) == 2
    assert f"{tmp_path / 'not'} does not exist (--mkdir creates it)" in capsys.readouterr().err
    assert not (tmp_path / "not").exists()


def test_compare_reference_creates_the_folder_when_asked_and_says_so(tmp_path, capsys):
    out = tmp_path / "not" / "there" / "rows.json"
    assert reproduce.main([*one_metrics(tmp_path), "--json", str(out), "--mkdir"]) == 0
    err = capsys.readouterr().err
    assert f"created {tmp_path / 'not'}\n" in err and f"created {tmp_path / 'not' / 'there'}\n" in err
    assert json.loads(out.read_text())[0]["within_ci"] is True


@pytest.mark.parametrize("main", [skeleton.new_task_main, skeleton.new_agent_main])
def test_new_task_and_agent_refuse_a_missing_root_unless_asked(tmp_path, capsys, main):
    root = tmp_path / "elsewhere"
    assert main(["demo_q", "--root", str(root)]) == 1
    assert f"--root: {root} does not exist" in capsys.readouterr().err and not root.exists()
    assert main(["demo_q", "--root", str(root), "--mkdir"]) == 0
    assert f"created {root}" in capsys.readouterr().err and any(root.rglob("*.py"))


@pytest.mark.parametrize("name", ["demo\n", "demo\r", "de\tmo", "a" * 101])
def test_new_task_and_agent_refuse_control_characters_and_long_names(tmp_path, name):
    for make in (skeleton.new_task, skeleton.new_agent):
        with pytest.raises(skeleton.SkeletonError, match="lowercase"):
            make(name, tmp_path)
    assert not any(tmp_path.iterdir()), "nothing written"
