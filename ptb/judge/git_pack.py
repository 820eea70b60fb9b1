"""zlib streams and git's object stores, read without git: a loose object is one zlib stream
("blob 123\\0" and the content); a pack file is a header and a zlib stream per object.

A pack object stored as a delta against another is read as the bytes it inserts (copies come
from its base, which the pack holds and is read itself); text assembled only from copies of
pieces of other objects is not reassembled (git itself would be needed).
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

BLOCK = 1 << 20
OBJECT_HEADER = re.compile(rb"(?:blob|tree|commit|tag) \d+\x00")
OFS_DELTA, REF_DELTA = 6, 7
MAX_DELTA = 64 << 20  # a delta is small (instructions); a larger one is read raw


def inflate(source: BinaryIO, leftover: list[bytes] | None = None) -> Iterator[bytes]:
    """The decompressed blocks of the zlib stream at the source's position, at most BLOCK bytes
    at a time (a small stream may expand a thousandfold). Bytes read past its end go to leftover."""
    inflater = zlib.decompressobj()
    while not inflater.eof:
        data = inflater.unconsumed_tail or source.read(BLOCK)
        if not data:
            break
        out = inflater.decompress(data, BLOCK)
        if out:
            yield out
    if leftover is not None and inflater.eof:
        leftover.append(inflater.unused_data)


def strip_object_header(block: bytes) -> bytes:
    match = OBJECT_HEADER.match(block)
    return block[match.end() :] if match else block


class _Pushback:
    """A stream with bytes read too far put back in front."""

    def __init__(self, source: BinaryIO):
        self.source, self.front = source, b""

    def read(self, size: int) -> bytes:
        if self.front:
            out, self.front = self.front[:size], self.front[size:]
            return out
        return self.source.read(size)

    def byte(self) -> int:
        data = self.read(1)
        if not data:
            raise EOFError("pack ends inside an object header")
        return data[0]


def objects(source: BinaryIO, notes: list[str]) -> Iterator[Iterator[bytes]]:
    """Per object of a pack file, its content's blocks (a delta: the bytes it inserts)."""
    header = source.read(12)
    count = struct.unpack(">I", header[8:12])[0]
    stream = _Pushback(source)
    for _ in range(count):
        kind = _object_header(stream)
        leftover: list[bytes] = []
        blocks = inflate(stream, leftover)
        if kind in (OFS_DELTA, REF_DELTA):
            delta = b""
            for block in blocks:
                delta += block
                if len(delta) > MAX_DELTA:
                    break
            yield iter((_inserted(delta),) if len(delta) <= MAX_DELTA else (delta,))
        else:
            yield blocks
        for _ in blocks:  # what the reader left unread: the next object starts after it
            pass
        stream.front = b"".join(leftover) + stream.front
        if not leftover:
            notes.append("git pack: an object's zlib stream does not end")
            return


def _object_header(stream: _Pushback) -> int:
    byte = stream.byte()
    kind = (byte >> 4) & 7
    while byte & 0x80:  # the size goes on
        byte = stream.byte()
    if kind == OFS_DELTA:
        byte = stream.byte()
        while byte & 0x80:
            byte = stream.byte()
    elif kind == REF_DELTA:
        stream.read(20)
    return kind


def _varint(data: bytes, at: int) -> int:
    while at < len(data) and data[at] & 0x80:
        at += 1
    return at + 1


def _inserted(delta: bytes) -> bytes:
    """The literal bytes a git delta inserts, in order (its copy instructions skipped)."""
    at = _varint(delta, _varint(delta, 0))  # base size, result size
    out = []
    while at < len(delta):
        op = delta[at]
        at += 1
        if op & 0x80:  # copy from the base: offset and size bytes as flagged
            at += bin(op & 0x7F).count("1")
        elif op:
            out.append(delta[at : at + op])
            at += op
    return b"".join(out)


def is_repository(folder) -> bool:
    """A git dir (a `.git`, or a bare repository): HEAD and an object store."""
    folder = Path(folder)
    return (folder / "HEAD").is_file() and (folder / "objects").is_dir()


def repository_objects(git_dir, notes: list[str], timeout: float = 600) -> Iterator[bytes]:
    """Every object of a repository, deltas resolved, through `git cat-file` (none if git is not
    installed: the loose objects and packs are still read as files). The repository's own config
    cannot run anything here: cat-file reads objects only; global and system config are off."""
    git = shutil.which("git")
    if git is None:
        notes.append("git is not installed: delta objects of packs are read as their inserts")
        return
    env = {
        "PATH": os.environ.get("PATH", ""),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_NO_REPLACE_OBJECTS": "1",
    }
    command = [git, "-c", "safe.directory=*", "--git-dir", str(git_dir), "cat-file"]
    with subprocess.Popen(
        [*command, "--batch-all-objects", "--batch", "--unordered"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env=env,
    ) as process:
        try:
            while header := process.stdout.readline():
                parts = header.split()
                if len(parts) != 3 or not parts[2].isdigit():
                    notes.append(f"git cat-file: unexpected line {header[:80]!r}")
                    break
                yield process.stdout.read(int(parts[2]))
                process.stdout.read(1)  # the newline after each object
        finally:
            process.stdout.close()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
        if process.returncode:
            notes.append(f"git cat-file exited {process.returncode}: {process.stderr.read()[:200]!r}")
