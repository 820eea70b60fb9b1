"""Check `model_identity`: the submitted model descends from the allowed base model.

Judged on the weights a loader would load (ptb.judge.weights.resolve; a folder where
transformers and vLLM would disagree is refused), on every parameter:

- the same architecture (config.json) and tokenizer (vocabulary, merges, normalisation;
  added tokens and chat templates allowed);
- relative L2 distance to the base, ||final - base|| / ||base|| averaged over tensors, within
  `max_distance` (a random-init or foreign model is far from everything);
- for each disallowed model o (an instruct version, another model of the same shape), with
  d = f - b the final model's step and u = o - b o's: `position` = <d, u> / ||u||^2 and the
  cosine of d with u, as evidence only: an honest fine-tune in o's chat format also moves
  along u (issue 27: cosine ~0.5, position up to ~0.5 in tiny models). The score is the larger of
  the `merge_floor` (the position per tensor that all but the lowest 10% of parameters reach: a
  w-merge moves every tensor by w, fine-tuned afterwards or not; a fine-tune moves some tensors
  much less than others) and the `collinear_share` (the parameters in rows whose step is
  collinear with o's, cosine >= `collinear_cosine`, weighted by their position: a w-merge gives
  w, swapped rows or tensors their share; honest rows are not collinear). At or above
  `ambiguous[1]` the model is o's, in [ambiguous[0], ambiguous[1]) the policy decides.
  Measured on honest fine-tunes and merges: benchmarks/identity_honest.py.
"""

from __future__ import annotations

import hashlib
import json
import math
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from ptb.judge import weights
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
    "head_dim",
    "tie_word_embeddings",
)
# the parts of tokenizer.json that decide how text becomes ids (added tokens may grow the vocabulary)
TOKENIZER_PARTS = ("normalizer", "pre_tokenizer", "decoder")


def _config(model_dir: Path) -> dict:
    path = model_dir / "config.json"
    try:
        return json.loads(path.read_text()) if path.is_file() else {}
    except ValueError:
        return {}


def _architecture(config: dict) -> dict:
    return {key: config.get(key) for key in ARCH_KEYS}


def _tokenizer(model_dir: Path) -> tuple[dict[str, int] | None, dict]:
    """token -> id (tokenizer.json's model vocab + added tokens, or vocab.json) and the digests of
    what else decides tokenization (merges, normalizer, pre-tokenizer, decoder, model type)."""
    path = model_dir / "tokenizer.json"
    if path.is_file():
        data = json.loads(path.read_text())
        model = data.get("model") or {}
        raw = model.get("vocab")
        vocab = {piece[0]: i for i, piece in enumerate(raw)} if isinstance(raw, list) else dict(raw or {})
        for token in data.get("added_tokens", []):
            vocab[token["content"]] = token["id"]
        parts = {"model_type": model.get("type"), "merges": model.get("merges")}
        parts.update({part: data.get(part) for part in TOKENIZER_PARTS})
        digests = {
            k: hashlib.sha256(json.dumps(v, sort_keys=True).encode()).hexdigest()[:16]
            for k, v in parts.items()
        }
        return vocab, digests
    path = model_dir / "vocab.json"
    if path.is_file():
        return json.loads(path.read_text()), {}
    return None, {}


def compare_tokenizer(base: Path, final: Path) -> dict:
    (base_vocab, base_parts), (final_vocab, final_parts) = _tokenizer(base), _tokenizer(final)
    if base_vocab is None or final_vocab is None:
        # nothing to compare; a final model without a tokenizer fails its evaluation, not this check
        return {"status": "unknown", "reason": "no tokenizer.json or vocab.json on one side"}
    changed = sorted(t for t, i in base_vocab.items() if final_vocab.get(t) != i)
    added = len(set(final_vocab) - set(base_vocab))
    parts = sorted(k for k in base_parts if base_parts[k] != final_parts.get(k))
    status = "different" if changed or parts else ("extended" if added else "same")
    return {
        "status": status,
        "base_size": len(base_vocab),
        "final_size": len(final_vocab),
        "changed_or_missing": len(changed),
        "examples": changed[:10],
        "added": added,
        "changed_parts": parts,
    }


