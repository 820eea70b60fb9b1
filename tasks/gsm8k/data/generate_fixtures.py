"""Write the offline GSM8K-format fixtures (test.jsonl, train.jsonl).

These are not GSM8K items: they are short word problems written from templates in
GSM8K's record schema ({"question", "answer": "reasoning #### number"}) so that the
demo and the tests run offline. Train and test come from disjoint seeds and are
checked to share no question.  Run: python tasks/gsm8k/data/generate_fixtures.py
"""

import json
import random
from pathlib import Path

# Many names and things, so that train and test items rarely share a long n-gram by chance
# (the judge's contamination check compares 13-grams).
NAMES = [
    "Ava",
    "Ben",
    "Chloe",
    "Dev",
    "Emma",
    "Farid",
    "Grace",
    "Hugo",
    "Ines",
    "Jon",
    "Kira",
    "Liam",
    "Maya",
    "Noor",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sami",
    "Tara",
    "Umar",
    "Vera",
    "Wes",
    "Yuki",
    "Zoe",
    "Aiden",
    "Bea",
    "Caleb",
    "Dina",
    "Eli",
    "Fatima",
    "Gus",
]
THINGS = [
    "apples",
    "marbles",
    "stickers",
    "pencils",
    "cookies",
    "books",
    "shells",
    "cards",
    "stamps",
    "buttons",
    "coins",
    "beads",
    "crayons",
    "balloons",
    "tickets",
    "acorns",
    "pebbles",
    "ribbons",
]


def add(rng):
    n, t, a, b = rng.choice(NAMES), rng.choice(THINGS), rng.randint(2, 40), rng.randint(2, 40)
    q = f"{n} has {a} {t}. {n} gets {b} more {t}. How many {t} does {n} have now?"
    return q, f"{n} has {a} + {b} = {a + b} {t}.", a + b


def subtract(rng):
    n, t, b = rng.choice(NAMES), rng.choice(THINGS), rng.randint(2, 30)
    a = b + rng.randint(1, 40)
    q = f"{n} had {a} {t} and gave away {b} of them. How many {t} are left?"
    return q, f"{n} has {a} - {b} = {a - b} {t} left.", a - b


def multiply(rng):
    n, t, a, b = rng.choice(NAMES), rng.choice(THINGS), rng.randint(2, 12), rng.randint(2, 12)
    q = f"{n} buys {a} boxes with {b} {t} in each box. How many {t} does {n} buy?"
    return q, f"{n} buys {a} * {b} = {a * b} {t}.", a * b


def two_step(rng):
    n, t = rng.choice(NAMES), rng.choice(THINGS)
    a, b, c = rng.randint(2, 9), rng.randint(2, 9), rng.randint(1, 20)
    q = f"{n} has {a} bags of {b} {t} and finds {c} loose {t}. How many {t} does {n} have in total?"
    return (
        q,
        f"The bags hold {a} * {b} = {a * b} {t}. With the loose ones: {a * b} + {c} = {a * b + c}.",
        a * b + c,
    )


def records(seed: int, count: int, exclude: set[str]) -> list[dict]:
    rng, out, seen = random.Random(seed), [], set(exclude)
    while len(out) < count:
        question, reasoning, final = rng.choice([add, subtract, multiply, two_step])(rng)
        if question not in seen:
            seen.add(question)
            out.append({"question": question, "answer": f"{reasoning}\n#### {final}"})
    return out


def main() -> None:
    here = Path(__file__).parent
    test = records(seed=2025, count=40, exclude=set())
    train = records(seed=7, count=400, exclude={r["question"] for r in test})
    for name, rows in (("test", test), ("train", train)):
        with open(here / f"{name}.jsonl", "w") as handle:
            handle.writelines(json.dumps(r) + "\n" for r in rows)


if __name__ == "__main__":
    main()
