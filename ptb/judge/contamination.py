"""Check `contamination`: files the agent could train from share n-grams with the test set.

Every regular file under the roots (the job dir, the agent's HOME with its Hugging Face and
other caches, its scratch dir) is read by content (ptb.judge.formats), never chosen by name;
only the handed-out files (recorded by the workflow, guarded by `tamper`) are left out. Links
are read through (walk.py): a link to the test split is evidence wherever it points. Integer
arrays are read as token ids of the base model's tokenizer (token_ids.py), git repositories
object by object (git_pack.py). Test texts are indexed as written and in rot13.

Per test item, the share of each of its texts' n-grams found in those files: an item is
*copied* when some text of it reaches `item_share` (one whole item copied verbatim is always
caught), and *touched* when any of its n-grams is found. The check fails on any copied item,
or on more touched items than `tolerance` (chance overlaps of a few n-grams). Test n-grams that
the training split handed to the agent also holds (near-duplicate items across the splits) are
dropped first: they are allowed data, so the split itself left in the job dir stays clean.
"""

from __future__ import annotations

import codecs
import io
import os
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from ptb.judge import formats, git_pack, walk
from ptb.judge.common import EVIDENCE_CAP, result, walk_files
from ptb.judge.grams import (
    MAX_GRAM,
    GramSet,
    gram_hashes,
    normalised,
    word_hashes,
    word_spans,
)
from ptb.judge.token_ids import TokenIds

NAME = "contamination"
SNIPPET = 120
HEARTBEAT_S = 30  # a line in the judge's log while the scan runs
SCAN_BLOCK = 1 << 20  # bytes hashed at once
WHOLE_FILE = 4 << 20  # files up to this size are read in one call


