"""Check `model_identity`: the submitted model descends from the allowed base model.

Three tests: the same architecture (config.json), the same tokenizer vocabulary (added
tokens allowed), and weights closer to the base model than to any disallowed model (an
instruct version, another model) and within `max_distance` of it (a random-init or
foreign model is far from everything). Distance = mean over shared tensors of
||final - ref|| / ||ref||, on a fixed sample of rows per tensor, read one slice at a
time with safetensors so memory stays small whatever the model size.
"""

from __future__ import annotations

import json
from contextlib import ExitStack
from pathlib import Path

from ptb.judge.common import result

NAME = "model_identity"
ARCH_KEYS = (
    "model_type",
    "architectures",
    "hidden_size",
    "num_hidden_layers",
    "intermediate_size",
    "num_attention_heads",
    "num_key_value_heads",
)
SAMPLE_ROWS = 64  # rows per tensor: enough to separate fine-tuned from substituted, cheap for 70B


def _config(model_dir: Path) -> dict:
    path = model_dir / "config.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def _architecture(config: dict) -> dict:
    return {key: config.get(key) for key in ARCH_KEYS}


def _vocab(model_dir: Path) -> dict[str, int] | None:
    """token -> id from tokenizer.json (BPE/WordPiece dict or Unigram list) or vocab.json."""
    path = model_dir / "tokenizer.json"
    if path.is_file():
        data = json.loads(path.read_text())
        raw = data.get("model", {}).get("vocab")
        vocab = {piece[0]: i for i, piece in enumerate(raw)} if isinstance(raw, list) else dict(raw or {})
        for token in data.get("added_tokens", []):
            vocab[token["content"]] = token["id"]
        return vocab
    path = model_dir / "vocab.json"
    if path.is_file():
        return json.loads(path.read_text())
    return None


def compare_vocab(base: Path, final: Path) -> dict:
    base_vocab, final_vocab = _vocab(base), _vocab(final)
    if base_vocab is None or final_vocab is None:
        return {"status": "unknown", "reason": "no tokenizer.json or vocab.json on one side"}
    changed = sorted(t for t, i in base_vocab.items() if final_vocab.get(t) != i)
    added = len(set(final_vocab) - set(base_vocab))
    status = "different" if changed else ("extended" if added else "same")
    return {
        "status": status,
        "base_size": len(base_vocab),
        "final_size": len(final_vocab),
        "changed_or_missing": len(changed),
        "examples": changed[:10],
        "added": added,
    }


class Weights:
    """Lazy access to a model folder's tensors (safetensors, one file or sharded)."""

    def __init__(self, model_dir: Path, stack: ExitStack):
        from safetensors import safe_open

        self.handles = {}
        for path in sorted(Path(model_dir).glob("*.safetensors")):
            handle = stack.enter_context(safe_open(str(path), framework="pt"))
            for name in handle.keys():
                self.handles[name] = handle

    def shape(self, name: str) -> list[int]:
        return list(self.handles[name].get_slice(name).get_shape())

    def rows(self, name: str, indices: list[int] | None):
        import torch

        handle = self.handles[name]
        if indices is None:
            return handle.get_tensor(name).float()
        view = handle.get_slice(name)
        return torch.cat([view[i : i + 1] for i in indices]).float()


def _sample(rows: int, count: int) -> list[int] | None:
    if rows <= count:
        return None
    step = rows / count
    return [int(i * step) for i in range(count)]


def distance(final: Weights, ref: Weights, sample_rows: int = SAMPLE_ROWS) -> tuple[float | None, int]:
    """Mean relative L2 distance over tensors both have with compatible shapes; (None, 0) if none."""
    import torch

    total, count = 0.0, 0
    for name in sorted(set(final.handles) & set(ref.handles)):
        a_shape, b_shape = final.shape(name), ref.shape(name)
        if not a_shape or a_shape[1:] != b_shape[1:]:
            continue
        # added tokens grow the embeddings: compare the rows both models have
        rows = min(a_shape[0], b_shape[0])
        indices = _sample(rows, sample_rows)
        if indices is None and a_shape[0] != b_shape[0]:
            indices = list(range(rows))
        a, b = final.rows(name, indices), ref.rows(name, indices)
        norm = torch.linalg.vector_norm(b).item()
        diff = torch.linalg.vector_norm(a - b).item()
        total += diff / norm if norm > 0 else (0.0 if diff == 0 else 1.0)
        count += 1
    return (total / count if count else None), count


def check(
    final_model_dir: str | Path,
    base_model_dir: str | Path,
    disallowed_models: dict[str, str],
    *,
    max_distance: float = 0.5,
    sample_rows: int = SAMPLE_ROWS,
) -> dict:
    final, base = Path(final_model_dir), Path(base_model_dir)
    if not final.is_dir():
        # a missing model is the agent run's outcome (no_model), not a substitution
        return result(NAME, True, "no model to check", model="no model")
    if not (base / "config.json").is_file():
        raise FileNotFoundError(f"base model has no config.json: {base}")
    problems = []
    arch_final, arch_base = _architecture(_config(final)), _architecture(_config(base))
    arch_diff = {
        k: {"base": arch_base[k], "final": arch_final[k]} for k in ARCH_KEYS if arch_base[k] != arch_final[k]
    }
    if arch_diff:
        problems.append("architecture differs from the base model")
    vocab = compare_vocab(base, final)
    if vocab["status"] == "different":
        problems.append("tokenizer vocabulary differs from the base model")
    distances: dict[str, float | None] = {}
    shared = 0
    skipped: dict[str, str] = {}
    with ExitStack() as stack:
        final_w = Weights(final, stack)
        if not final_w.handles:
            problems.append("no safetensors weights in final_model")
        else:
            base_d, shared = distance(final_w, Weights(base, stack), sample_rows)
            distances["base"] = base_d
            for name, path in sorted(disallowed_models.items()):
                other = Path(path)
                # a model of another architecture cannot be what a same-architecture model was copied from
                if other.resolve() == base.resolve():
                    skipped[name] = "same folder as the base model"
                elif not (other / "config.json").is_file():
                    skipped[name] = "no config.json"
                elif _architecture(_config(other)) != arch_final:
                    skipped[name] = "other architecture"
                if name in skipped:
                    continue
                distances[name] = distance(final_w, Weights(other, stack), sample_rows)[0]
            if base_d is None:
                problems.append("no tensor shared with the base model")
            else:
                if base_d > max_distance:
                    problems.append(f"weights far from the base model ({base_d:.3f} > {max_distance})")
                closer = sorted(
                    n for n, d in distances.items() if n != "base" and d is not None and d < base_d
                )
                if closer:
                    problems.append(f"weights closer to a disallowed model: {', '.join(closer)}")
    summary = (
        "; ".join(problems)
        if problems
        else (f"descends from the base model (distance {distances['base']:.4f})")
    )
    return result(
        NAME,
        not problems,
        summary,
        architecture_diff=arch_diff,
        vocabulary=vocab,
        distances=distances,
        tensors_compared=shared,
        skipped=skipped,
        max_distance=max_distance,
        problems=problems,
    )
