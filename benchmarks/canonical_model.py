"""Time and memory of the canonical-model step (ptb/agent_runs/canonical.py) on a 4B-parameter model.

Builds a base and a "final_model" with Qwen3-4B's tensor names and shapes (benchmarks/identity_4b.py's
builder: ~4.0B parameters, bf16, ~8 GB each, 1 GB shards with an index), then canonicalizes the final
model in a fresh process: resolve as the loaders would, check names against the base, copy every
tensor byte for byte into one model.safetensors with its sha256. Prints wall time, throughput and
peak resident memory. It is I/O: CPU only, no GPU to estimate. Needs ~25 GB free under --dir.

    OMP_NUM_THREADS=1 python benchmarks/canonical_model.py [--dir /tmp] [--layers 36]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from identity_4b import build, peak_mb  # noqa: E402

from ptb.agent_runs import canonical  # noqa: E402


def measure(root: Path) -> None:
    start = time.perf_counter()
    record = canonical.canonicalize(root / "final", root / "base", root / "served" / "model")
    seconds = time.perf_counter() - start
    size = (root / "served" / "model" / "model.safetensors").stat().st_size
    print(json.dumps({"seconds": seconds, "peak_mb": peak_mb(), "bytes": size, "refused": record["refused"]}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dir", default=tempfile.gettempdir())
    parser.add_argument("--layers", type=int, default=36)
    parser.add_argument("--measure", help=argparse.SUPPRESS)  # internal: the fresh process
    args = parser.parse_args()
    if args.measure:
        measure(Path(args.measure))
        return
    root = Path(tempfile.mkdtemp(dir=args.dir, prefix="canonical-bench-"))
    try:
        params = build(root, args.layers)
        shutil.rmtree(root / "instruct")
        os.sync()
        out = subprocess.run(
            [sys.executable, __file__, "--measure", str(root)], capture_output=True, text=True, check=True
        )
        figures = json.loads(out.stdout.strip().splitlines()[-1])
        load = os.getloadavg()[0]
        gb = figures["bytes"] / 1e9
        print(f"parameters: {params / 1e9:.2f} B, model.safetensors written: {gb:.2f} GB")
        print(f"canonical model: {figures['seconds']:.1f} s ({gb / figures['seconds']:.2f} GB/s), ", end="")
        print(
            f"peak memory {figures['peak_mb']:.0f} MB, refused: {figures['refused']}; load average {load:.2f}"
        )
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