class TestIndex:
    """The test items' n-grams. A text shorter than n words (and not shorter than min_words) is
    one gram of its own length; it can make an item touched, never copied."""

    def __init__(self, items: list[list[str]], n: int, min_words: int):
        if not 1 <= n <= MAX_GRAM:
            raise ValueError(f"judge ngram must be in [1, {MAX_GRAM}], got {n}")
        self.n, self.items = n, items
        self.texts: list[tuple[int, np.ndarray]] = []  # (item, its distinct gram hashes) of long texts
        self.item_of: dict[int, set[int]] = {}  # gram hash -> items
        self.skipped = 0
        short_lengths, vocabulary, spans, self.longest = set(), [], [], 1
        for item, item_texts in enumerate(items):
            rot13 = [codecs.encode(text, "rot13") for text in item_texts]
            for k, text in enumerate(item_texts + rot13):
                data = normalised(text.encode("utf-8", "surrogatepass"))
                starts, ends = word_spans(data)
                if len(starts) < min_words:
                    self.skipped += k < len(item_texts)  # "4" or "yes" is in every corpus: no evidence
                    continue
                self.longest = max(self.longest, int((ends - starts).max()))
                hashes = word_hashes(data, starts, ends, len(data))
                vocabulary.append(hashes)
                spans.append((data, starts, ends))
                length = min(n, len(hashes))
                grams = np.unique(gram_hashes(hashes, length))
                if length == n:
                    self.texts.append((item, grams))
                else:
                    short_lengths.add(length)
                for gram in grams.tolist():
                    self.item_of.setdefault(gram, set()).add(item)
        self.lengths = sorted({n, *short_lengths})
        # a window of words is hashed as a gram only when each of its words may be a test word: in
        # a binary (or code) nearly no window is
        self.vocabulary = GramSet(np.concatenate(vocabulary) if vocabulary else np.zeros(0, np.uint64), 18)
        # coarser and cheaper, before any hashing: (first byte, length) of the test words
        table = np.zeros((256, self.longest + 2), dtype=bool)  # the last column: too long
        for data, starts, ends in spans:
            table[data[starts], ends - starts] = True
        self.first_and_length = table.ravel()  # indexed flat: faster than by two arrays
        self.grams = GramSet(np.fromiter(self.item_of, dtype=np.uint64, count=len(self.item_of)))

    def scan(self, chunks: Iterable[bytes]) -> np.ndarray:
        """Distinct test grams in a stream of consecutive text chunks."""
        found: list[np.ndarray] = []
        # the last words' hashes and whether each may be a test word: a gram may span two chunks
        carry = (np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=bool))
        partial = b""  # a word that may go on in the next chunk
        for block, last in _blocks(chunks):
            data = normalised(partial + block)
            starts, ends = word_spans(data)
            partial = b""
            if not last and len(ends) and ends[-1] == len(data):
                # a word longer than any test word stays so: longest + 1 of its bytes are enough
                partial = data[starts[-1] : starts[-1] + self.longest + 1].tobytes()
                starts, ends = starts[:-1], ends[:-1]
            carry = self._block(data, starts, ends, carry, found)
        return np.unique(np.concatenate(found)) if found else np.zeros(0, dtype=np.uint64)

    def _block(self, data, starts, ends, carry, found) -> tuple[np.ndarray, np.ndarray]:
        """Test grams among the words data[starts:ends] (after the carried ones) into `found`; the
        words to carry on. Words are hashed only when some window of them may be a test gram by
        their first bytes and lengths (a binary's "words" nearly never are)."""
        keep = self.lengths[-1] - 1
        width = self.longest + 2
        maybe = self.first_and_length[
            data[starts].astype(np.intp) * width + np.minimum(ends - starts, width - 1)
        ]
        maybe = np.concatenate((carry[1], maybe))
        if self._windows(maybe, self.lengths[0]) is not None:
            hashes = np.concatenate((carry[0], word_hashes(data, starts, ends, self.longest)))
            maybe &= self.vocabulary.maybe(hashes)
            found += self._grams_in(hashes, maybe)
        else:  # only the words carried on are hashed
            tail = max(0, len(starts) - keep)
            offset = starts[tail] if tail < len(starts) else len(data)
            hashed = word_hashes(data[offset:], starts[tail:] - offset, ends[tail:] - offset, self.longest)
            hashes = np.concatenate((carry[0], hashed))
            maybe = maybe[len(maybe) - len(hashes) :]
        cut = max(0, len(hashes) - keep) if keep else len(hashes)  # (a negative start would cut it)
        return hashes[cut:], maybe[cut:]

    @staticmethod
    def _windows(maybe: np.ndarray, length: int) -> np.ndarray | None:
        """Starts of the runs of `length` words that may all be test words (None: there are none)."""
        if len(maybe) < length or np.count_nonzero(maybe) < length:
            return None
        outside = np.zeros(len(maybe) + 1, dtype=np.int32)  # words that are no test word, so far
        np.cumsum(~maybe, out=outside[1:])
        windows = np.flatnonzero(outside[length:] == outside[: len(outside) - length])
        return windows if len(windows) else None

    def _grams_in(self, hashes: np.ndarray, maybe: np.ndarray) -> list[np.ndarray]:
        """Test grams among the windows of `hashes` whose words may all be test words."""
        found = []
        for length in self.lengths:
            windows = self._windows(maybe, length)
            if windows is None:
                continue
            if len(windows) * 4 > len(hashes):  # most of it (text): all windows, then pick
                grams = gram_hashes(hashes, length)[windows]
            else:
                grams = gram_hashes(hashes, length, windows)
            found.append(self.grams.present(grams))
        return found

    def exclude(self, allowed: np.ndarray) -> None:
        """Forget grams the agent was allowed to see (the training split): they are no evidence."""
        if not len(allowed):
            return
        for gram in allowed.tolist():
            self.item_of.pop(gram, None)
        self.texts = [(item, np.setdiff1d(grams, allowed, assume_unique=True)) for item, grams in self.texts]
        self.grams = GramSet(np.fromiter(self.item_of, dtype=np.uint64, count=len(self.item_of)))

    def items_with(self, found: np.ndarray) -> set[int]:
        return {item for gram in found.tolist() for item in self.item_of.get(gram, ())}

    def coverage(self, found: np.ndarray) -> dict[int, float]:
        """item -> the largest share of one of its long texts' n-grams that was found."""
        out: dict[int, float] = {}
        for item, grams in self.texts:
            share = float(np.isin(grams, found).mean()) if len(grams) else 0.0
            out[item] = max(out.get(item, 0.0), share)
        return out


def _blocks(chunks: Iterable[bytes]) -> Iterator[tuple[bytes, bool]]:
    """The stream re-cut into blocks of SCAN_BLOCK bytes, each with whether it is the last: small
    chunks are joined (one numpy pass a file, not one a chunk) and a block's tables stay small."""
    pending: list[bytes] = []
    size, ready = 0, None
    for chunk in chunks:
        pending.append(chunk)
        size += len(chunk)
        if size < SCAN_BLOCK:
            continue
        joined = pending[0] if len(pending) == 1 else b"".join(pending)
        whole = len(joined) // SCAN_BLOCK * SCAN_BLOCK
        for start in range(0, whole, SCAN_BLOCK):
            if ready is not None:
                yield ready, False
            ready = joined[start : start + SCAN_BLOCK]
        pending, size = [joined[whole:]], len(joined) - whole
    rest = b"".join(pending)
    if rest:
        if ready is not None:
            yield ready, False
        ready = rest
    if ready is not None:
        yield ready, True


def _scan_file(index: TestIndex, path: Path, notes: list[str], ids: TokenIds | None = None) -> np.ndarray:
    with open(path, "rb") as handle:
        if os.fstat(handle.fileno()).st_size <= WHOLE_FILE:  # most files: one read, shared by every reader
            return index.scan(formats.texts(io.BytesIO(handle.read()), notes, ids=ids))
        return index.scan(formats.texts(handle, notes, ids=ids))


