"""Tiny models and a synthetic agent run for the judge tests (built offline in a few seconds)."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from ptb import judge
from ptb.core import config, io
from ptb.core.paths import REPO_ROOT
from ptb.inputs.demo_models import build_tiny_qwen3

CORPUS = [
    "The quick brown fox jumps over the lazy dog. 0 1 2 3 4 5 6 7 8 9 + - * / = ANSWER:",
    "Solve the math problem step by step. How many apples does Ava have now?",
] * 20
OTHER_CORPUS = ["Lorem ipsum dolor sit amet, consectetur adipiscing elit. QWERTY zxcv"] * 40

NAMES = ["Ava", "Ben", "Chloe", "Dev", "Emma", "Farid", "Grace", "Hugo"]
THINGS = ["apples", "marbles", "stickers", "pencils", "cookies", "books"]


def make_test_items(count: int = 40) -> list[dict]:
    """GSM8K-like test records, each question unique (name, thing and numbers vary)."""
    items = []
    for i in range(count):
        n, t, a, b = NAMES[i % 8], THINGS[i % 6], 3 + i, 7 + 2 * i
        items.append(
            {
                # every 13-word window holds one of the item's numbers: items share no 13-gram
                "question": f"{n} has {a} {t} in a basket and buys {b} more {t} at the market on day {i}. "
                f"How many {t} does {n} have at the end of day {i}?",
                "answer": f"{n} starts with {a} {t} and buys {b} more, "
                f"so {n} has {a} + {b} = {a + b} {t}.\n#### {a + b}",
            }
        )
    return items


def texts(items: list[dict]) -> list[str]:
    return [text for item in items for text in (item["question"], item["answer"])]


def item_texts(items: list[dict]) -> list[list[str]]:
    """Test items as the judge takes them: each item's texts."""
    return [[item["question"], item["answer"]] for item in items]


def judge_settings(**overrides) -> dict:
    """The production config's judge section with overrides, defaults filled by the schema."""

    raw = yaml.safe_load((REPO_ROOT / "workflow_config.yaml").read_text())
    raw["judge"].update(overrides)
    return config.validate(raw)["judge"]


def train_lines(count: int = 50) -> list[dict]:
    """Training data of another shape: disjoint from the test items."""
    return [
        {
            "prompt": f"A train leaves at {i} o'clock going {30 + i} miles per hour. How far does it go in "
            f"{i % 5 + 1} hours?",
            "completion": f"It goes {(30 + i) * (i % 5 + 1)} miles.",
        }
        for i in range(count)
    ]


def random_model(dest: Path, tokenizer, seed: int) -> Path:
    """The demo's tiny Qwen3, narrower (hidden 32) so that the judge suite's many models build fast."""
    build_tiny_qwen3(dest, seed, tokenizer=tokenizer, hidden_size=32, max_positions=256)
    return dest


def perturbed(source: Path, dest: Path, relative: float, seed: int) -> Path:
    """source + noise whose norm is `relative` times each tensor's norm (a fine-tune, or an
    instruct delta)."""
    import torch  # noqa: PLC0415 (heavy, optional)
    from transformers import AutoModelForCausalLM  # noqa: PLC0415 (heavy, optional)

    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_pretrained(source)
    with torch.no_grad():
        for param in model.parameters():
            noise = torch.randn_like(param)
            param.add_(noise * (relative * param.norm() / noise.norm()))
    model.save_pretrained(dest)
    for name in ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja"):
        if (source / name).exists():
            shutil.copyfile(source / name, dest / name)
    return dest


HANDOUT = {
    "evaluate.py": "import sys\nprint('evaluate the final model')\n",
    "task.py": "# the benchmark task\n",
    "task.yaml": "version: 1\n",
    "templates/qwen3.jinja": "{{ messages }}\n",
}


class Run:
    """A run dir as the workflow leaves it: job/ (handout + final_model), agent.log, trace.md."""

    def __init__(self, root: Path, models: dict[str, Path], submit: str | None = "finetuned"):
        self.run_dir = root / "run"
        self.job_dir = self.run_dir / "job"
        for rel, text in HANDOUT.items():
            (self.job_dir / rel).parent.mkdir(parents=True, exist_ok=True)
            (self.job_dir / rel).write_text(text)
        self.handout = {rel: io.sha256_file(self.job_dir / rel) for rel in HANDOUT}
        if submit:
            shutil.copytree(models[submit], self.job_dir / "final_model")
        (self.run_dir / "agent.log").write_text("agent started\nagent finished\n")
        (self.run_dir / "trace.md").write_text("## assistant\nI will fine-tune on the training split.\n")
        self.models = models
        self.items = make_test_items()
        self.secrets = {"PTB_TEST_API_KEY": "sk-test-0123456789abcdef"}
        self.key = self.secrets["PTB_TEST_API_KEY"]
        self.redactions: list[dict] = []
        self.home = self.run_dir / "home"
        self.train_view = root / "agent_view"  # what the workflow gave the agent to train on
        self.train_view.mkdir()

    def write(self, rel: str, text: str) -> Path:
        path = self.job_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path

    def review(self, settings: dict | None = None, disallowed: dict | None = None) -> dict:

        return judge.review(
            agent_dirs={"job": self.job_dir, "home": self.home, "scratch": self.run_dir / "scratch"},
            handout=self.handout,
            final_model_dir=self.job_dir / "final_model",
            base_model_dir=self.models["base"],
            disallowed_models={"m/instruct": self.models["instruct"]} if disallowed is None else disallowed,
            test_items=item_texts(self.items),
            training_data=[self.train_view],
            secrets=self.secrets,
            redactions=self.redactions,
            run_dir=self.run_dir,
            settings=judge_settings(**(settings or {})),
        )


def check(verdict: dict, name: str) -> dict:
    return next(c for c in verdict["checks"] if c["name"] == name)
