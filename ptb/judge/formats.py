"""The text inside a file, whatever its name says: sniff the content, unpack, yield bytes of text.

Compression (gzip, bz2, xz, zstd) and containers (zip, tar) are opened and their members
sniffed in turn; tables (parquet, Arrow IPC file and stream) yield their string and binary
columns; safetensors yield their header (metadata) and any byte tensor; pickles yield the
strings among their opcodes' arguments, read with pickletools and never executed; NumPy
arrays their text; source and data text is read with JSON/Python string escapes undone and
base64 blobs decoded. Anything else is read as raw bytes, whose letter runs still count.
A reader that fails falls back to the raw bytes: a file crafted to break a parser is still read.
"""

from __future__ import annotations

import base64
import bz2
import contextlib
import gzip
import io
import json
import lzma
import pickletools
import re
import struct
import tarfile
import tempfile
import zipfile
from collections.abc import Iterator
from typing import BinaryIO

try:
    import zstandard
except ImportError:  # pragma: no cover - pinned and installed; tests patch it away to check the fallback
    zstandard = None

CHUNK = 8 << 20
HEAD = 512
MAX_DEPTH = 6  # nested containers: a zip in a tar in a gzip ... deeper is read raw
SPOOL_MEMORY = 64 << 20
ESCAPES = (b"\\n", b"\\r", b"\\t", b'\\"', b"\\/", b"\\\\")
UNICODE_ESCAPE = re.compile(rb"\\u([0-9a-fA-F]{4})")
BASE64_BLOB = re.compile(rb"(?:[A-Za-z0-9+/_-]{60,}={0,2}[ \t\r\n]*)+")
TORCH_STORAGE = re.compile(r"^torch (\w+)Storage$")
TEXT_STORAGES = {"Byte", "Char"}  # torch storages that can hold text; float storages are numbers


def sniff(head: bytes) -> str:
    if head[:2] == b"\x1f\x8b":
        return "gzip"
    if head[:3] == b"BZh":
        return "bz2"
    if head[:6] == b"\xfd7zXZ\x00":
        return "xz"
    if head[:4] == b"\x28\xb5\x2f\xfd":
        return "zstd"
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return "zip"
    if head[257:262] == b"ustar":
        return "tar"
    if head[:4] == b"PAR1":
        return "parquet"
    if head[:6] == b"ARROW1":
        return "arrow_file"
    if head[:4] == b"\xff\xff\xff\xff":
        return "arrow_stream"
    if head[:6] == b"\x93NUMPY":
        return "npy"
    if len(head) > 9 and head[8:10] in (b'{"', b"{ ") and struct.unpack("<Q", head[:8])[0] < 1 << 30:
        return "safetensors"
    if head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        return "pickle"
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return "utf16"
    return "binary" if b"\x00" in head else "text"


class _Head(io.RawIOBase):
    """A stream whose first bytes were already read (to sniff it), readable from the start again."""

    def __init__(self, head: bytes, rest: BinaryIO):
        self.head, self.rest, self.position = head, rest, 0

    def readable(self) -> bool:
        return True

    def tell(self) -> int:  # pickletools asks for positions
        return self.position

    def readinto(self, buffer) -> int:
        if self.head:
            size = min(len(buffer), len(self.head))
            buffer[:size], self.head = self.head[:size], self.head[size:]
        else:
            data = self.rest.read(len(buffer))
            size = len(data)
            buffer[:size] = data
        self.position += size
        return size


def _chunks(stream: BinaryIO) -> Iterator[bytes]:
    while block := stream.read(CHUNK):
        yield block


def _seekable(stream: BinaryIO) -> BinaryIO:
    if getattr(stream, "seekable", lambda: False)():
        stream.seek(0)
        return stream
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY)
    for block in _chunks(stream):
        spool.write(block)
    spool.seek(0)
    return spool


