"""Word n-grams of bytes, hashed in numpy: the contamination check's inner loop.

Text is normalised byte-wise: ASCII letters lower-cased, every byte that is not a letter, a
digit or part of a UTF-8 sequence becomes a separator, so "Ava has 3  apples," and
"ava has 3 apples" are the same words. A word's hash is a polynomial of its bytes (mod 2**64,
from prefix sums over the whole block, then mixed), an n-gram's a random linear combination of
its words' hashes: no Python object per word (a venv's binaries hold hundreds of millions of
"words"). Words longer than any test word get one mark, TOO_LONG, that no test word has.
"""

from __future__ import annotations

import numpy as np

_WORD_BYTES = (
    set(range(ord("0"), ord("9") + 1)) | set(range(ord("a"), ord("z") + 1)) | set(range(0x80, 0x100))
)
NORMALISE = bytes(
    (b + 32 if ord("A") <= b <= ord("Z") else b) if (b | 32) in _WORD_BYTES else 32 for b in range(256)
)
SEPARATOR = 32
_RANDOM = np.random.default_rng(20261201).integers(0, 2**63, size=66, dtype=np.uint64)
_WEIGHTS = _RANDOM[:64] * np.uint64(2) + np.uint64(1)
MAX_GRAM = len(_WEIGHTS)
_BASE = int(_RANDOM[64]) * 2 + 1  # odd: invertible mod 2**64, so a word's hash needs no position
_BASE_INVERSE = pow(_BASE, -1, 2**64)
_MIX = np.uint64(0x9E3779B97F4A7C15)
TOO_LONG = np.uint64(int(_RANDOM[65]))
_powers: list[np.ndarray] = [np.ones(1, np.uint64), np.ones(1, np.uint64)]  # BASE**i, BASE**-i


def _power_tables(size: int) -> tuple[np.ndarray, np.ndarray]:
    if len(_powers[0]) < size:
        size = max(size, 2 * len(_powers[0]))
        for k, base in enumerate((_BASE, _BASE_INVERSE)):
            factors = np.full(size, base, dtype=np.uint64)
            factors[0] = 1
            _powers[k] = np.cumprod(factors)  # wraps mod 2**64, as wanted
    return _powers[0], _powers[1]


def normalised(data: bytes) -> np.ndarray:
    return np.frombuffer(data.translate(NORMALISE), dtype=np.uint8)


def word_spans(data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (exclusive) of every word in normalised bytes."""
    is_word = data != SEPARATOR
    changes = np.flatnonzero(is_word[1:] != is_word[:-1]) + 1  # where a word starts or ends
    if len(data) and is_word[0]:
        changes = np.concatenate(([0], changes))
    if len(data) and is_word[-1]:
        changes = np.concatenate((changes, [len(data)]))
    return changes[0::2], changes[1::2]


def word_hashes(data: np.ndarray, starts: np.ndarray, ends: np.ndarray, longest: int) -> np.ndarray:
    """The hash of each word data[start:end]; TOO_LONG for words of more than `longest` bytes."""
    if not len(starts):
        return np.zeros(0, dtype=np.uint64)
    powers, inverses = _power_tables(len(data) + 1)
    prefix = np.empty(len(data) + 1, dtype=np.uint64)
    prefix[0] = 0
    np.multiply(data, powers[: len(data)], out=prefix[1:])
    np.cumsum(prefix[1:], out=prefix[1:])
    hashes = (prefix[ends] - prefix[starts]) * inverses[starts]  # sum data[start + i] * BASE**i
    hashes ^= hashes >> np.uint64(31)
    hashes *= _MIX
    hashes ^= hashes >> np.uint64(29)
    hashes[ends - starts > longest] = TOO_LONG
    return hashes


def text_word_hashes(text: bytes) -> np.ndarray:
    data = normalised(text)
    starts, ends = word_spans(data)
    return word_hashes(data, starts, ends, len(data))


def gram_hashes(hashes: np.ndarray, n: int, at: np.ndarray | None = None) -> np.ndarray:
    """The hash of every run of n consecutive words (or only of those starting at `at`)."""
    count = len(hashes) - n + 1
    if count <= 0:
        return np.zeros(0, dtype=np.uint64)
    if at is not None:  # a few windows: gather them
        out = hashes[at] * _WEIGHTS[0]
        for k in range(1, n):
            out += hashes[at + k] * _WEIGHTS[k]
        return out
    out = hashes[:count] * _WEIGHTS[0]
    for k in range(1, n):
        out += hashes[k : k + count] * _WEIGHTS[k]
    return out


class GramSet:
    """Membership of hashes: a bitmap of their top bits first (vectorised), the exact set after."""

    def __init__(self, hashes: np.ndarray, bits: int = 24):
        self.exact = np.unique(hashes)
        self.shift = np.uint64(64 - bits)
        self.bitmap = np.zeros(1 << bits, dtype=bool)
        self.bitmap[self.exact >> self.shift] = True

    def maybe(self, hashes: np.ndarray) -> np.ndarray:
        """A mask: False where a hash is surely not in the set."""
        return self.bitmap[hashes >> self.shift]

    def present(self, hashes: np.ndarray) -> np.ndarray:
        """The distinct hashes of `hashes` that are in the set."""
        candidates = hashes[self.maybe(hashes)]
        if not len(candidates) or not len(self.exact):
            return candidates[:0]
        # searchsorted, not np.isin: isin sorts the whole set again on every call (1 ms a file)
        at = np.searchsorted(self.exact, candidates).clip(max=len(self.exact) - 1)
        return np.unique(candidates[self.exact[at] == candidates])