def _scan_repository(index: TestIndex, git_dir: Path, notes: list[str], ids: TokenIds | None) -> np.ndarray:
    """Every object of a git repository, deltas resolved (its files are read as files too)."""
    found = [
        index.scan(formats.texts(io.BytesIO(content), notes, ids=ids))
        for content in git_pack.repository_objects(git_dir, notes)
    ]
    return np.unique(np.concatenate(found)) if found else np.zeros(0, dtype=np.uint64)


def check(
    roots: dict[str, str | Path],
    test_items: list[list[str]],
    *,
    skip: Iterable[str] = (),
    allowed: Iterable[str | Path] = (),
    n: int,
    tolerance: int,
    item_share: float,
    min_words: int,
    base_model_dir: str | Path | None = None,
) -> dict:
    """roots: label -> folder (e.g. {"job": job_dir, "home": agent HOME}); skip: "label/rel" paths
    of files the workflow handed out; allowed: folders of data the agent was given (the training
    split): test n-grams found there (near-duplicate items across splits) are not evidence;
    base_model_dir: the tokenizer integer arrays are decoded with (None: they are not)."""
    index = TestIndex(test_items, n, min_words)
    ids = TokenIds(base_model_dir) if base_model_dir is not None else None
    shared = []
    for folder in allowed:
        for path in walk_files(folder)[0]:
            shared.append(_scan_file(index, path, [], ids))
    shared = np.unique(np.concatenate(shared)) if shared else np.zeros(0, dtype=np.uint64)
    index.exclude(shared)
    skip = set(skip)
    per_file, unreadable, found_all = [], [], []
    read: dict[tuple[int, int], np.ndarray] = {}  # (device, inode) -> grams: hard links read once
    heartbeat = _Heartbeat()
    walker = walk.Walk()
    for label, root in roots.items():
        if not Path(root).is_dir():
            continue
        for entry in walker.files(Path(root)):
            rel = f"{label}/{entry.rel}"
            if entry.repository:
                notes: list[str] = []
                found = _scan_repository(index, entry.path, notes, ids)
                rel += " (git objects)"
            elif rel in skip and not entry.linked:
                continue
            elif entry.key in read:
                found, notes = read[entry.key], []
            else:
                notes = []
                try:
                    found = _scan_file(index, entry.path, notes, ids)
                except OSError as err:
                    unreadable.append(f"{rel}: {type(err).__name__}: {err}"[:300])
                    continue
                read[entry.key] = found
                heartbeat.beat(rel, entry.size)
            unreadable += [f"{rel}: {note}" for note in notes]
            if len(found):
                per_file.append({"file": rel, "items": len(index.items_with(found))})
                found_all.append(found)
        unreadable += [f"{label}/{rel}" for rel in walker.unreadable]
        walker.unreadable = []
    if ids is not None and ids.left_over:
        unreadable.append(f"token ids: {ids.left_over} ids past the budget of {ids.budget} not decoded")
    found = np.unique(np.concatenate(found_all)) if found_all else np.zeros(0, dtype=np.uint64)
    touched = index.items_with(found)
    coverage = index.coverage(found)
    copied = sorted(item for item, share in coverage.items() if share >= item_share)
    per_file.sort(key=lambda e: (-e["items"], e["file"]))
    passed = not copied and len(touched) <= tolerance
    summary = (
        f"{len(copied)} test item(s) copied (>= {item_share:.0%} of a text's {n}-grams), {len(touched)} of "
        f"{len(index.items)} share a {n}-gram with {len(per_file)} of {heartbeat.files} file(s) "
        f"(tolerance {tolerance})"
    )
    shown = copied + sorted(touched - set(copied))
    return result(
        NAME,
        passed,
        summary,
        ngram=n,
        tolerance=tolerance,
        item_share=item_share,
        test_items=len(index.items),
        test_texts_too_short=index.skipped,
        grams_in_training_split=len(shared),
        files_scanned=heartbeat.files,
        bytes_scanned=heartbeat.bytes,
        token_ids_decoded=ids.decoded if ids is not None else 0,
        copied_items=len(copied),
        matched_items=len(touched),
        largest_share=round(max(coverage.values(), default=0.0), 4),
        matching_files=per_file[:EVIDENCE_CAP],
        matched_snippets=[_snippet(index.items[i]) for i in shown[:EVIDENCE_CAP]],
        unreadable=unreadable[:EVIDENCE_CAP],
    )


class _Heartbeat:
    """Files and bytes read so far, printed to the judge's log every HEARTBEAT_S seconds."""

    def __init__(self):
        self.files = self.bytes = 0
        self.start = self.last = time.monotonic()

    def beat(self, rel: str, size: int) -> None:
        self.files += 1
        self.bytes += size
        now = time.monotonic()
        if now - self.last >= HEARTBEAT_S:
            self.last = now
            print(
                f"contamination: {self.files} files ({self.bytes / 1e6:.0f} MB) read in "
                f"{now - self.start:.0f} s; at {rel}"[:300],
                file=sys.stderr,
                flush=True,
            )


def _snippet(texts: list[str]) -> str:
    return " | ".join(texts)[:SNIPPET]
