"""Check `contamination`: data files the agent left in the job dir share n-grams with the test set.

Text is normalized to lowercase alphanumeric word tokens. The test set's n-grams go into one
dict (gram -> test items) built once; every data file is then streamed through a sliding
window of dict lookups, so the cost is linear in the training data.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from ptb.judge.common import EVIDENCE_CAP, result, walk_files

NAME = "contamination"
DATA_SUFFIXES = (".jsonl", ".json", ".csv", ".tsv", ".parquet", ".txt", ".arrow")
# files that sit next to every model or checkpoint: vocabularies and configs, not training data
MODEL_FILES = {
    "tokenizer.json",
    "tokenizer_config.json",
    "vocab.json",
    "merges.txt",
    "vocab.txt",
    "special_tokens_map.json",
    "added_tokens.json",
    "config.json",
    "generation_config.json",
    "trainer_state.json",
    "model.safetensors.index.json",
    "preprocessor_config.json",
}
WORD = re.compile(r"[^\W_]+")
CHUNK_CHARS = 1 << 20
SNIPPET = 120


def tokens(text: str) -> list[str]:
    return WORD.findall(text.lower())


class GramIndex:
    """The test items' n-grams. A text shorter than n words is one gram of its own length."""

    def __init__(self, test_texts: Iterable[str], n: int, min_words: int):
        self.n = n
        self.texts: list[str] = []
        self.grams: dict[tuple, list[int]] = {}
        self.short_lengths: set[int] = set()
        self.skipped = 0
        seen: dict[tuple, int] = {}
        for text in test_texts:
            words = tuple(tokens(text))
            if len(words) < min_words:
                # "4" or "yes" is in every corpus: matching it says nothing about contamination
                self.skipped += 1
                continue
            if words in seen:  # the same item twice (e.g. a prompt repeated as a field) counts once
                continue
            item = seen[words] = len(self.texts)
            self.texts.append(text)
            if len(words) < n:
                self.short_lengths.add(len(words))
                self._add(words, item)
            for i in range(len(words) - n + 1):
                self._add(words[i : i + n], item)
        self.lengths = sorted({n, *self.short_lengths})

    def _add(self, gram: tuple, item: int) -> None:
        items = self.grams.setdefault(gram, [])
        if not items or items[-1] != item:
            items.append(item)

    def scan(self, chunks: Iterable[str]) -> set[int]:
        """Test items with at least one gram in the text stream (chunks are consecutive text)."""
        found: set[int] = set()
        grams, lengths = self.grams, self.lengths
        carry: list[str] = []
        for chunk in chunks:
            words = carry + tokens(chunk)
            for length in lengths:
                # zip builds the windows and filter tests them, both in C: ~10x a Python loop
                windows = zip(*(words[k:] for k in range(length)))
                for gram in filter(grams.__contains__, windows):
                    found.update(grams[gram])
            # keep the tail so a gram across two chunks is still seen (and not counted twice)
            carry = words[-(self.lengths[-1] - 1) :] if self.lengths[-1] > 1 else []
        return found


