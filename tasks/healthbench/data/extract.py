"""Copy PostTrainBench v1's HealthBench items into this folder, unchanged (gzip-compressed).

    git --git-dir=/work/.mirror/aisa-group+PostTrainBench/repo archive 9082063 \
        src/eval/tasks/healthbench | tar x -C /tmp/ptb
    python tasks/healthbench/data/extract.py /tmp/ptb

From github.com/aisa-group/PostTrainBench at commit 9082063 (MIT licence):
src/eval/tasks/healthbench/evaluation_code/data/healthbench.jsonl -> healthbench.jsonl.gz, the
fixed 245 conversations PostTrainBench evaluates ("subsampled from the original full
HealthBench", its data README), in its order (its shuffle starts from it). The records are
OpenAI's HealthBench records (openai/simple-evals, MIT), unchanged; the 245 are a subset of the
hub set's "easy" conversations that no filter reproduces, so the task takes these ids in this
order. gzip (no name, mtime 0) keeps the file under the repository's 2 MiB for a data file and
the copy byte-for-byte reproducible; the sha256 of the uncompressed file is checked, so a copy
from another commit fails loudly.
"""

import gzip
import hashlib
import sys
from pathlib import Path

SOURCE = Path("src/eval/tasks/healthbench/evaluation_code/data/healthbench.jsonl")
SHA256 = "0febc8f013eb5d91e3b7e31bbbb0284ae6aa5fbd8cab68b81d63fa252837c0b0"  # at commit 9082063
TARGET = Path(__file__).with_name("healthbench.jsonl.gz")


def main(checkout: str) -> None:
    path = Path(checkout) / SOURCE
    raw = path.read_bytes()
    found = hashlib.sha256(raw).hexdigest()
    if found != SHA256:
        sys.exit(f"{path}: sha256 {found}, expected {SHA256} (PostTrainBench commit 9082063)")
    with open(TARGET, "wb") as out, gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0) as packed:
        packed.write(raw)
    print(f"{path} -> {TARGET}")


if __name__ == "__main__":
    main(sys.argv[1])
