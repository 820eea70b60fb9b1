"""ptb.judge.formats, one hiding place per case: a test item written in a format the check must open
(Arrow files and streams, dictionary and struct columns, NumPy text and object arrays, pickles
inside pickles, zstd without its package, a stream that cannot seek, a reader that fails half-way)
comes out as text. Each case writes the item with the format's own library, not by hand."""

from __future__ import annotations

import base64
import io
import os
import pickle
import zipfile

import numpy as np
import pyarrow as pa
import pytest
import zstandard

from ptb.judge import formats

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
