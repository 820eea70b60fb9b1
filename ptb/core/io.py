"""Atomic writes, content hashes, and how result files record paths.

Recorded paths (model manifests' `path`, metrics.json's `model_path`, `log_file`, `reused_from`, `reused_log`,
the canonical model's `model`): relative to the folder of the file that records them
(record_path), so a checkout moved or copied with its results still resolves them; a path
outside the working directory (a cache configured absolute on another disk) is recorded
absolute. Readers resolve a recorded path with recorded_path (an absolute one, as old results
hold, is taken as it is).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

import yaml

# libyaml's parser where PyYAML was built with it (the PyPI wheels are): ~10x faster than the pure
# Python one on the config files, the schema and the task specs of every dry run
# (benchmarks/plan_grid.py)
YAML_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(text: str):
    """YAML text as the safe loader reads it."""
    return yaml.load(text, Loader=YAML_SAFE_LOADER)  # noqa: S506 (a SafeLoader)


def write_text_atomic(path: str | Path, text: str) -> None:
    """Write via a temp file in the same directory and rename: readers never see half a file,
    and a failed write (full disk) leaves neither half a file nor the temp file behind."""
    write_bytes_atomic(path, text.encode())


def write_bytes_atomic(path: str | Path, data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    umask = os.umask(0)
    os.umask(umask)
    try:
        os.fchmod(fd, 0o666 & ~umask)  # mkstemp's 0600 would make shared results unreadable to others
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())  # a node that crashes after the rename leaves no empty file
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: str | Path, data) -> None:
    write_text_atomic(path, json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")


def record_path(path: str | Path, record_file: str | Path) -> str:
    """path as record_file records it: relative to record_file's folder when both lie in the
    working directory (what moves with the checkout), else absolute."""
    target, folder, workdir = (
        Path(os.path.abspath(path)),
        Path(os.path.abspath(record_file)).parent,
        Path.cwd(),
    )
    if target.is_relative_to(workdir) and folder.is_relative_to(workdir):
        return os.path.relpath(target, folder)
    return str(target)


def recorded_path(value: str | Path, record_file: str | Path) -> Path:
    """The absolute path record_file recorded as value (record_path); an absolute value as is."""
    value = Path(value)
    if value.is_absolute():
        return value
    return Path(os.path.normpath(Path(os.path.abspath(record_file)).parent / value))


def record_paths(record: dict, keys: tuple[str, ...], record_file: str | Path) -> dict:
    """record with the paths under keys (those set) as record_file records them (record_path)."""
    return {**record, **{k: record_path(record[k], record_file) for k in keys if record.get(k)}}


def resolve_paths(record: dict, keys: tuple[str, ...], record_file: str | Path) -> dict:
    """record with the recorded paths under keys (those set) absolute (recorded_path)."""
    return {**record, **{k: str(recorded_path(record[k], record_file)) for k in keys if record.get(k)}}


class CorruptFile(ValueError):
    """A result file that is not the JSON object it should be; the message names the file."""


def read_json(path: str | Path):
    return json.loads(Path(path).read_text())


def read_json_record(path: str | Path) -> dict | None:
    """A result file's JSON object; None if the file does not exist; CorruptFile (naming it) if it
    is empty, truncated, not JSON or not an object (e.g. the disk filled while it was written
    by something other than write_json)."""
    try:
        text = Path(path).read_bytes()
    except FileNotFoundError:
        return None
    try:
        data = json.loads(text)
    except ValueError as error:  # JSONDecodeError and UnicodeDecodeError
        raise CorruptFile(f"{path}: not valid JSON ({error})") from None
    if not isinstance(data, dict):
        raise CorruptFile(f"{path}: a JSON {type(data).__name__}, not an object")
    return data


def sha256_file(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def hash_tree(root: str | Path, follow_links: bool = False, dotfiles: bool = True) -> dict[str, str]:
    """sha256 of every file under root, keyed by relative path, in path order: the one way a
    folder is hashed (manifests, model caches, the evaluation store's keys).

    Links: a linked folder is never entered. A linked file (or a linked root) is skipped,
    since the tree may be an agent's and a link may lead out of it, unless follow_links: then
    it is hashed as the file it points to (a hub snapshot links every file to a blob).
    Dotfiles: files and folders whose name starts with "." are hashed unless dotfiles=False
    (an evaluation key: .gitattributes or a download's .cache/ do not change what is served).
    """
    root = Path(root)
    if (root.is_symlink() and not follow_links) or not root.is_dir():
        return {}
    hashes = {}
    for path in sorted(root.rglob("*")):  # rglob enters no linked folder
        rel = path.relative_to(root)
        if not path.is_file() or (path.is_symlink() and not follow_links):
            continue
        if dotfiles or not any(part.startswith(".") for part in rel.parts):
            hashes[str(rel)] = sha256_file(path)
    return hashes