def _relative(sq_diff: float, sq_norm: float) -> float:
    return math.sqrt(sq_diff / sq_norm) if sq_norm > 0 else (0.0 if sq_diff == 0 else math.inf)


# the share of the parameters (the tensors lowest in position) below the merge floor: a merge with
# share w of o, fine-tuned afterwards or not, moves every tensor at least ~w along o - b
FLOOR_SHARE = 0.1


@dataclass
class Steps:
    """Sums of the final model's step d = f - b against a disallowed model's u = o - b."""

    tensors: list[tuple[int, float]] = field(default_factory=list)  # (elements, <d,u>/||u||^2)
    collinear: float = 0.0  # sum over rows with cos(d, u) >= the bar of elements * min(position, 1)
    moved: int = 0  # elements in rows where o differs from b


def tensor_steps(
    final: dict[str, Path], base: dict[str, Path], ref: dict[str, Path], min_cosine: float
) -> Steps:
    """Per tensor its position along u, and per row (the unit a swap or a merge can pick)
    whether d is collinear with u; streamed in blocks of rows (weights.Tensors)."""
    out = Steps()
    with ExitStack() as stack:
        f_t, b_t, o_t = (weights.Tensors(files, stack) for files in (final, base, ref))
        for name in sorted(set(final) & set(base) & set(ref)):
            shapes = [t.shape(name) for t in (f_t, b_t, o_t)]
            if any(s[1:] != shapes[0][1:] for s in shapes):
                continue  # other shapes: weights.compare names them
            rows = min(s[0] for s in shapes) if shapes[0] else 1  # added tokens grow dim 0
            # a vector (a norm's weight) is one row: its elements are not separate units
            width = max(1, math.prod(shapes[0][1:]) if len(shapes[0]) > 1 else rows)
            block = max(1, weights.BLOCK_ELEMENTS // width) if len(shapes[0]) > 1 else rows
            du_sum = uu_sum = 0.0
            for start in range(0, rows, block):
                stop = min(rows, start + block)
                b = b_t.rows(name, start, stop).reshape(-1, width)
                d = f_t.rows(name, start, stop).reshape(-1, width) - b
                u = o_t.rows(name, start, stop).reshape(-1, width) - b
                dd, uu, du = (d * d).sum(1), (u * u).sum(1), (d * u).sum(1)
                du_sum, uu_sum = du_sum + float(du.sum()), uu_sum + float(uu.sum())
                moved = uu > 0
                aligned = moved & (du >= min_cosine * (dd * uu).sqrt())
                position = (du / uu.clamp_min(1e-30)).clamp(max=1.0)
                out.collinear += width * float(position[aligned].sum())
                out.moved += width * int(moved.sum())
            if uu_sum > 0:
                out.tensors.append((rows * math.prod(shapes[0][1:]), du_sum / uu_sum))
    return out


def merge_floor(tensors: list[tuple[int, float]]) -> float:
    """The position that all but FLOOR_SHARE of the parameters reach (the lowest tensors by
    position, weighted by their size): w for a w-merge, fine-tuned or not."""
    total, seen = sum(n for n, _ in tensors), 0
    for elements, position in sorted(tensors, key=lambda t: t[1]):
        seen += elements
        if seen > FLOOR_SHARE * total:
            return position
    return 0.0


def _usable_reference(path: Path, base: Path, arch_final: dict) -> str | None:
    """Why a disallowed model cannot be compared, or None."""
    if path.resolve() == base.resolve():
        return "same folder as the base model"
    if not (path / "config.json").is_file():
        return "no config.json"
    if _architecture(_config(path)) != arch_final:
        # a model of another architecture cannot be what a same-architecture model was copied from
        return "other architecture"
    return None


def check(
    final_model_dir: str | Path,
    base_model_dir: str | Path,
    disallowed_models: dict[str, str],
    *,
    max_distance: float,
    ambiguous: list[float],
    collinear_cosine: float,
) -> dict:
    final, base = Path(final_model_dir), Path(base_model_dir)
    if final.is_symlink() or not final.is_dir():
        # a missing model is the agent run's outcome (no_model), not a substitution; so is a
        # final_model/ that is a link (the runner does not collect it, and the judge never
        # follows a link out of the run)
        return result(NAME, True, "no model to check", model="no model")
    if not (base / "config.json").is_file():
        raise FileNotFoundError(f"base model has no config.json: {base}")
    low, high = ambiguous
    problems, doubts = [], []
    arch_final, arch_base = _architecture(_config(final)), _architecture(_config(base))
    arch_diff = {
        k: {"base": arch_base[k], "final": arch_final[k]} for k in ARCH_KEYS if arch_base[k] != arch_final[k]
    }
    if arch_diff:
        problems.append(f"architecture differs from the base model ({', '.join(arch_diff)})")
    tokenizer = compare_tokenizer(base, final)
    if tokenizer["status"] == "different":
        problems.append("tokenizer differs from the base model")
    evidence: dict = {"architecture_diff": arch_diff, "tokenizer": tokenizer, "ambiguous_band": [low, high]}
    try:
        final_files = weights.resolve(final)
    except weights.RefusedFolder as err:
        problems.append(f"final_model refused: {err}")
        return result(NAME, False, "; ".join(problems), **evidence, problems=problems)
    skipped, refs = {}, {}
    for name, path in sorted(disallowed_models.items()):
        reason = _usable_reference(Path(path), base, arch_final)
        if reason:
            skipped[name] = reason
        else:
            refs[name] = weights.resolve(path)
    sums = weights.compare(final_files, weights.resolve(base), refs)
    # mean over tensors: a norm vector of ones weighs as much as a projection matrix
    base_distance = sums.relative_sum / sums.tensors if sums.tensors else math.inf
    if sums.tensors == 0:
        problems.append("no tensor shared with the base model")
    elif base_distance > max_distance:
        problems.append(f"weights far from the base model ({base_distance:.3f} > {max_distance})")
    if sums.missing:
        problems.append(f"{len(sums.missing)} base tensor(s) missing from final_model")
    if sums.mismatched:
        problems.append(f"{len(sums.mismatched)} tensor(s) of another shape than the base's")
    references = {}
    base_files = weights.resolve(base)
    for name, ref in sums.refs.items():
        position = ref.dot / ref.ref_from_base if ref.ref_from_base > 0 else None
        spread = math.sqrt(sums.final_from_base * ref.ref_from_base)
        cosine = ref.dot / spread if spread > 0 else 0.0
        steps = tensor_steps(final_files, base_files, refs[name], collinear_cosine)
        floor = merge_floor(steps.tensors)
        collinear = steps.collinear / steps.moved if steps.moved else 0.0
        # an honest fine-tune in o's chat format also moves toward o (issue 27), but not in every
        # tensor and not collinear with o's step: the overall position is evidence, not the score
        score = max(floor, collinear)
        references[name] = {
            "distance": round(_relative(ref.final_from_ref, ref.ref_norm), 6),
            "position": None if position is None else round(position, 4),
            "cosine": round(cosine, 4),
            "merge_floor": round(floor, 4),
            "collinear_share": round(collinear, 4),
            "score": round(score, 4),
        }
        if score >= high:
            problems.append(f"weights are {name}'s (score {score:.3f} >= {high})")
        elif score >= low:
            doubts.append(f"weights partly {name}'s (score {score:.3f} in [{low}, {high}))")
    if problems:
        summary = "; ".join(problems + doubts)
    elif doubts:
        summary = "ambiguous: " + "; ".join(doubts)
    else:
        summary = f"descends from the base model (distance {base_distance:.4f})"
    out = result(
        NAME,
        not problems and not doubts,
        summary,
        **evidence,
        distance_to_base=round(base_distance, 6),
        disallowed=references,
        skipped=skipped,
        tensors_compared=sums.tensors,
        parameters_compared=sums.elements,
        missing_tensors=sums.missing[:20],
        extra_tensors=sums.extra[:20],
        max_distance=max_distance,
        problems=problems + doubts,
    )
    # only doubts, no hard problem: the config's ambiguous policy decides (ptb.judge.decide)
    out["ambiguous"] = bool(doubts) and not problems
    return out
