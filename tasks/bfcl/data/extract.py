"""Write test.jsonl: BFCL exec_simple (100 items) from the bfcl-eval wheel, in the hub's record schema.

The package is not a dependency (it pins numpy and pulls sentence-transformers, faiss, ...);
only its data files are read, from the unpacked wheel:
    pip download --no-deps bfcl-eval==2026.3.23 -d /tmp/bfcl && unzip -q /tmp/bfcl/*.whl -d /tmp/bfcl/x
    python tasks/bfcl/data/extract.py /tmp/bfcl/x
The hub's exec_simple records carry the answer in the same row ("ground_truth"); the package
keeps it in possible_answer/, so the two files are joined by id.
"""

import json
import sys
from pathlib import Path

NAME = "BFCL_v4_exec_simple.json"


def main(wheel_dir: str) -> None:
    data = Path(wheel_dir) / "bfcl_eval" / "data" / "unused_datasets"
    read = lambda p: [json.loads(line) for line in p.read_text().split("\n") if line.strip()]  # noqa: E731
    answers = {a["id"]: a for a in read(data / "possible_answer" / NAME)}
    rows = []
    for q in read(data / "question" / NAME):
        a = answers[q["id"]]
        rows.append(
            {**q, "ground_truth": a["ground_truth"], "execution_result_type": a["execution_result_type"]}
        )
    out = Path(__file__).with_name("test.jsonl")
    out.write_text("".join(json.dumps(r) + "\n" for r in rows))
    print(f"{len(rows)} records -> {out}")


if __name__ == "__main__":
    main(sys.argv[1])
