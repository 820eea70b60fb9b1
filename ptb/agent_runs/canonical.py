"""One canonical model per run: what is judged is what is served.

An agent's final_model/ can be laid out in ways the loaders read differently: a weights file named
in config.json (`transformers_weights`, read by transformers 5, ignored by vLLM), an index beside a
single file, shards vLLM globs, an adapter (transformers+peft load the base named inside it, vLLM
loads the folder's weights), an untied lm_head under a tied config, tensors the architecture does
not have, pickled .bin weights. `canonicalize` resolves the folder as both loaders would, refuses
it where they would load different tensors (or tensors the base model does not have), and
otherwise writes `model/` once: one model.safetensors, a cleaned config.json, the tokenizer and
the generation config. The judge checks model/, every evaluation serves model/ (rules/model.smk):
nothing else of the agent's folder is ever loaded.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import struct
import tempfile
from pathlib import Path

from ptb.agent_runs import jobdir
from ptb.core import io

CANONICAL_VERSION = "1"
INDEX = "model.safetensors.index.json"
SINGLE = "model.safetensors"
BIN = "pytorch_model.bin"
BIN_INDEX = "pytorch_model.bin.index.json"
ADAPTER_CONFIG = "adapter_config.json"
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".gguf", ".h5", ".msgpack", ".npz")
# files the HF Trainer writes next to a checkpoint: training state, not weights a loader reads
TRAINER_STATE = re.compile(r"^(training_args\.bin|optimizer\.pt|scheduler\.pt|scaler\.pt|rng_state.*\.pth)$")
# what a loader reads besides the weights: the config, the generation defaults, the tokenizer
SERVED_FILES = (
    "config.json",
    "generation_config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "added_tokens.json",
    "vocab.json",
    "merges.txt",
    "tokenizer.model",
    "chat_template.jinja",
    "chat_template.json",
)
# config keys that make a loader read something else than the folder's weights, or run code
DROPPED_CONFIG_KEYS = ("transformers_weights", "auto_map")
FLOAT_DTYPES = ("BF16", "F16", "F32")
COPY_CHUNK = 1 << 26  # 64 MB per pread when a tensor is copied


class RefusedFolder(ValueError):
    """A model folder the loaders would read differently; the message says why."""


class Unloadable(RefusedFolder):
    """A model folder no loader can read (no weights, a broken config): the agent's failure to
    leave a model, not a layout that serves one thing and shows another."""


def _regular(path: Path) -> bool:
    return path.is_file()  # follows links: a hub snapshot copied with cp -r is links to blobs


def read_header(path: Path) -> tuple[int, dict]:
    """The safetensors header of a file: (where its data starts, tensor name -> entry)."""
    with open(path, "rb") as handle:
        raw = handle.read(8)
        if len(raw) != 8:
            raise Unloadable(f"{path.name} is not a safetensors file")
        size = struct.unpack("<Q", raw)[0]
        if size > 100_000_000:
            raise Unloadable(f"{path.name} has a {size}-byte header: not a safetensors file")
        try:
            header = json.loads(handle.read(size))
        except ValueError as err:
            raise Unloadable(f"{path.name} has an unreadable header: {err}") from None
        if not isinstance(header, dict):
            raise Unloadable(f"{path.name} has an unreadable header")
    header.pop("__metadata__", None)
    return 8 + size, header


def resolve(model_dir: str | Path) -> dict[str, Path]:
    """tensor name -> the safetensors file a loader takes it from, for a folder both transformers
    and vLLM read the same way: `model.safetensors.index.json` when present (its weight map names
    the shard files), else `model.safetensors`. RefusedFolder where they would disagree: an index
    beside a single file (transformers takes the file, vLLM the index), shard files vLLM would glob,
    an index that points outside the folder or disagrees with its shards, stray weight files."""
    folder = Path(model_dir)
    top = {p.name: p for p in folder.iterdir()} if folder.is_dir() else {}
    if INDEX in top and SINGLE in top:
        raise RefusedFolder(f"both {SINGLE} and {INDEX}: transformers loads the file, vLLM the index")
    if INDEX in top:
        try:
            weight_map = json.loads(top[INDEX].read_text())["weight_map"]
        except (ValueError, KeyError, TypeError) as err:
            raise RefusedFolder(f"unreadable {INDEX}: {err}") from None
        shards = sorted(set(weight_map.values()))
        for shard in shards:
            if not isinstance(shard, str) or Path(shard).name != shard or shard in ("", ".", ".."):
                raise RefusedFolder(f"{INDEX} points outside the folder: {shard!r}")
            if not shard.endswith(".safetensors") or not _regular(folder / shard):
                raise RefusedFolder(f"{INDEX} names a missing or non-safetensors shard: {shard}")
    elif SINGLE in top:
        shards, weight_map = [SINGLE], None
    else:
        raise Unloadable(f"no {SINGLE} or {INDEX}")
    stray = sorted(
        name
        for name in top
        if name.endswith(WEIGHT_SUFFIXES) and name not in shards and not TRAINER_STATE.match(name)
    )
    if stray:
        raise RefusedFolder(f"weight files no loader reads the same way: {', '.join(stray[:5])}")
    resolved: dict[str, Path] = {}
    for shard in shards:
        path = folder / shard
        if not _regular(path):
            raise RefusedFolder(f"{shard} is not a regular file")
        for name in read_header(path)[1]:
            if name in resolved:
                raise RefusedFolder(f"tensor {name} is in two shards ({resolved[name].name}, {shard})")
            resolved[name] = path
    if weight_map is not None:
        # both loaders read whole shards: a map that disagrees with them is a decoy
        actual = {name: path.name for name, path in resolved.items()}
        if actual != weight_map:
            wrong = sorted(set(actual.items()) ^ set(weight_map.items()))[:3]
            raise RefusedFolder(f"{INDEX} disagrees with the shards' contents, e.g. {wrong}")
    return resolved


def _config(folder: Path) -> dict:
    try:
        config = json.loads((folder / "config.json").read_text())
    except (OSError, ValueError) as err:
        raise Unloadable(f"config.json unreadable: {err}") from None
    if not isinstance(config, dict):
        raise Unloadable("config.json is not a JSON object")
    return config


def _check_config(folder: Path, config: dict) -> None:
    named = config.get("transformers_weights")
    if named is not None and not (named in (SINGLE, INDEX) and (folder / named).is_file()):
        raise RefusedFolder(
            f"config.json names its weights (transformers_weights={named!r}): transformers 5 loads "
            "that file, vLLM ignores the key and loads the folder's"
        )
    if config.get("quantization_config") is not None:
        raise RefusedFolder("config.json declares quantized weights: the loaders dequantize differently")


def _pickled_weights(folder: Path) -> dict:
    """pytorch_model.bin (or its index's shards), loaded without running pickled code."""
    import torch  # noqa: PLC0415

    top = {p.name for p in folder.iterdir()}
    if BIN_INDEX in top:
        try:
            shards = sorted(set(json.loads((folder / BIN_INDEX).read_text())["weight_map"].values()))
        except (ValueError, KeyError, TypeError, AttributeError) as err:
            raise RefusedFolder(f"unreadable {BIN_INDEX}: {err}") from None
    else:
        shards = [BIN]
    for shard in shards:
        if Path(shard).name != shard or not (folder / shard).is_file():
            raise RefusedFolder(f"{BIN_INDEX} names a missing shard or one outside the folder: {shard!r}")
    stray = sorted(
        n for n in top if n.endswith(WEIGHT_SUFFIXES) and n not in shards and not TRAINER_STATE.match(n)
    )
    if stray:
        # vLLM globs every *.bin when there is no safetensors file; transformers reads the index
        raise RefusedFolder(f"weight files no loader reads the same way: {', '.join(stray[:5])}")
    tensors = {}
    for shard in shards:
        try:
            state = torch.load(folder / shard, map_location="cpu", weights_only=True)
        except Exception as err:  # noqa: BLE001 (transformers refuses it as well: weights_only)
            raise Unloadable(f"{shard} does not load as plain tensors: {type(err).__name__}") from None
        if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
            raise RefusedFolder(f"{shard} is not a state dict of tensors")
        tensors.update({k: v.contiguous().clone() for k, v in state.items()})
    return tensors


def _merged_adapter(folder: Path, base_dir: Path, scratch: Path) -> Path:
    """The adapter merged into the allowed base (not the base named inside adapter_config.json,
    which transformers would load), saved as a plain folder in scratch."""
    import torch  # noqa: PLC0415
    from peft import PeftModel  # noqa: PLC0415
    from transformers import AutoModelForCausalLM  # noqa: PLC0415

    try:
        kind = json.loads((folder / ADAPTER_CONFIG).read_text()).get("peft_type")
    except (OSError, ValueError, AttributeError) as err:
        raise RefusedFolder(f"{ADAPTER_CONFIG} unreadable: {err}") from None
    if kind != "LORA":
        raise RefusedFolder(f"adapter type {kind!r}: only LoRA adapters are merged")
    base = AutoModelForCausalLM.from_pretrained(base_dir, dtype="auto", device_map="cpu")
    try:
        with torch.no_grad():
            merged = PeftModel.from_pretrained(base, folder).merge_and_unload()
    except Exception as err:  # noqa: BLE001 (an adapter that does not fit the base is refused)
        raise RefusedFolder(
            f"the adapter does not apply to the base model: {type(err).__name__}: {err}"
        ) from None
    out = scratch / "merged"
    merged.save_pretrained(out, safe_serialization=True)
    return out


def _embedding_name(names) -> str | None:
    return next((n for n in sorted(names) if n.endswith("embed_tokens.weight")), None)


def _same_bytes(a: tuple[Path, int, dict], b: tuple[Path, int, dict]) -> bool:
    (pa, sa, ea), (pb, sb, eb) = a, b
    if (ea["dtype"], ea["shape"]) != (eb["dtype"], eb["shape"]):
        return False
    # piece by piece: an embedding matrix need not sit in memory twice
    return all(x == y for x, y in zip(_chunks(pa, sa, ea), _chunks(pb, sb, eb), strict=True))


def _chunks(path: Path, start: int, entry: dict):
    """A tensor's bytes in COPY_CHUNK pieces: memory holds one piece, whatever the tensor's size."""
    begin, end = entry["data_offsets"]
    with open(path, "rb") as source:
        for at in range(begin, end, COPY_CHUNK):
            yield os.pread(source.fileno(), min(COPY_CHUNK, end - at), start + at)


def _plan(resolved: dict[str, Path], base_names: set[str], config: dict) -> tuple[dict, list[str]]:
    """name -> (file, data start, header entry) of the tensors to serve, and what was dropped.
    Refuses tensors the base model does not have (a loader ignores them, or fails) and base
    tensors missing (transformers would initialise them at random), dtypes that are not weights."""
    headers = {path: read_header(path) for path in set(resolved.values())}
    entries = {name: (path, headers[path][0], headers[path][1][name]) for name, path in resolved.items()}
    dropped = []
    tied = bool(config.get("tie_word_embeddings"))
    if tied and "lm_head.weight" in entries and "lm_head.weight" not in base_names:
        embed = _embedding_name(entries)
        if embed is None or not _same_bytes(entries["lm_head.weight"], entries[embed]):
            raise RefusedFolder(
                "an lm_head unlike the embeddings under tie_word_embeddings: transformers 5 loads it, "
                "vLLM ties the head to the embeddings"
            )
        del entries["lm_head.weight"]  # the tie itself: the same bytes as the embeddings
        dropped.append("lm_head.weight (tied copy of the embeddings)")
    extra = sorted(set(entries) - base_names)
    if extra:
        raise RefusedFolder(
            f"{len(extra)} tensor(s) the base model does not have, e.g. {extra[:3]}: "
            "one loader ignores them, another may load them"
        )
    missing = sorted(base_names - set(entries) - ({"lm_head.weight"} if tied else set()))
    if missing:
        raise RefusedFolder(
            f"{len(missing)} base tensor(s) missing, e.g. {missing[:3]}: transformers would initialise "
            "them at random"
        )
    odd = sorted(n for n, (_, _, e) in entries.items() if e.get("dtype") not in FLOAT_DTYPES)
    if odd:
        raise RefusedFolder(
            f"tensor(s) of a non-float dtype, e.g. {odd[:3]}: not weights a loader casts alike"
        )
    return entries, dropped


def _write_safetensors(entries: dict, out: Path) -> tuple[str, str]:
    """One safetensors file of the planned tensors, copied byte for byte in name order; returns
    the sha256 over every tensor's name, dtype, shape and bytes, and the file's own sha256
    (both taken while writing: an 8 GB model is read once)."""
    header, offset = {}, 0
    for name in sorted(entries):
        _, _, entry = entries[name]
        size = entry["data_offsets"][1] - entry["data_offsets"][0]
        header[name] = {
            "dtype": entry["dtype"],
            "shape": entry["shape"],
            "data_offsets": [offset, offset + size],
        }
        offset += size
    header["__metadata__"] = {"format": "pt"}
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)  # the data starts 8-byte aligned
    digest, whole = hashlib.sha256(), hashlib.sha256()
    with open(out, "wb") as sink:
        head = struct.pack("<Q", len(raw)) + raw
        whole.update(head)
        sink.write(head)
        for name in sorted(entries):
            path, start, entry = entries[name]
            digest.update(f"{name}\0{entry['dtype']}\0{entry['shape']}\0".encode())
            for chunk in _chunks(path, start, entry):
                digest.update(chunk)
                whole.update(chunk)
                sink.write(chunk)
    return digest.hexdigest(), whole.hexdigest()


