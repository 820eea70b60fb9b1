"""GPQA main: seeded choice shuffle, choice accuracy of the last ANSWER letter, offline."""

from ptb.scripted_model import by_fragment, run, scripted, values
from ptb.tasks import load_task, module, read_jsonl, spec, task_dir

DATA = task_dir("gpqamain") / "data"


def loaded():
    return list(load_task("gpqamain", DATA).dataset)


def test_scores_right_wrong_empty_and_thinking(tmp_path):
    samples = loaded()[:4]
    right = [s.target for s in samples]
    wrong = ["B" if t == "A" else "A" for t in right]
    q = [s.input for s in samples]
    model = scripted(
        by_fragment(
            {
                q[0]: f"Reasoning...\nANSWER: {right[0]}",
                q[1]: f"ANSWER: {wrong[1]}",
                q[2]: "",
                q[3]: f"<think>ANSWER: {wrong[3]}</think>\nOn reflection:\nANSWER: ({right[3]})",
            }
        )
    )
    log = run(load_task("gpqamain", DATA, limit=4), model, tmp_path)
    assert list(values(log).values()) == ["C", "I", "I", "C"]
    prompt = log.samples[0].messages[0].text
    assert "A) " in prompt and "D) " in prompt and "ANSWER: $LETTER" in prompt


def test_choice_shuffle_is_seeded_and_keeps_the_answer():
    first, second = loaded(), loaded()
    assert [s.choices for s in first] == [s.choices for s in second]
    assert len({s.target for s in first}) > 1, "the correct answer must not always be A"
    for sample, record in zip(first, read_jsonl(DATA / "test.jsonl")):
        assert sample.choices["ABCD".index(sample.target)] == record["Correct Answer"]
    # a question's order depends on its Record ID and the seed, not on the other questions
    record = read_jsonl(DATA / "test.jsonl")[3]
    alone = module("gpqamain").record_to_sample(record, spec("gpqamain")["choice_seed"])
    assert alone.choices == first[3].choices


def test_extract_choice():
    extract = module("gpqamain").extract_choice
    assert extract("ANSWER: **C**") == "C"
    assert extract("ANSWER: B\nwait\nANSWER: D") == "D"
    assert extract("The answer: a lot of thought") is None
    assert extract("<think>ANSWER: A") is None
