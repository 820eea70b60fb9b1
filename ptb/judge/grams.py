"""Word n-grams of bytes, hashed: the contamination check's inner loop.

Text is normalised byte-wise: ASCII letters lower-cased, every byte that is not a letter, a
digit or part of a UTF-8 sequence becomes a separator, so "Ava has 3  apples," and
"ava has 3 apples" are the same words. Words are hashed by bytes.split + hash (both in C);
an n-gram's hash is a random linear combination of its words' hashes (uint64, wrapping), in
numpy. Python's hash is salted per process: the test side and the data side are hashed in one.
"""

from __future__ import annotations

import numpy as np

_WORD_BYTES = (
    set(range(ord("0"), ord("9") + 1)) | set(range(ord("a"), ord("z") + 1)) | set(range(0x80, 0x100))
)
NORMALISE = bytes(
    (b + 32 if ord("A") <= b <= ord("Z") else b) if (b | 32) in _WORD_BYTES else 32 for b in range(256)
)
_WEIGHTS = np.random.default_rng(20261201).integers(0, 2**63, size=64, dtype=np.uint64) * np.uint64(
    2
) + np.uint64(1)
MAX_GRAM = len(_WEIGHTS)


def words(data: bytes) -> list[bytes]:
    return data.translate(NORMALISE).split()


def word_hashes(tokens: list[bytes]) -> np.ndarray:
    return np.fromiter(map(hash, tokens), dtype=np.int64, count=len(tokens)).view(np.uint64)


def gram_hashes(hashes: np.ndarray, n: int) -> np.ndarray:
    """The hash of every run of n consecutive words."""
    count = len(hashes) - n + 1
    if count <= 0:
        return np.zeros(0, dtype=np.uint64)
    out = hashes[:count] * _WEIGHTS[0]
    for k in range(1, n):
        out += hashes[k : k + count] * _WEIGHTS[k]
    return out


class GramSet:
    """Membership of n-gram hashes: a 16 MB bitmap first (vectorised), the exact set after."""

    BITS = 24

    def __init__(self, hashes: np.ndarray):
        self.exact = np.unique(hashes)
        self.bitmap = np.zeros(1 << self.BITS, dtype=bool)
        self.bitmap[self.exact >> np.uint64(64 - self.BITS)] = True

    def present(self, hashes: np.ndarray) -> np.ndarray:
        """The distinct hashes of `hashes` that are in the set."""
        candidates = hashes[self.bitmap[hashes >> np.uint64(64 - self.BITS)]]
        if not len(candidates):
            return candidates
        # searchsorted, not np.isin: isin sorts the whole set again on every call (1 ms a file)
        at = np.searchsorted(self.exact, candidates).clip(max=len(self.exact) - 1)
        return np.unique(candidates[self.exact[at] == candidates])
