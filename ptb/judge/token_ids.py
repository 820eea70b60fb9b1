"""Integer arrays read as token ids: test items handed in already tokenized, as the base model's
tokenizer (the one an agent would train with) decodes them.

Bounded so that honest numbers cost little: an array is decoded only when it is long enough to
hold an n-gram and most of its values are ids of the vocabulary (values outside it, such as the
-100 of masked labels, are dropped), arrays of 0/1 (attention masks) are skipped, and a check
decodes at most `budget` tokens; what is left over is reported, never silently passed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

BUDGET = 50_000_000  # tokens per check: about 200 MB of text, ~10 s of decoding
MIN_IDS = 13  # fewer ids cannot hold a 13-gram
BLOCK = 1 << 16  # ids per decode call: long calls return huge strings
FIT = 0.9  # share of values that must be vocabulary ids


class TokenIds:
    """The decoder for one check; the tokenizer is loaded on the first array that needs it."""

    def __init__(self, tokenizer_dir: str | Path, budget: int = BUDGET):
        self.tokenizer_dir, self.budget = Path(tokenizer_dir), budget
        self.decoded = self.left_over = 0
        self._backend = None
        self.vocab = 0

    def _load(self):
        if self._backend is None:
            from transformers import AutoTokenizer  # noqa: PLC0415 (heavy: only when ids are found)

            tokenizer = AutoTokenizer.from_pretrained(self.tokenizer_dir)
            self._backend, self.vocab = tokenizer.backend_tokenizer, len(tokenizer)
        return self._backend

    def texts(self, values: np.ndarray) -> Iterator[bytes]:
        """The text of an integer array (any shape, rows read one after another)."""
        values = np.asarray(values).reshape(-1)
        if len(values) < MIN_IDS or values.dtype.kind not in "iu" or values.max(initial=0) <= 1:
            return
        backend = self._load()
        fits = (values >= 0) & (values < self.vocab)
        if fits.mean() < FIT:
            return
        ids = values[fits] if not fits.all() else values
        room = max(0, self.budget - self.decoded)
        self.left_over += max(0, len(ids) - room)
        ids = ids[:room]
        self.decoded += len(ids)
        for start in range(0, len(ids), BLOCK):
            block = ids[start : start + BLOCK].tolist()
            yield backend.decode(block, skip_special_tokens=False).encode("utf-8", "surrogatepass")
