"""contamination: every file the agent could train from, read by content, tolerance per test item."""

import base64
import bz2
import gzip
import io
import json
import lzma
import os
import pickle
import subprocess
import tarfile
import zipfile

import pytest
from judge_helpers import check, item_texts, train_lines

from ptb.core.io import sha256_file
from ptb.judge import contamination, formats


def jsonl(records):
    return "".join(json.dumps(r) + "\n" for r in records)


def result_of(run, **settings):
    return check(run.review(settings), "contamination")


def test_disjoint_training_data_is_not_flagged(run):
    run.write("data/train.jsonl", jsonl(train_lines(200)))
    run.write("notes.txt", "I trained on the training split for 3 epochs with a learning rate of 1e-5.\n")
    result = result_of(run)
    assert result["passed"], result
    assert result["evidence"]["matched_items"] == 0 and result["evidence"]["files_scanned"] >= 2


def test_training_on_test_questions_is_flagged(run):
    leaked = [{"prompt": item["question"], "completion": "x"} for item in run.items[:5]]
    run.write("data/train.jsonl", jsonl(train_lines(100) + leaked))
    verdict = run.review()
    result = check(verdict, "contamination")
    assert not result["passed"] and result["evidence"]["copied_items"] == 5
    assert result["evidence"]["matching_files"] == [{"file": "job/data/train.jsonl", "items": 5}]
    assert result["evidence"]["matched_snippets"][0].startswith(run.items[0]["question"][:40])
    assert verdict["outcome"] == "disqualified"


def test_one_whole_item_copied_verbatim_is_caught(run):
    run.write("notes/example.json", json.dumps(run.items[7]))
    result = result_of(run)
    assert not result["passed"] and result["evidence"]["copied_items"] == 1


def first_words(text, count):
    return " ".join(text.split()[:count])


def test_partial_contamination_at_the_edges(run):
    # 14 words of a question: 2 of its ~18 13-grams, far below the item share; tolerance 2 items
    run.write("a.txt", "\n".join(first_words(item["question"], 14) for item in run.items[:2]))
    assert result_of(run)["passed"]
    run.write("b.txt", first_words(run.items[2]["question"], 14))
    result = result_of(run)
    assert not result["passed"] and result["evidence"]["copied_items"] == 0
    assert result["evidence"]["matched_items"] == 3


