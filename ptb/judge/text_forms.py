"""Text written in another form inside a file: base64 / base32 / hex blobs at any line width,
UTF-16 and UTF-32 without a byte-order mark (little or big endian), and runs of integers (token
ids written as JSON or plain text). Each finder returns what it decoded; formats.py reads that
in turn (a blob may hold a gzip, a zlib stream, another blob ...).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator

import numpy as np

# a piece of 16+ alphabet characters and the pieces after it, joined by what wraps them
# (newlines, quotes, commas), so a blob wrapped at any width (or split into string literals) is
# one candidate; its last, shorter line too
BLOB = re.compile(rb"[A-Za-z0-9+/_-]{16,}={0,6}(?:[\s\"',]{1,8}[A-Za-z0-9+/_-]{2,}={0,6})*")
# the same pattern over the bytes mapped to their class (alphabet "a", wrapper ",", "=", other
# "."): a literal prefix, which re finds 3x faster than a character class at every position
_CLASSES = bytearray(b"." * 256)
for _byte in b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/_-":
    _CLASSES[_byte] = ord("a")
for _byte in b" \t\n\r\x0b\x0c\"',":
    _CLASSES[_byte] = ord(",")
_CLASSES[ord("=")] = ord("=")
BLOB_CLASSES = bytes(_CLASSES)
BLOB_MAPPED = re.compile(b"a" * 16 + rb"a*={0,6}(?:,{1,8}aa+={0,6})*")
BLOB_MIN = 48  # characters of a candidate: a 13-gram of text takes more
SEPARATORS = re.compile(rb"[\s\"',]+")
HEX = re.compile(rb"[0-9a-fA-F]+")
BASE32 = re.compile(rb"[A-Z2-7]+=*")
# ASCII text as UTF-16 (a NUL after each character) or UTF-32 (three): big endian is the same
# run one byte later, so one pattern finds both
WIDE = (
    (re.compile(rb"(?:[\t\n\r\x20-\x7e]\x00\x00\x00){16,}[\t\n\r\x20-\x7e]?"), 4),
    (re.compile(rb"(?:[\t\n\r\x20-\x7e]\x00){16,}[\t\n\r\x20-\x7e]?"), 2),
)
# a cheap gate before the patterns: English text as UTF-16/32 holds "e " or " t" somewhere
WIDE_GATE = (b"e\x00 \x00", b" \x00t\x00", b" \x00a\x00", b"e\x00\x00\x00 ", b" \x00\x00\x00t")
INTS = re.compile(rb"\d+(?:[\s,;\[\]]+\d+){12,}")


def blobs(block: bytes) -> Iterator[bytes]:
    """The bytes decoded from every base64, base32 or hex candidate in a block of text."""
    for match in BLOB_MAPPED.finditer(block.translate(BLOB_CLASSES)):
        if match.end() - match.start() < BLOB_MIN:  # joined, it is shorter still: an identifier
            continue
        pieces = SEPARATORS.split(block[match.start() : match.end()].strip())
        joined = b"".join(pieces)
        if len(joined) < BLOB_MIN or joined.isalpha():  # a run of long words, not a blob
            continue
        yield from _decode(joined)
        # a name glued in front (`data_value = "QUJD..."`) shifts every group of 4: drop it too
        if len(pieces) > 2 and len(pieces[0]) != len(pieces[1]):
            yield from _decode(b"".join(pieces[1:]))


def _decode(blob: bytes) -> Iterator[bytes]:
    if HEX.fullmatch(blob):
        yield binascii.unhexlify(blob[: len(blob) // 2 * 2])
        return
    body = blob.rstrip(b"=")
    if BASE32.fullmatch(body):
        try:
            yield base64.b32decode(_padded(body, 8))
        except binascii.Error:
            pass
    altchars = b"-_" if b"-" in body or b"_" in body else None
    try:
        yield base64.b64decode(_padded(body, 4), altchars=altchars)
    except binascii.Error:
        pass


def _padded(body: bytes, group: int) -> bytes:
    """Padding put back (a blob cut from its context may have lost it); a lone extra character
    (a name glued to the blob) is dropped."""
    if len(body) % group in ((1,) if group == 4 else (1, 3, 6)):  # no valid blob ends so
        body = body[:-1]
    return body + b"=" * (-len(body) % group)


def wide_encoding(head: bytes) -> str | None:
    """The codec of a file that starts as UTF-16 or UTF-32 text without a byte-order mark."""
    size = len(head) // 4 * 4
    if size < 32:
        return None
    zeros = [head[i:size:4].count(0) / (size // 4) for i in range(4)]
    if min(zeros[1:]) > 0.9 and zeros[0] < 0.5:
        return "utf-32-le"
    if min(zeros[:3]) > 0.9 and zeros[3] < 0.5:
        return "utf-32-be"
    even, odd = (zeros[0] + zeros[2]) / 2, (zeros[1] + zeros[3]) / 2
    if odd > 0.6 and even < 0.2:
        return "utf-16-le"
    if even > 0.6 and odd < 0.2:
        return "utf-16-be"
    return None


def wide_runs(block: bytes) -> Iterator[bytes]:
    """ASCII text written as UTF-16 or UTF-32 inside other bytes (a binary, a text file with NULs)."""
    if not any(gate in block for gate in WIDE_GATE):
        return
    for pattern, width in WIDE:
        for match in pattern.finditer(block):
            yield match.group(0)[::width]


def int_runs(block: bytes) -> Iterator[np.ndarray]:
    """Runs of 13+ integers (a JSON list, a line of numbers): perhaps token ids."""
    for match in INTS.finditer(block):
        numbers = re.findall(rb"\d+", match.group(0))
        if max(map(len, numbers)) <= 9:  # larger are no token ids (and would overflow)
            yield np.fromiter(map(int, numbers), dtype=np.int64, count=len(numbers))
