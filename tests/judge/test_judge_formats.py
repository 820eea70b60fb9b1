"""ptb.judge.formats, one hiding place per case: a test item written in a format the check must open
(Arrow files and streams, dictionary and struct columns, NumPy text and object arrays, pickles
inside pickles, zstd without its package, a stream that cannot seek, a reader that fails half-way)
comes out as text. Each case writes the item with the format's own library, not by hand."""

from __future__ import annotations

import base64
import gzip
import io
import json
import os
import pickle
import subprocess
import zipfile
import zlib

import numpy as np
import pyarrow as pa
import pytest
import zstandard
from transformers import AutoTokenizer

from ptb.judge import formats
from ptb.judge.token_ids import TokenIds

ITEM = "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May."


def found(data: bytes, stream=None) -> tuple[str, list[str]]:
    notes: list[str] = []
    text = b"\n".join(formats.texts(stream or io.BytesIO(data), notes)).decode("utf-8", "replace")
    return text, notes


def arrow_file(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def arrow_stream(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=True)
    return buffer.getvalue()


CASES = {
    "arrow file, dictionary-encoded column": lambda: arrow_file(
        pa.table({"q": pa.array([ITEM, "other", ITEM]).dictionary_encode()})
    ),
    "arrow stream, struct of a list of strings": lambda: arrow_stream(
        pa.table({"row": pa.array([{"id": 1, "turns": ["hello", ITEM]}])})
    ),
    "arrow file, binary and large strings": lambda: arrow_file(
        pa.table({"b": pa.array([ITEM.encode()], pa.binary()), "s": pa.array([ITEM], pa.large_string())})
    ),
    "npy of unicode strings": lambda: npy(np.array([ITEM, "x"])),
    "npy of Python objects (pickled, never loaded)": lambda: npy(np.array([{"q": ITEM}, None], dtype=object)),
    "pickle holding a pickle's bytes": lambda: pickle.dumps({"blob": pickle.dumps([ITEM])}),
    "base64 of the item beside a blob that is not base64": lambda: (
        b"x = '" + b"A" * 61 + b"'\nsecret = '" + base64.b64encode(ITEM.encode() * 2) + b"'\n"
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_item_is_found(case):
    text, notes = found(CASES[case]())
    assert ITEM in text, (case, notes, text[:300])


def test_zstd_without_its_package_is_read_raw_and_says_so(monkeypatch):
    data = zstandard.ZstdCompressor().compress(ITEM.encode() * 3)
    assert ITEM in found(data)[0]
    monkeypatch.setattr(formats, "zstandard", None)
    text, notes = found(data)
    assert ITEM not in text and notes == ["zstd: the zstandard package is not installed; read raw"]


def test_a_stream_that_cannot_seek_is_spooled(tmp_path):
    """A zip (read from its end) arriving through a pipe: spooled, then opened."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("data/test.jsonl", '{"question": "%s"}\n' % ITEM)
    with piped(buffer.getvalue()) as stream:
        assert not stream.seekable()
        text, notes = found(b"", stream)
    assert ITEM in text and not notes


def piped(data: bytes):
    read, write = os.pipe()
    with os.fdopen(write, "wb") as pipe:
        pipe.write(data)
    return os.fdopen(read, "rb", buffering=0)


@pytest.mark.parametrize("through", ["a file", "a pipe"])
def test_a_reader_that_fails_half_way_keeps_what_it_read_and_reads_the_rest_raw(through):
    """A crafted pickle: the strings before the bad opcode come from the pickle reader, the text
    after it raw (all of the file again where it rewinds, the unread rest through a pipe)."""
    after = ITEM.replace("48", "49")
    data = pickle.dumps([ITEM])[:-1] + b"\xfe\xfe" + after.encode()
    stream = io.BytesIO(data) if through == "a file" else piped(data)
    with stream:
        text, notes = found(b"", stream)
    assert ITEM in text and after in text
    assert notes and notes[0].startswith("pickle: ")


# -- forms added for the second red team (issue 27): token ids, zlib and git, wide text, blobs --


@pytest.fixture(scope="module")
def tokenizer_dir(tmp_path_factory):
    from judge_helpers import CORPUS  # noqa: PLC0415

    from ptb.inputs.demo_models import tiny_tokenizer  # noqa: PLC0415

    folder = tmp_path_factory.mktemp("tokenizer")
    tiny_tokenizer(CORPUS).save_pretrained(folder)
    return folder


def token_ids(tokenizer_dir) -> list[int]:
    return AutoTokenizer.from_pretrained(tokenizer_dir).encode(ITEM)


def decoded(data: bytes, tokenizer_dir) -> str:
    notes: list[str] = []
    ids = TokenIds(tokenizer_dir)
    return b"\n".join(formats.texts(io.BytesIO(data), notes, ids=ids)).decode("utf-8", "replace")


def safetensors_of(values: np.ndarray) -> bytes:
    from safetensors.numpy import save  # noqa: PLC0415

    return save({"input_ids": values})


def torch_saved(values: np.ndarray) -> bytes:
    import torch  # noqa: PLC0415

    buffer = io.BytesIO()
    torch.save({"input_ids": torch.tensor(values), "weight": torch.ones(3)}, buffer)
    return buffer.getvalue()


def npz(values: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, input_ids=values)
    return buffer.getvalue()


def tokenized_arrow(rows: list[list[int]]) -> bytes:
    """A tokenized datasets cache file: input_ids list<int32>, attention_mask, labels with -100."""
    table = pa.table(
        {
            "input_ids": pa.array(rows, pa.list_(pa.int32())),
            "attention_mask": pa.array([[1] * len(r) for r in rows], pa.list_(pa.int8())),
            "labels": pa.array([[-100] * 3 + r[3:] for r in rows], pa.list_(pa.int64())),
        }
    )
    return arrow_stream(table)


ID_CASES = {
    "npy int32": lambda ids: npy(np.array(ids, dtype=np.int32)),
    "npy uint16, 2 rows, Fortran order (not what the decoder was written for)": lambda ids: npy(
        np.asfortranarray(np.array([ids, ids], dtype=np.uint16))
    ),
    "npy int64 big endian": lambda ids: npy(np.array(ids, dtype=">i8")),
    "npz compressed": lambda ids: npz(np.array(ids, dtype=np.int64)),
    "safetensors I64": lambda ids: safetensors_of(np.array(ids, dtype=np.int64)),
    "torch.save int64 tensor": lambda ids: torch_saved(np.array(ids, dtype=np.int64)),
    "arrow datasets cache, list<int32> with masks and -100 labels": lambda ids: tokenized_arrow([ids, ids]),
    "JSON list of ids": lambda ids: json.dumps({"input_ids": ids}).encode(),
    "ids as lines of text": lambda ids: "\n".join(
        " ".join(map(str, ids[i : i + 5])) for i in range(0, len(ids), 5)
    ).encode(),
    "pickle of a list of ids": lambda ids: pickle.dumps({"ids": ids}),
    "JSON ids, gzip, base64 (nested)": lambda ids: base64.b64encode(gzip.compress(json.dumps(ids).encode())),
}


@pytest.mark.parametrize("case", sorted(ID_CASES))
def test_token_ids_are_decoded_with_the_base_tokenizer(case, tokenizer_dir):
    data = ID_CASES[case](token_ids(tokenizer_dir))
    assert ITEM in decoded(data, tokenizer_dir), case
    assert ITEM not in found(data)[0]  # without the tokenizer they are numbers


def test_integer_arrays_that_are_not_token_ids_cost_nothing(tokenizer_dir):
    ids = TokenIds(tokenizer_dir)
    rng = np.random.default_rng(0)
    for values in (
        np.ones(10_000, dtype=np.int64),  # an attention mask
        rng.integers(10**6, 10**9, 10_000),  # hashes, timestamps: outside the vocabulary
        np.arange(12),  # too short for a 13-gram
    ):
        assert list(ids.texts(values)) == []
    assert ids.decoded == 0
    # in the vocabulary: decoded (random text, no n-gram of an item), and within the budget
    small = TokenIds(tokenizer_dir, budget=1000)
    vocabulary = len(AutoTokenizer.from_pretrained(tokenizer_dir))
    assert ITEM not in b"".join(small.texts(rng.integers(0, vocabulary, 5000))).decode("utf-8", "replace")
    assert small.decoded == 1000 and small.left_over == 4000


def git_object(kind: bytes, content: bytes) -> bytes:
    return zlib.compress(kind + b" %d\x00" % len(content) + content)


WIDTHS = [40, 60, 64, 76, 80, None]


def wrapped(blob: bytes, width) -> bytes:
    if width is None:
        return blob
    return b"\n".join(blob[i : i + width] for i in range(0, len(blob), width))


FORM_CASES = {
    "zlib.compress": lambda: zlib.compress(ITEM.encode()),
    "git loose object": lambda: git_object(b"blob", f"notes\n{ITEM}\n".encode()),
    "base64 in a zlib in a git object (nesting it was not written for)": lambda: git_object(
        b"blob", b"DATA = '" + base64.b64encode(zlib.compress(ITEM.encode() * 2)) + b"'\n"
    ),
    "utf-16-le without BOM": lambda: ITEM.encode("utf-16-le"),
    "utf-16-be without BOM": lambda: ITEM.encode("utf-16-be"),
    "utf-32-le without BOM": lambda: ITEM.encode("utf-32-le"),
    "utf-32-be without BOM": lambda: ITEM.encode("utf-32-be"),
    "utf-16-be after a NUL in a text file, odd offset": lambda: b"header\x00\n" + ITEM.encode("utf-16-be"),
    "base32 wrapped at 72": lambda: wrapped(base64.b32encode(ITEM.encode()), 72),
    "hex wrapped at 64": lambda: wrapped(ITEM.encode().hex().encode(), 64),
    "urlsafe base64 without padding": lambda: base64.urlsafe_b64encode(ITEM.encode() + b"??>>").rstrip(b"="),
    "base64 as a Python list of 20-character pieces": lambda: repr(
        [base64.b64encode(ITEM.encode()).decode()[i : i + 20] for i in range(0, 200, 20)]
    ).encode(),
    **{
        f"base64 wrapped at {width}": (
            lambda width=width: wrapped(base64.b64encode(ITEM.encode() * 2), width)
        )
        for width in WIDTHS
    },
}


@pytest.mark.parametrize("case", sorted(FORM_CASES))
def test_the_item_is_found_in_every_form(case):
    text, notes = found(FORM_CASES[case]())
    assert ITEM in text, (case, notes, text[:300])


def test_a_git_pack_is_read_object_by_object(tmp_path):
    repo = tmp_path / "repo"
    git(tmp_path, "init", "-q", str(repo))
    (repo / "a.txt").write_text(ITEM + "\n")
    git(repo, "add", "a.txt")
    git(repo, "commit", "-qm", "one")
    git(repo, "gc", "-q")
    (pack,) = (repo / ".git/objects/pack").glob("*.pack")
    assert ITEM in found(pack.read_bytes())[0]


def git(cwd, *args):
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
        cwd=cwd,
        check=True,
        env={"PATH": os.environ["PATH"]},
    )


def test_honest_forms_of_the_same_kinds_yield_no_item(tokenizer_dir):
    """Text of other words in every form: decoded, and the item is not made up from it."""
    other = "The quick brown fox jumps over the lazy dog again and again in the park. " * 4
    for data in (
        zlib.compress(other.encode()),
        other.encode("utf-16-le"),
        base64.b64encode(other.encode()),
        os.urandom(4096),
        base64.b64encode(os.urandom(3000)),
    ):
        assert ITEM not in decoded(data, tokenizer_dir)