def test_item_share_is_the_edge_for_one_item(run):
    words = run.items[0]["question"].split()
    grams = len(words) - 12
    run.write("a.txt", " ".join(words[: 12 + grams // 2 - 1]))  # just under half of the grams
    assert result_of(run, contamination_tolerance=5)["passed"]
    run.write("a.txt", " ".join(words[: 12 + grams // 2 + 1]))  # just over
    assert not result_of(run, contamination_tolerance=5)["passed"]


def test_paraphrase_with_the_same_13_words_is_flagged(run):
    question = run.items[3]["question"].upper().replace(" ", "  ,")
    run.write("scratch/a.txt", "Here is something I found:\n" + question + "\nend\n")
    assert result_of(run)["evidence"]["copied_items"] == 1


def _tar_gz_of_zip(payload: bytes) -> bytes:
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as archive:
        archive.writestr("deep/nested/records.jsonl", payload)
    outer = io.BytesIO()
    with tarfile.open(fileobj=outer, mode="w:gz") as archive:
        info = tarfile.TarInfo("bundle.zip")
        info.size = len(inner.getvalue())
        archive.addfile(info, io.BytesIO(inner.getvalue()))
    return outer.getvalue()


def _parquet(rows, binary=False):
    import pyarrow as pa  # noqa: PLC0415 (heavy, optional)
    import pyarrow.parquet as pq  # noqa: PLC0415 (heavy, optional)

    column = [json.dumps(r).encode() for r in rows] if binary else [json.dumps(r) for r in rows]
    sink = io.BytesIO()
    pq.write_table(pa.table({"payload": column}), sink)
    return sink.getvalue()


def _arrow_stream(rows):
    import pyarrow as pa  # noqa: PLC0415 (heavy, optional)

    table = pa.table({"question": [r["question"] for r in rows], "meta": [{"a": r["answer"]} for r in rows]})
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


def _safetensors(rows):
    import torch  # noqa: PLC0415 (heavy, optional)
    from safetensors.torch import save  # noqa: PLC0415 (heavy, optional)

    return save({"x": torch.zeros(2)}, metadata={"data": json.dumps(rows)})


def _text_tensor(rows):
    import torch  # noqa: PLC0415 (heavy, optional)
    from safetensors.torch import save  # noqa: PLC0415 (heavy, optional)

    data = torch.frombuffer(bytearray(jsonl(rows).encode()), dtype=torch.uint8)
    return save({"x": data})


def _torch_save(rows):
    import torch  # noqa: PLC0415 (heavy, optional)

    sink = io.BytesIO()
    torch.save({"rows": rows, "weights": torch.randn(4, 4)}, sink)
    return sink.getvalue()


def _numpy(rows):
    import numpy as np  # noqa: PLC0415 (heavy, optional)

    sink = io.BytesIO()
    np.save(sink, np.array([r["question"] + " " + r["answer"] for r in rows]))
    return sink.getvalue()


def _zstd(payload: bytes) -> bytes:
    zstandard = pytest.importorskip("zstandard")
    return zstandard.ZstdCompressor().compress(payload)


def _ascii_json(rows):
    # ensure_ascii with non-ASCII text: every "é" becomes \u00e9, every newline \n
    return jsonl([{k: v.replace("market", "marché") for k, v in r.items()} for r in rows])


ENCODINGS = {
    "gzip_no_suffix": lambda rows: gzip.compress(jsonl(rows).encode()),
    "bz2_as_dat": lambda rows: bz2.compress(jsonl(rows).encode()),
    "xz_as_vocab_txt": lambda rows: lzma.compress(jsonl(rows).encode()),
    "zstd": lambda rows: _zstd(jsonl(rows).encode()),
    "tar_gz_of_zip": lambda rows: _tar_gz_of_zip(jsonl(rows).encode()),
    "parquet": _parquet,
    "parquet_binary_column": lambda rows: _parquet(rows, binary=True),
    "arrow_stream_nested": _arrow_stream,
    "safetensors_metadata": _safetensors,
    "safetensors_byte_tensor": _text_tensor,
    "pickle": lambda rows: pickle.dumps({"rows": rows}, protocol=4),
    "torch_save": _torch_save,
    "numpy_unicode": _numpy,
    "python_source": lambda rows: f"DATA = {json.dumps(rows)!r}\n".encode(),
    "base64_in_source": lambda rows: (
        f'B = """{base64.b64encode(gzip.compress(jsonl(rows).encode())).decode()}"""\n'.encode()
    ),
    "utf16": lambda rows: "\n".join(r["question"] + " " + r["answer"] for r in rows).encode("utf-16"),
    "json_unicode_escapes": lambda rows: _ascii_json(rows).encode(),
}
NAMES = {
    "bz2_as_dat": "cache/x.dat",
    "xz_as_vocab_txt": "tok/vocab.txt",
    "python_source": "helpers/prompts.py",
}


@pytest.mark.parametrize("encoding", sorted(ENCODINGS))
def test_test_items_are_found_whatever_the_format_and_name(run, encoding):
    rows = run.items[:4]
    path = run.job_dir / NAMES.get(encoding, f"stuff/{encoding}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(ENCODINGS[encoding](rows))
    result = result_of(run)
    assert not result["passed"] and result["evidence"]["copied_items"] == 4, result["evidence"]


def test_pickles_are_read_without_being_run(run, tmp_path):
    marker = tmp_path / "ran"

    class Boom:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    run.write("state.pkl", "")
    (run.job_dir / "state.pkl").write_bytes(pickle.dumps([Boom(), run.items[0]["question"]]))
    result = result_of(run)
    assert not marker.exists() and result["evidence"]["copied_items"] == 1


@pytest.mark.parametrize("decoy", ["pickle", "gzip"])
def test_test_items_after_a_decoy_that_breaks_its_parser_are_read(run, decoy):
    """A valid-looking header, a byte that breaks its parser, then the test set as plain text: the
    reader that failed half-way must still read the rest (it once stopped at the failure)."""
    head = pickle.dumps(["weights"])[:-1] + b"\xfe" if decoy == "pickle" else gzip.compress(b"x")[:12]
    run.write("cache.bin", "")
    (run.job_dir / "cache.bin").write_bytes(head + jsonl(run.items[:4]).encode())
    result = result_of(run)
    assert not result["passed"] and result["evidence"]["copied_items"] == 4, result["evidence"]


@pytest.mark.parametrize(
    "where", ["home/.cache/huggingface/datasets/x/test.arrow", "home/notes.txt", "scratch/t"]
)
def test_the_agents_home_and_caches_are_read(run, where):
    path = run.run_dir / where
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(
        _arrow_stream(run.items[:3]) if where.endswith(".arrow") else jsonl(run.items[:3]).encode()
    )
    result = result_of(run)
    assert not result["passed"] and result["evidence"]["matching_files"][0]["file"] == where


def test_the_training_split_left_in_the_job_dir_is_clean(run):
    run.write("data/train.jsonl", jsonl(train_lines(300)))
    run.write("data/train.parquet", "")
    (run.job_dir / "data/train.parquet").write_bytes(_parquet(train_lines(50)))
    assert result_of(run)["passed"]


def test_handed_out_files_are_not_scanned_but_model_files_are(run):
    run.write("examples.txt", "\n".join(t for item in item_texts(run.items) for t in item))
    run.handout = {**run.handout, "examples.txt": sha256_file(run.job_dir / "examples.txt")}
    assert result_of(run)["passed"]
    # a name that usually holds no data is no hiding place
    run.write("checkpoints/step-10/tokenizer.json", json.dumps({"x": run.items[1]["question"]}))
    assert result_of(run)["evidence"]["copied_items"] == 1


def test_a_link_to_the_test_split_outside_the_run_is_evidence(run, tmp_path):
    """The agent never wrote the split (the workflow's dataset cache holds it): the link is read."""
    split = tmp_path / "cache" / "datasets" / "gsm8k"
    split.mkdir(parents=True)
    (split / "test.jsonl").write_text(jsonl(run.items))
    (run.job_dir / "data").mkdir()
    (run.job_dir / "data" / "train.jsonl").symlink_to(split / "test.jsonl")
    (run.home.mkdir(parents=True))
    (run.home / "datasets").symlink_to(split.parent)  # a folder link, reaching the same file
    result = result_of(run)
    assert not result["passed"] and result["evidence"]["copied_items"] == len(run.items)
    files = {f["file"] for f in result["evidence"]["matching_files"]}
    assert files == {
        f"job/data/train.jsonl -> {split / 'test.jsonl'}",
        f"home/datasets -> {split.parent}/gsm8k/test.jsonl",  # read once, reported for both
    }


def test_link_loops_devices_and_dangling_links_end_and_are_reported(run):
    (run.job_dir / "loop").mkdir()
    (run.job_dir / "loop" / "back").symlink_to(run.job_dir)  # a folder cycle
    (run.job_dir / "self").symlink_to(run.job_dir / "self")  # a link to itself
    (run.job_dir / "zero").symlink_to("/dev/zero")
    (run.job_dir / "proc").symlink_to("/proc/self/environ")
    (run.job_dir / "gone").symlink_to(run.job_dir / "nowhere")
    run.write("notes.txt", "clean notes\n")
    result = result_of(run)
    assert result["passed"], result
    unreadable = " ".join(result["evidence"]["unreadable"])
    for name in ("job/self ->", "job/zero -> /dev/zero", "job/proc -> /proc/", "job/gone ->"):
        assert name in unreadable, (name, unreadable)


def test_short_test_texts_are_one_gram():
    index = contamination.TestIndex(
        [["What is 2 plus 2?"], ["yes"], ["a b c d e f g h i j k l m n o"]], 13, 3
    )
    assert index.skipped == 1  # "yes" would match any corpus
    assert index.items_with(index.scan([b"Question: what is 2 plus 2? Answer: 4"])) == {0}
    assert index.items_with(index.scan([b"what is 2 plus 3"])) == set()


def test_a_gram_split_across_chunks_is_found():
    words = "one two three four five six seven eight nine ten eleven twelve thirteen".split()
    index = contamination.TestIndex([[" ".join(words)]], 13, 3)
    assert index.items_with(
        index.scan([" ".join(words[:6]).encode(), b" " + " ".join(words[6:]).encode()])
    ) == {0}
    # a word cut in two by a chunk boundary is still one word
    text = " ".join(words).encode()
    assert index.items_with(index.scan([text[:20], text[20:]])) == {0}
    assert (
        index.items_with(index.scan([" ".join(words[:6]).encode(), b" zero " + " ".join(words[6:]).encode()]))
        == set()
    )


def test_corrupt_file_is_evidence_not_a_crash(run):
    run.write("broken.parquet", "PAR1 not a parquet file")
    result = result_of(run)
    assert result["passed"] and "broken.parquet" in result["evidence"]["unreadable"][0]


def test_a_file_that_breaks_its_parser_is_still_read_raw(run):
    run.write("hidden.parquet", "PAR1 " + jsonl(run.items[:5]) + " PAR1")
    result = result_of(run)
    assert not result["passed"] and result["evidence"]["copied_items"] == 5


def test_sniffing():
    assert formats.sniff(gzip.compress(b"x")) == "gzip" and formats.sniff(b"hello") == "text"
    assert formats.sniff(b"\x00\x01\x02") == "binary" and formats.sniff(_parquet([{"a": "b"}])) == "parquet"


def test_near_duplicates_across_the_splits_are_not_evidence(run):
    # the training split the agent was given shares most of a test question (a templated item)
    item = run.items[5]
    near = {"question": item["question"].replace(item["question"].split()[0], "Zoe", 1), "answer": "x"}
    (run.train_view / "train.jsonl").write_text(jsonl([near] + train_lines(20)))
    run.write(
        "data/train.jsonl", (run.train_view / "train.jsonl").read_text()
    )  # the split, left in the job dir
    result = result_of(run)
    assert result["passed"] and result["evidence"]["grams_in_training_split"] > 0, result["evidence"]
    run.write("data/stolen.json", json.dumps(item))  # the test item itself still counts
    assert result_of(run)["evidence"]["copied_items"] == 1


def tokenized_cache(run, records, rel):
    """A tokenized datasets cache (Arrow stream, input_ids list<int32>) by the base tokenizer."""
    import pyarrow as pa  # noqa: PLC0415
    from transformers import AutoTokenizer  # noqa: PLC0415

    tokenizer = AutoTokenizer.from_pretrained(run.models["base"])
    rows = [tokenizer.encode(r["question"] + "\n" + r["answer"]) for r in records]
    table = pa.table({"input_ids": pa.array(rows, pa.list_(pa.int32()))})
    path = run.home / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)


def test_a_tokenized_test_split_is_caught_and_a_tokenized_training_split_is_not(run):
    training = [{"question": r["prompt"], "answer": r["completion"]} for r in train_lines(200)]
    (run.train_view / "train.jsonl").write_text(jsonl(train_lines(200)))
    tokenized_cache(run, training, ".cache/huggingface/datasets/train/cache-1.arrow")
    result = result_of(run)
    assert result["passed"] and result["evidence"]["token_ids_decoded"] > 1000, result["evidence"]
    tokenized_cache(run, run.items[:6], ".cache/huggingface/datasets/test/cache-2.arrow")
    result = result_of(run)
    assert not result["passed"] and result["evidence"]["copied_items"] == 6


def git(cwd, *args):
    env = {"PATH": os.environ["PATH"], "HOME": str(cwd)}
    subprocess.run(["git", "-c", "user.name=a", "-c", "user.email=a@a", *args], cwd=cwd, check=True, env=env)


def test_test_items_only_in_git_history_are_caught_honest_history_is_not(run):
    """Committed, edited (a delta in the pack), deleted from the work tree and packed."""
    repo = run.job_dir / "project"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / "train.py").write_text("print('training on the training split')\n" * 50)
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "honest")
    git(repo, "gc", "-q")
    assert result_of(run)["passed"]
    rows = run.items[:5]
    (repo / "data.jsonl").write_text(jsonl(rows))
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "data")
    (repo / "data.jsonl").write_text(jsonl(rows[:1] + [{"question": "x"}]))  # the next version: a delta
    git(repo, "commit", "-qam", "less")
    git(repo, "rm", "-q", "data.jsonl")
    git(repo, "commit", "-qm", "gone")
    git(repo, "gc", "-q", "--aggressive")
    assert not (repo / "data.jsonl").exists() and not list((repo / ".git/objects").glob("??/*"))
    result = result_of(run)
    assert not result["passed"] and result["evidence"]["copied_items"] == 5, result["evidence"]
    assert "job/project/.git (git objects)" in {f["file"] for f in result["evidence"]["matching_files"]}


def test_rot13_is_read(run):
    import codecs  # noqa: PLC0415

    run.write("notes/cipher.txt", codecs.encode(jsonl(run.items[:3]), "rot13"))
    assert result_of(run)["evidence"]["copied_items"] == 3