def texts(stream: BinaryIO, notes: list[str], depth: int = 0) -> Iterator[bytes]:
    """Bytes of text found in the stream; problems (a format that failed to parse) go to notes."""
    head = stream.read(HEAD)
    kind = sniff(head) if depth < MAX_DEPTH else "binary"
    reader = READERS[kind]
    if kind in SEEKING:
        try:
            stream.seek(0)
            source = stream if stream.seekable() else _seekable(_Head(head, stream))
        except (AttributeError, OSError, io.UnsupportedOperation):
            source = _seekable(_Head(head, stream))
    else:
        source = io.BufferedReader(_Head(head, stream), CHUNK)
    try:
        yield from reader(source, notes, depth)
    except Exception as err:  # noqa: BLE001 - a crafted or corrupt file is read raw, not skipped
        notes.append(f"{kind}: {type(err).__name__}: {err}"[:200])
        # all of it again as raw bytes: the decoy header of a crafted file must not hide what follows
        # (a decompressor reads ahead, so the rest of `source` alone may already be consumed)
        for whole in (source, stream):
            try:
                whole.seek(0)
            except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
                continue
            yield from _chunks(whole)
            return
        with contextlib.suppress(OSError, ValueError, EOFError):  # neither rewinds: the unread rest
            yield from _chunks(source)


def _decompressed(opener):
    def read(source, notes, depth):
        yield from texts(opener(source), notes, depth + 1)

    return read


def _zstd(source, notes, depth):
    if zstandard is None:
        notes.append("zstd: the zstandard package is not installed; read raw")
        yield from _chunks(source)
        return
    yield from texts(zstandard.ZstdDecompressor().stream_reader(source), notes, depth + 1)


def _text(source, notes, depth):
    carry = b""
    for block in _chunks(source):
        block = carry + block
        cut = block.rfind(b"\n")  # escapes and blobs never span a line break: keep the last line
        block, carry = (block[: cut + 1], block[cut + 1 :]) if 0 <= cut < len(block) - 1 else (block, b"")
        yield from _text_block(block, notes, depth)
    if carry:
        yield from _text_block(carry, notes, depth)


def _text_block(block: bytes, notes, depth):
    if b"\\" in block:
        if b"\\u" in block:
            block = UNICODE_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)).encode("utf-8", "ignore"), block)
        for escape in ESCAPES:
            block = block.replace(escape, b" ")
    yield block
    for match in BASE64_BLOB.finditer(block):
        blob = re.sub(rb"\s+", b"", match.group(0))
        try:
            decoded = base64.b64decode(
                blob + b"=" * (-len(blob) % 4), altchars=b"-_" if b"-" in blob else None
            )
        except ValueError:
            continue
        yield from texts(io.BytesIO(decoded), notes, depth + 1)


def _utf16(source, notes, depth):
    data = source.read()
    yield data.decode("utf-16", errors="ignore").encode()


def _raw(source, notes, depth):
    yield from _chunks(source)


def _pickle(source, notes, depth):
    """String arguments of every opcode; several pickles may follow one another."""
    if not hasattr(source, "peek"):
        source = io.BufferedReader(source)
    while source.peek(1)[:1]:
        for opcode, arg, _pos in pickletools.genops(source):
            if isinstance(arg, str):
                yield arg.encode("utf-8", "surrogatepass")
            elif isinstance(arg, (bytes, bytearray)) and len(arg) > 0:
                yield from texts(io.BytesIO(bytes(arg)), notes, depth + 1)
            if opcode.name == "STOP":
                break


def _torch_text_storages(archive: zipfile.ZipFile, pickle_name: str) -> set[str] | None:
    """Keys of the Byte/Char storages a torch.save archive's data.pkl declares (read, not run)."""
    kinds, current = {}, None
    with archive.open(pickle_name) as handle:
        for _opcode, arg, _pos in pickletools.genops(handle):
            if isinstance(arg, str):
                match = TORCH_STORAGE.match(arg.replace("\n", " "))
                if match:
                    current = match.group(1)
                elif current and arg.isdigit():
                    kinds[arg], current = current, None
    return {key for key, kind in kinds.items() if kind in TEXT_STORAGES}


def _zip(source, notes, depth):
    with zipfile.ZipFile(source) as archive:
        names = archive.namelist()
        pickles = {n.rsplit("/", 1)[0]: n for n in names if n.endswith("/data.pkl")}
        text_storages = {prefix: _torch_text_storages(archive, name) for prefix, name in pickles.items()}
        for info in archive.infolist():
            if info.is_dir():
                continue
            prefix, _, rest = info.filename.partition("/data/")
            if rest and prefix in text_storages and rest not in text_storages[prefix]:
                continue  # a torch tensor of numbers
            with archive.open(info) as member:
                yield from texts(member, notes, depth + 1)


