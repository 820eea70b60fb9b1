"""Secrets (API keys) in the run's files: find them in their common encodings, redact them, record where.

One marker for the whole workflow. The agent runner redacts every file of the run before
anything else reads it and writes a redaction record (file, byte offset, variable name,
encoding; never the value) into agent.json; the judge reads that record, so a key the agent
wrote out is a finding in the verdict even though its value is gone from the results.

Encodings searched for each value: the plain bytes, base64 (standard and URL-safe alphabets,
at each of the three alignments a value can have inside a longer encoded string), hex (lower
and upper case), URL-encoding, and the value split across lines (a newline, with optional
quotes, `+`, `\\` or indentation, between any two of its characters).
"""

from __future__ import annotations

import base64
import os
import re
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

MARKER = "[REDACTED]"
KEY_LIKE = re.compile(r"(API_KEY|_TOKEN|_SECRET|PASSWORD)$")
MIN_SECRET_CHARS = 8  # shorter values ("1", "true") are not keys and would match everywhere
# between two characters of a value split across lines: a newline, with quotes, `+`, `\`, indentation
LINE_BREAK = rb"(?:[ \t\"'+\\]{0,8}\r?\n[ \t\"'+\\]{0,8})?"
LINE_BREAK_MAX = 18  # the most bytes LINE_BREAK can match


def secret_names(agents: dict) -> list[str]:
    """Every variable any agent entry passes through (`env:` of the agents registry)."""
    return sorted({name for agent in agents.values() for name in agent.get("env", [])})


def known_secrets(names, environ=os.environ) -> dict[str, str]:
    """variable name -> value, for the named variables and every key-like variable that is set."""
    wanted = set(names) | {n for n in environ if KEY_LIKE.search(n)}
    return {n: environ[n] for n in sorted(wanted) if len(environ.get(n) or "") >= MIN_SECRET_CHARS}


def _base64_cores(value: bytes, encode) -> list[bytes]:
    """The characters of value's base64 that do not depend on its neighbours, at each alignment."""
    cores = []
    for pad in range(3):
        text = encode(b"\0" * pad + value).rstrip(b"=")
        start = (0, 2, 3)[pad]  # characters that mix in the padding bytes' bits
        end = len(text) if (pad + len(value)) % 3 == 0 else len(text) - 1  # ... or the next byte's
        cores.append(text[start:end])
    return cores


def encodings(value: str) -> list[tuple[str, bytes]]:
    """(encoding, bytes) of every literal form searched for; the split-across-lines form is a regex."""
    raw = value.encode()
    forms = [("plain", raw)]
    forms += [("base64", core) for core in _base64_cores(raw, base64.b64encode)]
    forms += [("base64url", core) for core in _base64_cores(raw, base64.urlsafe_b64encode)]
    forms += [("hex", raw.hex().encode()), ("hex", raw.hex().upper().encode())]
    forms += [("url", urllib.parse.quote(value, safe="").encode())]
    forms += [("url", urllib.parse.quote_plus(value, safe="").encode())]
    seen, unique = set(), []
    for encoding, needle in forms:
        if needle not in seen and (encoding == "plain" or needle != raw):
            seen.add(needle)
            unique.append((encoding, needle))
    return unique


@dataclass(frozen=True)
class Hit:
    offset: int
    length: int
    variable: str
    encoding: str

    def record(self, file: str) -> dict:
        return {"file": file, "offset": self.offset, "variable": self.variable, "encoding": self.encoding}


class Needles:
    """The compiled search for a set of secrets (name -> value)."""

    def __init__(self, secrets: dict[str, str]):
        self.literals = [
            (name, encoding, needle)
            for name, value in sorted(secrets.items())
            if value
            for encoding, needle in encodings(value)
        ]
        self.split = [
            (name, re.compile(LINE_BREAK.join(re.escape(bytes([c])) for c in value.encode())))
            for name, value in sorted(secrets.items())
            if value
        ]
        longest = max((len(v.encode()) for v in secrets.values() if v), default=0)
        # the most bytes one occurrence can span: chunked readers overlap by this much
        self.span = max([longest * (1 + LINE_BREAK_MAX), *(len(n) for _, _, n in self.literals)], default=0)

    def __bool__(self) -> bool:
        return bool(self.literals)

    def find(self, data: bytes) -> list[Hit]:
        """Every occurrence, longest match first where two overlap."""
        hits = []
        for name, encoding, needle in self.literals:
            start = data.find(needle)
            while start >= 0:
                hits.append(Hit(start, len(needle), name, encoding))
                start = data.find(needle, start + 1)
        for name, pattern in self.split:
            for match in pattern.finditer(data):
                if b"\n" in match.group(0):  # without a line break it is the plain form, found above
                    hits.append(Hit(match.start(), match.end() - match.start(), name, "split_lines"))
        hits.sort(key=lambda h: (h.offset, -h.length))
        kept, end = [], -1
        for hit in hits:
            if hit.offset >= end:
                kept.append(hit)
                end = hit.offset + hit.length
        return kept


def redact_bytes(data: bytes, needles: Needles) -> tuple[bytes, list[Hit]]:
    hits = needles.find(data)
    if not hits:
        return data, []
    parts, cursor = [], 0
    for hit in hits:
        parts += [data[cursor : hit.offset], MARKER.encode()]
        cursor = hit.offset + hit.length
    parts.append(data[cursor:])
    return b"".join(parts), hits


def redact_tree(root: str | Path, secrets: dict[str, str], max_bytes: int = 50 << 20) -> list[dict]:
    """Redact every secret in every regular file under root (and in no link's target); return the
    redaction record. Offsets are in the file as the agent left it."""
    needles = Needles(secrets)
    if not needles:
        return []
    root = Path(root)
    record = []
    for path in sorted(root.rglob("*")):
        if path.is_symlink() or not path.is_file() or path.stat().st_size > max_bytes:
            continue
        data = path.read_bytes()
        redacted, hits = redact_bytes(data, needles)
        if hits:
            path.chmod(path.stat().st_mode | 0o200)
            path.write_bytes(redacted)
            record += [hit.record(str(path.relative_to(root))) for hit in hits]
    return record


def redact_value(value, secrets):
    """A JSON-like value with every secret (values of a dict or list of str) replaced by the marker,
    in keys and strings: for verdicts, logs and prompts sent to an outside model."""
    needles = Needles(secrets if isinstance(secrets, dict) else dict(enumerate(secrets)))
    return _redact_value(value, needles) if needles else value


def _redact_value(value, needles: Needles):
    if isinstance(value, str):
        return redact_bytes(value.encode(errors="surrogateescape"), needles)[0].decode(
            errors="surrogateescape"
        )
    if isinstance(value, dict):
        return {_redact_value(k, needles): _redact_value(v, needles) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact_value(v, needles) for v in value]
    return value