def _strings(value) -> Iterator[str]:
    """Every string in a decoded JSON value or Arrow row (keys too: data can hide there)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)
    elif value is not None and not isinstance(value, (bytes, bytearray)):
        yield str(value)


def _batched(texts: Iterable[str]) -> Iterator[str]:
    """Join small texts into ~1 MB chunks: fewer regex calls, same tokens."""
    buffer, size = [], 0
    for text in texts:
        buffer.append(text)
        size += len(text)
        if size >= CHUNK_CHARS:
            yield "\n".join(buffer)
            buffer, size = [], 0
    if buffer:
        yield "\n".join(buffer)


def _open_text(path: Path):
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    return opener(path, "rt", encoding="utf-8", errors="replace")


def _jsonl(path: Path) -> Iterator[str]:
    with _open_text(path) as handle:
        for line in handle:
            try:
                yield from _strings(json.loads(line))
            except ValueError:  # not JSON after all: its raw text still counts
                yield line


def _json(path: Path) -> Iterator[str]:
    with _open_text(path) as handle:
        raw = handle.read()
    try:
        yield from _strings(json.loads(raw))
    except ValueError:
        # JSON Lines saved as .json, or a broken file: fall back to lines, then raw text
        yield from _jsonl(path)


def _plain(path: Path) -> Iterator[str]:
    with _open_text(path) as handle:
        yield from handle


def _raw(path: Path) -> Iterator[str]:
    """A file's bytes as text, for a file its format's reader rejected."""
    held = b""
    with open(path, "rb") as handle:
        while block := handle.read(CHUNK_CHARS):
            block = held + block
            # hold back the bytes after the last whitespace: a word may go on in the next block
            cut = max(block.rfind(c) for c in (b" ", b"\n", b"\t"))
            block, held = (block[: cut + 1], block[cut + 1 :]) if cut >= 0 else (block, b"")
            yield block.decode("utf-8", errors="replace")
    yield held.decode("utf-8", errors="replace")


def _arrow_batches(path: Path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    if path.suffix == ".parquet":
        yield from pq.ParquetFile(path).iter_batches(batch_size=4096)
        return
    # datasets' save_to_disk writes the IPC stream format; other tools write the file format
    try:
        with pa.memory_map(str(path)) as source:
            yield from pa.ipc.open_stream(source)
    except pa.ArrowInvalid:
        with pa.memory_map(str(path)) as source:
            reader = pa.ipc.open_file(source)
            for i in range(reader.num_record_batches):
                yield reader.get_batch(i)


def _arrow(path: Path) -> Iterator[str]:
    for batch in _arrow_batches(path):
        for row in batch.to_pylist():
            yield from _strings(row)


def _reader(path: Path):
    name = path.name.lower()
    suffix = Path(name[:-3]).suffix if name.endswith(".gz") else path.suffix.lower()
    if suffix not in DATA_SUFFIXES:
        return None
    if name.endswith(".gz") and suffix in (".parquet", ".arrow"):
        return None
    return {".jsonl": _jsonl, ".json": _json, ".parquet": _arrow, ".arrow": _arrow}.get(suffix, _plain)


def data_files(job_dir: Path, skip: set[str]) -> tuple[list[Path], list[str]]:
    files, unreadable = walk_files(job_dir)
    keep = [
        p
        for p in files
        if _reader(p) is not None and str(p.relative_to(job_dir)) not in skip and p.name not in MODEL_FILES
    ]
    return keep, unreadable


def check(
    job_dir: str | Path,
    test_texts: list[str],
    *,
    handout: dict | None = None,
    n: int = 13,
    tolerance: int = 2,
    min_words: int = 3,
) -> dict:
    job_dir = Path(job_dir)
    index = GramIndex(test_texts, n, min_words)
    files, unreadable = data_files(job_dir, set(handout or {}))
    matched: set[int] = set()
    per_file, errors = [], []
    for path in files:
        rel = str(path.relative_to(job_dir))
        try:
            found = index.scan(_batched(_reader(path)(path)))
        except Exception as err:  # noqa: BLE001 - a corrupt file is evidence, not a judge crash
            errors.append(f"{rel}: {type(err).__name__}: {err}"[:300])
            # a file crafted to break the parser still has its raw text scanned
            found = index.scan(_batched(_raw(path)))
        if found:
            per_file.append({"file": rel, "items": len(found)})
            matched |= found
    per_file.sort(key=lambda e: (-e["items"], e["file"]))
    passed = len(matched) <= tolerance
    summary = (
        f"{len(matched)} of {len(index.texts)} test items share a {n}-gram with "
        f"{len(per_file)} of {len(files)} data file(s) (tolerance {tolerance})"
    )
    snippets = [index.texts[i][:SNIPPET] for i in sorted(matched)[:EVIDENCE_CAP]]
    return result(
        NAME,
        passed,
        summary,
        ngram=n,
        tolerance=tolerance,
        test_items=len(index.texts),
        test_items_too_short=index.skipped,
        files_scanned=len(files),
        matched_items=len(matched),
        matching_files=per_file[:EVIDENCE_CAP],
        matched_snippets=snippets,
        unreadable=(unreadable + errors)[:EVIDENCE_CAP],
    )
