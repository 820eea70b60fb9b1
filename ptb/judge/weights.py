"""The weights a loader would load from a model folder, and their distances, streamed tensor by tensor.

`resolve` (ptb.agent_runs.canonical's, re-exported) follows transformers and vLLM and refuses a
folder they would read differently; the judge reads the run's canonical model/, which it accepts.

`compare` reads every parameter of the final model, its base and each reference model in blocks
of rows, so memory stays at a few blocks whatever the model's size, and accumulates the sums
the identity check needs (see `Comparison`).
"""

from __future__ import annotations

import math
import os
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from ptb.agent_runs.canonical import RefusedFolder, read_header, resolve

__all__ = ["RefusedFolder", "resolve", "compare", "Comparison", "Tensors"]

BLOCK_ELEMENTS = 1 << 24  # 64 MB of float32 per tensor block


DTYPES = {
    "BF16": "bfloat16",
    "F16": "float16",
    "F32": "float32",
    "F64": "float64",
    "I8": "int8",
    "U8": "uint8",
}


class Tensors:
    """Blocks of rows of a resolved folder's tensors, read with pread from the safetensors layout
    (8-byte header length, JSON header, data): memory holds one block, not mapped files."""

    def __init__(self, resolved: dict[str, Path], stack: ExitStack):
        self.entries = {}
        files = {}
        for path in sorted(set(resolved.values())):
            data_start, header = read_header(path)
            files[path] = (stack.enter_context(open(path, "rb")).fileno(), data_start, header)
        for name, path in resolved.items():
            fd, data_start, header = files[path]
            entry = header[name]
            if entry["dtype"] not in DTYPES:
                raise RefusedFolder(f"tensor {name} has dtype {entry['dtype']}, not a weight dtype")
            self.entries[name] = (fd, data_start + entry["data_offsets"][0], entry["shape"], entry["dtype"])
        self.slices = self.entries  # names present

    def shape(self, name: str) -> list[int]:
        return list(self.entries[name][2])

    def rows(self, name: str, start: int, stop: int):
        import torch  # noqa: PLC0415

        fd, offset, shape, dtype = self.entries[name]
        kind = getattr(torch, DTYPES[dtype])
        width = torch.tensor([], dtype=kind).element_size()
        per_row = math.prod(shape[1:]) if shape else 1
        data = os.pread(fd, (stop - start) * per_row * width, offset + start * per_row * width)
        return torch.frombuffer(bytearray(data), dtype=kind).float()


@dataclass
class Sums:
    """Sums over the compared elements against one reference model `o` (final f, base b)."""

    ref_from_base: float = 0.0  # sum (o - b)^2
    final_from_ref: float = 0.0  # sum (f - o)^2
    ref_norm: float = 0.0  # sum o^2
    dot: float = 0.0  # sum (f - b)(o - b)
    closer_elements: int = 0  # elements in tensors where f is nearer o than b
    moved_elements: int = 0  # elements in tensors where o differs from b


@dataclass
class Comparison:
    final_from_base: float = 0.0  # sum (f - b)^2
    base_norm: float = 0.0  # sum b^2
    relative_sum: float = 0.0  # sum over tensors of ||f - b|| / ||b|| (each tensor weighs the same)
    elements: int = 0
    tensors: int = 0
    missing: list[str] = field(default_factory=list)  # base tensors the final model lacks
    extra: list[str] = field(default_factory=list)  # final tensors the base lacks (not compared)
    mismatched: list[str] = field(default_factory=list)  # shapes no added-token growth explains
    refs: dict[str, Sums] = field(default_factory=dict)


def _rows_to_compare(final_shape, other_shape) -> int | None:
    """Rows both have (added tokens grow dim 0 of the embeddings); None if incompatible."""
    if not final_shape or final_shape[1:] != other_shape[1:]:
        return None
    return min(final_shape[0], other_shape[0])


def compare(final: dict[str, Path], base: dict[str, Path], refs: dict[str, dict[str, Path]]) -> Comparison:
    import torch  # noqa: PLC0415

    out = Comparison(refs={name: Sums() for name in refs})
    out.missing = sorted(set(base) - set(final))
    out.extra = sorted(set(final) - set(base))
    with ExitStack() as stack:
        f_t, b_t = Tensors(final, stack), Tensors(base, stack)
        r_t = {name: Tensors(files, stack) for name, files in refs.items()}
        for name in sorted(set(final) & set(base)):
            rows = _rows_to_compare(f_t.shape(name), b_t.shape(name))
            if rows is None:
                out.mismatched.append(name)
                continue
            usable = {
                ref: tensors
                for ref, tensors in r_t.items()
                if name in tensors.slices
                and (_rows_to_compare(f_t.shape(name), tensors.shape(name)) or 0) >= rows
            }
            per_row = max(1, math.prod(f_t.shape(name)[1:]))
            block = max(1, BLOCK_ELEMENTS // per_row)
            tensor = {ref: [0.0, 0.0] for ref in usable}  # (f - o)^2 and (o - b)^2 of this tensor
            fb_tensor = b_tensor = 0.0
            for start in range(0, rows, block):
                stop = min(rows, start + block)
                b = b_t.rows(name, start, stop).reshape(-1)
                fb = f_t.rows(name, start, stop).reshape(-1) - b
                # dot products (BLAS, float32 per block, summed in Python floats): the fewest passes
                fb_sq, b_sq = float(torch.dot(fb, fb)), float(torch.dot(b, b))
                fb_tensor += fb_sq
                b_tensor += b_sq
                for ref, tensors in usable.items():
                    ob = tensors.rows(name, start, stop).reshape(-1) - b
                    ob_sq, fb_ob, ob_b = (
                        float(torch.dot(ob, ob)),
                        float(torch.dot(fb, ob)),
                        float(torch.dot(ob, b)),
                    )
                    sums = out.refs[ref]
                    fo_sq = fb_sq + ob_sq - 2 * fb_ob  # (f - o) = (f - b) - (o - b)
                    sums.dot += fb_ob
                    sums.ref_norm += ob_sq + 2 * ob_b + b_sq  # o = (o - b) + b
                    sums.ref_from_base += ob_sq
                    sums.final_from_ref += max(fo_sq, 0.0)
                    tensor[ref][0] += max(fo_sq, 0.0)
                    tensor[ref][1] += ob_sq
            out.final_from_base += fb_tensor
            out.base_norm += b_tensor
            out.relative_sum += (fb_tensor / b_tensor) ** 0.5 if b_tensor > 0 else float(fb_tensor > 0)
            elements = rows * per_row
            out.elements += elements
            out.tensors += 1
            for ref, (fo_sq, ob_sq) in tensor.items():
                if ob_sq > 0:
                    out.refs[ref].moved_elements += elements
                    if fo_sq < fb_tensor:
                        out.refs[ref].closer_elements += elements
    return out
