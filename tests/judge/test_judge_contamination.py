"""contamination: n-gram overlap between data files left in the job dir and the test set."""

import gzip
import json

import pytest
from judge_helpers import check, texts, train_lines

from ptb.io import sha256_file
from ptb.judge import contamination


def jsonl(records):
    return "".join(json.dumps(r) + "\n" for r in records)


def test_disjoint_training_data_is_not_flagged(run):
    run.write("data/train.jsonl", jsonl(train_lines(200)))
    run.write("notes.txt", "I trained on the training split for 3 epochs with a learning rate of 1e-5.\n")
    result = check(run.review(), "contamination")
    assert result["passed"], result
    assert result["evidence"]["files_scanned"] == 2 and result["evidence"]["matched_items"] == 0


def test_training_on_test_questions_is_flagged(run):
    leaked = [{"prompt": item["question"], "completion": "x"} for item in run.items[:5]]
    run.write("data/train.jsonl", jsonl(train_lines(100) + leaked))
    verdict = run.review()
    result = check(verdict, "contamination")
    assert not result["passed"]
    evidence = result["evidence"]
    assert evidence["matched_items"] == 5
    assert evidence["matching_files"] == [{"file": "data/train.jsonl", "items": 5}]
    assert evidence["matched_snippets"][0].startswith(run.items[0]["question"][:40])
    assert verdict["outcome"] == "disqualified"


def test_tolerance_allows_a_few_chance_matches(run):
    run.write("train.jsonl", jsonl([{"text": run.items[0]["question"]}, {"text": run.items[1]["question"]}]))
    assert check(run.review(), "contamination")["passed"]
    assert not check(run.review({"contamination_tolerance": 1}), "contamination")["passed"]


def test_paraphrase_with_the_same_13_words_is_flagged(run):
    # different casing and punctuation, embedded in longer text: normalization still matches
    question = run.items[3]["question"].upper().replace(" ", "  ,")
    run.write("scratch/a.txt", "Here is something I found:\n" + question + "\nend\n")
    run.write("scratch/b.txt", run.items[4]["answer"] + "\n" + run.items[5]["answer"])
    result = check(run.review({"contamination_tolerance": 0}), "contamination")
    assert result["evidence"]["matched_items"] == 3


@pytest.mark.parametrize("fmt", ["json", "csv", "parquet", "arrow", "jsonl.gz"])
def test_other_formats_are_read(run, fmt):
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [{"q": item["question"], "a": item["answer"]} for item in run.items[:4]] + train_lines(5)
    path = run.job_dir / f"cache/data.{fmt}"
    path.parent.mkdir()
    if fmt == "json":
        path.write_text(json.dumps({"splits": {"train": rows}}))
    elif fmt == "csv":
        import csv

        with open(path, "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerows([[r.get("q", r.get("prompt")), r.get("a", r.get("completion"))] for r in rows])
    elif fmt == "jsonl.gz":
        with gzip.open(path, "wt") as handle:
            handle.write(jsonl(rows))
    else:
        table = pa.table(
            {
                "q": [item["question"] for item in run.items[:4]],
                "a": [item["answer"] for item in run.items[:4]],
            }
        )
        if fmt == "parquet":
            pq.write_table(table, path)
        else:  # datasets' save_to_disk format: an Arrow IPC stream
            with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_stream(sink, table.schema) as writer:
                writer.write_table(table)
    result = check(run.review(), "contamination")
    assert result["evidence"]["matched_items"] == 8, result  # 4 questions + 4 answers


def test_handed_out_files_and_tokenizers_are_not_scanned(run):
    # the handout (recorded by the workflow) may quote test items; a model's vocab files are not data
    run.write("examples.txt", "\n".join(texts(run.items)))
    run.handout = {**run.handout, "examples.txt": sha256_file(run.job_dir / "examples.txt")}
    run.write("final_model/tokenizer.json", json.dumps({"x": run.items[0]["question"]}))
    run.write("checkpoints/step-10/config.json", json.dumps({"x": run.items[1]["question"]}))
    assert check(run.review(), "contamination")["evidence"]["files_scanned"] == 0


def test_symlinked_data_is_not_followed(run, tmp_path):
    outside = tmp_path / "outside.jsonl"
    outside.write_text("\n".join(texts(run.items)))
    (run.job_dir / "link.jsonl").symlink_to(outside)
    assert check(run.review(), "contamination")["evidence"]["files_scanned"] == 0


def test_short_test_texts_are_one_gram():
    index = contamination.GramIndex(
        ["What is 2 plus 2?", "yes", "a b c d e f g h i j k l m n o"], n=13, min_words=3
    )
    assert index.skipped == 1  # "yes" would match any corpus
    assert index.scan(["Question: what is 2 plus 2? Answer: 4"]) == {0}
    assert index.scan(["what is 2 plus 3"]) == set()


def test_a_gram_split_across_chunks_is_found():
    words = "one two three four five six seven eight nine ten eleven twelve thirteen".split()
    index = contamination.GramIndex([" ".join(words)], n=13, min_words=3)
    assert index.scan([" ".join(words[:6]), " ".join(words[6:])]) == {0}
    assert index.scan([" ".join(words[:6]), "zero", " ".join(words[6:])]) == set()


def test_corrupt_file_is_evidence_not_a_crash(run):
    run.write("broken.parquet", "not a parquet file")
    result = check(run.review(), "contamination")
    assert result["passed"] and "broken.parquet" in result["evidence"]["unreadable"][0]


def test_a_file_that_breaks_its_parser_is_still_scanned_as_text(run):
    # "PAR1" framing makes it look like parquet to a casual reader; pyarrow rejects it
    run.write("hidden.parquet", "PAR1 " + "\n".join(texts(run.items[:5])) + " PAR1")
    result = check(run.review(), "contamination")
    assert not result["passed"] and result["evidence"]["matched_items"] == 10
    assert "hidden.parquet" in result["evidence"]["unreadable"][0]


def test_raw_reader_does_not_cut_words(tmp_path, monkeypatch):
    monkeypatch.setattr(contamination, "CHUNK_CHARS", 5)
    (tmp_path / "f").write_bytes(b"alpha beta gamma delta")
    assert contamination.tokens(" ".join(contamination._raw(tmp_path / "f"))) == [
        "alpha",
        "beta",
        "gamma",
        "delta",
    ]