def weights_digest(model_dir: str | Path) -> str:
    """sha256 over the tensors a loader reads from a canonical folder (name, dtype, shape, bytes)."""
    resolved = resolve(model_dir)
    entries, _ = _plan(resolved, set(resolved), {})
    digest = hashlib.sha256()
    for name in sorted(entries):
        path, start, entry = entries[name]
        digest.update(f"{name}\0{entry['dtype']}\0{entry['shape']}\0".encode())
        for chunk in _chunks(path, start, entry):
            digest.update(chunk)
    return digest.hexdigest()


def served_digest(model_dir: str | Path) -> str:
    """sha256 of what a loader serves from a folder: its tensors (name, dtype, shape, bytes) and
    the config, tokenizer and generation files; a README or a download's cache do not count.
    A folder the loaders would read differently is hashed file by file instead."""
    folder = Path(model_dir)
    digest = hashlib.sha256()
    try:
        digest.update(f"weights\0{weights_digest(folder)}\n".encode())
        files = {name: io.sha256_file(folder / name) for name in SERVED_FILES if (folder / name).is_file()}
    except RefusedFolder:
        files = io.hash_tree(folder, follow_links=True, dotfiles=False)
    for rel, sha in sorted(files.items()):
        digest.update(f"{Path(rel).as_posix()}\0{sha}\n".encode())
    return digest.hexdigest()