def _tar(source, notes, depth):
    with tarfile.open(fileobj=source, mode="r|*") as archive:
        for member in archive:
            if member.isfile():
                yield from texts(archive.extractfile(member), notes, depth + 1)


def _arrow_values(array, notes, depth):
    import pyarrow as pa  # noqa: PLC0415
    import pyarrow.compute as pc  # noqa: PLC0415

    kind = array.type
    if pa.types.is_dictionary(kind):
        yield from _arrow_values(array.dictionary, notes, depth)
    elif pa.types.is_struct(kind):
        for i in range(kind.num_fields):
            yield from _arrow_values(pc.struct_field(array, [i]), notes, depth)
    elif pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind):
        yield from _arrow_values(array.flatten(), notes, depth)
    elif pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind):
        yield _string_bytes(array.cast(pa.large_string()))
    elif pa.types.is_binary(kind) or pa.types.is_large_binary(kind) or pa.types.is_binary_view(kind):
        for value in array.to_pylist():
            if value:
                yield from texts(io.BytesIO(value), notes, depth + 1)


def _string_bytes(array) -> bytes:
    """A large_string array's values, a newline between rows, straight from its Arrow buffers."""
    import numpy as np  # noqa: PLC0415

    offsets = np.frombuffer(array.buffers()[1], dtype=np.int64)[array.offset : array.offset + len(array) + 1]
    if len(offsets) < 2 or array.buffers()[2] is None:
        return b""
    data = np.frombuffer(array.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
    return np.insert(data, offsets[1:-1] - offsets[0], ord("\n")).tobytes()


def _table(batches, notes, depth):
    for batch in batches:
        yield " ".join(batch.schema.names).encode()
        for column in batch.columns:
            yield from _arrow_values(column, notes, depth)


def _parquet(source, notes, depth):
    import pyarrow.parquet as pq  # noqa: PLC0415

    yield from _table(pq.ParquetFile(source).iter_batches(batch_size=65536), notes, depth)


def _arrow_file(source, notes, depth):
    import pyarrow as pa  # noqa: PLC0415

    reader = pa.ipc.open_file(source)
    yield from _table((reader.get_batch(i) for i in range(reader.num_record_batches)), notes, depth)


def _arrow_stream(source, notes, depth):
    import pyarrow as pa  # noqa: PLC0415

    yield from _table(pa.ipc.open_stream(source), notes, depth)


def _safetensors(source, notes, depth):
    size = struct.unpack("<Q", source.read(8))[0]
    header_bytes = source.read(size)
    yield header_bytes
    header = json.loads(header_bytes)
    for name, entry in header.items():
        if name != "__metadata__" and entry.get("dtype") in ("U8", "I8"):
            start, end = entry["data_offsets"]
            source.seek(8 + size + start)
            yield from texts(io.BytesIO(source.read(end - start)), notes, depth + 1)


def _npy(source, notes, depth):
    import numpy as np  # noqa: PLC0415

    version = np.lib.format.read_magic(source)
    read_header = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
    dtype = read_header[version](source)[2]
    if dtype.kind == "U":
        yield source.read().decode("utf-32-le", errors="ignore").replace("\x00", " ").encode()
    elif dtype.hasobject:
        yield from _pickle(source, notes, depth)
    else:
        yield from _chunks(source)


READERS = {
    "gzip": _decompressed(lambda s: gzip.GzipFile(fileobj=s)),
    "bz2": _decompressed(bz2.BZ2File),
    "xz": _decompressed(lzma.LZMAFile),
    "zstd": _zstd,
    "zip": _zip,
    "tar": _tar,
    "parquet": _parquet,
    "arrow_file": _arrow_file,
    "arrow_stream": _arrow_stream,
    "safetensors": _safetensors,
    "npy": _npy,
    "pickle": _pickle,
    "utf16": _utf16,
    "text": _text,
    "binary": _raw,
}
SEEKING = {"zip", "parquet", "arrow_file", "safetensors", "npy"}
