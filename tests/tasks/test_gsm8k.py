"""GSM8K: inspect_evals' prompt and worked examples, numeric match per protocol, offline."""

import pytest

from ptb.core.protocol import CORRECTED, POSTTRAINBENCH_V1
from ptb.core.tasks import load_task, module, read_jsonl, task_dir
from ptb.evaluation.scripted_model import by_fragment, run, scripted, values

DATA = task_dir("gsm8k") / "data"


@pytest.mark.parametrize(
    "protocol, expected",
    [(POSTTRAINBENCH_V1, ["C", "I", "I", "C", "C"]), (CORRECTED, ["C", "I", "I", "C", "I"])],
)
def test_scores_right_wrong_empty_thinking_and_cut_off_thinking(tmp_path, protocol, expected):
    records = read_jsonl(DATA / "test.jsonl")[:5]
    target = [r["answer"].split("####")[-1].strip() for r in records]
    q = [r["question"] for r in records]
    model = scripted(
        by_fragment(
            {
                q[0]: f"Adding up.\nANSWER: {target[0]}",
                q[1]: f"ANSWER: {int(target[1]) + 1}",
                q[2]: "",
                q[
                    3
                ]: f"<think>maybe {int(target[3]) + 7}</think>\nSo it is {target[3]}.\nANSWER: {target[3]}",
                # cut off by max_tokens while thinking: v1 reads the last number of the thinking
                q[4]: f"<think>\nlet me see, that makes {target[4]}",
            }
        )
    )
    task = load_task("gsm8k", DATA, limit=5, protocol=protocol)
    got = values(run(task, model, tmp_path))
    assert [got[s.id] for s in task.dataset] == expected


def test_worked_examples_come_from_train_only_in_a_system_message():
    task = load_task("gsm8k", DATA, fewshot=3)
    shots = module("gsm8k").fewshot_samples(read_jsonl(DATA / "train.jsonl"), 3)
    prompt = module("gsm8k").fewshot_prompt(read_jsonl(DATA / "train.jsonl"), 3)
    assert prompt.count("Reasoning:") == 3 and all(s.input in prompt for s in shots)
    assert not any(r["question"] in prompt for r in read_jsonl(DATA / "test.jsonl"))
    assert len(task.dataset) == len(read_jsonl(DATA / "test.jsonl"))


def test_worked_examples_need_the_train_split(tmp_path):
    (tmp_path / "test.jsonl").write_text((DATA / "test.jsonl").read_text())
    with pytest.raises(FileNotFoundError, match="need the train split"):
        load_task("gsm8k", tmp_path)
    assert len(load_task("gsm8k", tmp_path, fewshot=0).dataset) == len(read_jsonl(DATA / "test.jsonl"))
