"""AIME 2025: inspect_evals' prompt, the final number per protocol, offline."""

from ptb.core.protocol import CORRECTED, POSTTRAINBENCH_V1
from ptb.core.tasks import load_task, read_jsonl, spec, task_dir
from ptb.evaluation.scripted_model import by_fragment, run, scripted, values

DATA = task_dir("aime2025") / "data"


def test_scores_per_protocol(tmp_path):
    records = read_jsonl(DATA / "test.jsonl")
    p = [r["problem"] for r in records]
    a = [int(r["answer"]) for r in records]
    model = scripted(
        by_fragment(
            {
                p[0]: f"Inclusion-exclusion.\nANSWER: {a[0]}",
                p[1]: f"ANSWER: {a[1] + 1}",
                p[2]: "",
                p[3]: f"<think>first try: ANSWER: {a[3] + 2}</think>\nRechecked.\nANSWER: {a[3]}",
                p[4]: f"The count is \\boxed{{{a[4]}}}.",
                p[5]: f"<think>\nso far it is {a[5]}",  # cut off while thinking
            }
        )
    )
    expected = {POSTTRAINBENCH_V1: ["C", "I", "I", "C", "C", "C"], CORRECTED: ["C", "I", "I", "C", "C", "I"]}
    for protocol, values_expected in expected.items():
        log = run(load_task("aime2025", DATA, protocol=protocol), model, tmp_path / protocol)
        assert list(values(log).values()) == values_expected, protocol
    assert "Remember to put your answer on its own line" in log.samples[0].messages[0].text


def test_fixtures_are_marked_and_in_the_hub_schema():
    records = read_jsonl(DATA / "test.jsonl")
    assert records and all(set(r) == {"problem", "answer", "id"} for r in records)
    assert all(r["problem"].startswith("FIXTURE") for r in records)
    assert spec("aime2025")["samples"] == 30
