"""GSM8K: numeric match of the final answer, offline with a scripted model."""

from ptb.scripted_model import by_fragment, run, scripted, values
from ptb.tasks import load_task, module, read_jsonl, task_dir

DATA = task_dir("gsm8k") / "data"


def test_scores_right_wrong_empty_and_thinking(tmp_path):
    records = read_jsonl(DATA / "test.jsonl")[:4]
    target = [module("gsm8k").split_answer(r["answer"])[1] for r in records]
    q = [r["question"] for r in records]
    model = scripted(
        by_fragment(
            {
                q[0]: f"Adding up.\nANSWER: {target[0]}",
                q[1]: f"ANSWER: {int(target[1]) + 1}",
                q[2]: "",
                q[3]: f"<think>maybe ANSWER: {int(target[3]) + 7}</think>\n"
                f"So the total is {target[3]}.\nANSWER: {target[3]}",
            }
        )
    )
    log = run(load_task("gsm8k", DATA, limit=4, fewshot=0), model, tmp_path)
    assert list(values(log).values()) == ["C", "I", "I", "C"]


def test_fewshot_examples_come_from_train_only():
    task = load_task("gsm8k", DATA, fewshot=3)
    train = read_jsonl(DATA / "train.jsonl")[:3]
    prompt = module("gsm8k").fewshot_prompt(train, 3)
    assert all(r["question"] in prompt for r in train)
    assert not any(r["question"] in prompt for r in read_jsonl(DATA / "test.jsonl"))
    assert len(task.dataset) == len(read_jsonl(DATA / "test.jsonl"))
