"""Content hashes of code, used as rule params so that a code change re-runs exactly its stage."""

from __future__ import annotations

import functools
import hashlib

from ptb.core.paths import REPO_ROOT

SUFFIXES = {".py", ".yaml", ".yml", ".jinja", ".j2", ".md", ".sh", ".txt"}


@functools.lru_cache(maxsize=None)  # many jobs hash the same files within one dry run
def source_hash(*relative_paths: str) -> str:
    digest = hashlib.sha256()
    for rel in relative_paths:
        root = REPO_ROOT / rel
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.suffix in SUFFIXES)
        for path in files:
            if "__pycache__" in path.parts:
                continue
            digest.update(str(path.relative_to(REPO_ROOT)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]