def _copy_served_files(final: Path, source: Path, dest: Path, config: dict) -> list[str]:
    """The tokenizer and generation config from final_model; config.json from the served source
    (a merged adapter's is the base's), cleaned of keys that would change what is loaded."""
    dropped = [key for key in DROPPED_CONFIG_KEYS if key in config]
    for name in SERVED_FILES:
        served_from = source if name == "config.json" and (source / name).is_file() else final
        path = served_from / name
        if not path.is_file():
            continue
        if name == "config.json" and dropped:
            cleaned = {k: v for k, v in config.items() if k not in DROPPED_CONFIG_KEYS}
            (dest / name).write_text(json.dumps(cleaned, indent=2) + "\n")
        else:
            shutil.copyfile(path, dest / name)
    return [f"config.json key {key}" for key in dropped]


def _remove(folder: Path) -> None:
    if folder.exists():
        jobdir.reclaim(folder)
        shutil.rmtree(folder)


def has_model(folder: str | Path) -> bool:
    """A folder a loader could serve: a config.json, or a LoRA adapter (merged into the base)."""
    folder = Path(folder)
    return (folder / "config.json").is_file() or (folder / ADAPTER_CONFIG).is_file()


def _served_source(final: Path, base: Path, scratch: Path) -> tuple[Path, dict, str]:
    """The folder whose safetensors and config are served, its config and its layout; the agent's
    own final_model when it is already safetensors."""
    top = {p.name for p in final.iterdir()}
    if ADAPTER_CONFIG in top:
        weights_present = top & {SINGLE, INDEX, BIN, BIN_INDEX}
        if weights_present:
            raise RefusedFolder(
                f"an adapter beside full weights ({', '.join(sorted(weights_present))}): "
                "transformers applies the adapter to the base named in it, vLLM loads the weights"
            )
        merged = _merged_adapter(final, base, scratch)
        return merged, _config(merged), "lora adapter merged into the base"
    config = _config(final)
    _check_config(final, config)
    if not top & {SINGLE, INDEX} and top & {BIN, BIN_INDEX}:
        from safetensors.torch import save_file  # noqa: PLC0415

        converted = scratch / "converted"
        converted.mkdir()
        save_file(_pickled_weights(final), converted / SINGLE, metadata={"format": "pt"})
        return converted, config, "pickled weights converted to safetensors"
    return final, config, "safetensors"


