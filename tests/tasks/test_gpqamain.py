"""GPQA main: inspect's shuffle_choices and multiple_choice prompt, the answer letter per protocol."""

from ptb.core.protocol import CORRECTED, POSTTRAINBENCH_V1
from ptb.core.tasks import load_task, read_jsonl, spec, task_dir
from ptb.evaluation.scripted_model import by_fragment, run, scripted, values

DATA = task_dir("gpqamain") / "data"


def loaded(**args):
    return list(load_task("gpqamain", DATA, **args).dataset)


def test_scores_per_protocol(tmp_path):
    samples = loaded(choice_seed=7)[:4]
    right = [s.target for s in samples]
    wrong = ["B" if t == "A" else "A" for t in right]
    q = [s.input for s in samples]
    model = scripted(
        by_fragment(
            {
                q[0]: f"Reasoning...\nANSWER: {right[0]}",
                q[1]: f"ANSWER: {wrong[1]}",
                q[2]: "",
                q[3]: f"ANSWER: {wrong[3]}\nOn reflection:\nANSWER: {right[3]}",  # v1 keeps the first
            }
        )
    )
    for protocol, expected in ((POSTTRAINBENCH_V1, ["C", "I", "I", "I"]), (CORRECTED, ["C", "I", "I", "C"])):
        task = load_task("gpqamain", DATA, limit=4, choice_seed=7, protocol=protocol)
        log = run(task, model, tmp_path / protocol)
        assert list(values(log).values()) == expected, protocol
    prompt = log.samples[0].messages[0].text
    assert "A) " in prompt and "D) " in prompt and "'ANSWER: $LETTER'" in prompt


def test_choice_shuffle_keeps_the_answer_and_its_seed():
    first = loaded(protocol=CORRECTED)
    assert [s.choices for s in first] == [s.choices for s in loaded(protocol=CORRECTED)]
    assert [s.choices for s in first] == [
        s.choices for s in loaded(choice_seed=spec("gpqamain")["choice_seed"])
    ]
    assert len({s.target for s in first}) > 1, "the correct answer must not always be A"
    for sample, record in zip(first, read_jsonl(DATA / "test.jsonl")):
        assert sample.choices["ABCD".index(sample.target)] == record["Correct Answer"]


def test_v1_draws_an_order_per_evaluation_as_posttrainbench_does():
    """PostTrainBench shuffles unseeded: v1 draws a seed per task build and records it."""
    tasks = [load_task("gpqamain", DATA, protocol=POSTTRAINBENCH_V1) for _ in range(4)]
    seeds = {t.metadata["choice_seed"] for t in tasks}
    assert len(seeds) == 4
    orders = {tuple(tuple(s.choices) for s in t.dataset) for t in tasks}
    assert len(orders) > 1