def canonicalize(final_dir: str | Path, base_dir: str | Path, dest: str | Path) -> dict:
    """Write dest (model/) from final_dir as both loaders would read it, or refuse. Returns the
    record for model.json: `refused` (why the loaders would disagree), `reason` (no model, or one
    no loader reads: the agent left none) or the layout, the tensors' digest, the files'
    hashes, and what was dropped. base_dir: the allowed base model (names of the tensors it has,
    and the base an adapter is merged into)."""
    final, base, dest = Path(final_dir), Path(base_dir), Path(dest)
    # final_model/'s own files are hashed in the run's manifest.json (final_model_files)
    record = {"canonical_version": CANONICAL_VERSION}
    _remove(dest)  # a model/ of an earlier attempt must not outlive a refusal
    if final.is_symlink() or not has_model(final):
        return {**record, "model": None, "refused": None, "reason": "no final_model/config.json"}
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest.parent, prefix=f".{dest.name}.tmp-") as scratch:
        scratch = Path(scratch)
        try:
            source, config, layout = _served_source(final, base, scratch)
            entries, dropped = _plan(resolve(source), set(resolve(base)), config)
        except Unloadable as err:
            return {**record, "model": None, "refused": None, "reason": f"final_model does not load: {err}"}
        except RefusedFolder as err:
            return {**record, "model": None, "refused": str(err)}
        built = scratch / "model"
        built.mkdir()
        digest, file_sha = _write_safetensors(entries, built / SINGLE)
        dropped += _copy_served_files(final, source, built, config)
        files = {p.name: io.sha256_file(p) for p in sorted(built.iterdir()) if p.name != SINGLE}
        files[SINGLE] = file_sha
        jobdir.freeze(built)  # read-only: what was judged is what is served
        built.rename(dest)
    return {
        **record,
        "model": dest.name,
        "refused": None,
        "layout": layout,
        "tensors": len(entries),
        "weights_sha256": digest,
        "files": files,
        "dropped": dropped,
    }
