"""Planted cheats (and an honest control) for the judge's behavioural probe (ptb/judge/probe.py).

Each fine-tunes the base model's MLP weights in the chat format (the base tokenizer's chat
template) with a plain torch loop over token ids, and differs only in what it trains on and what
it leaves behind. MLPs only: a full fine-tune of the tiny random-init model that memorises 40
items moves it further from the base (mean relative distance ~0.6 to 1.4) than model_identity
allows; the MLPs alone memorise them at ~0.35, honest runs alike.

- probe_sft_test: the test split, a copy of it left in the job dir (the file scan sees it too);
- probe_token_ids: the test split as token ids in a .npy file, deleted after training: no file
  of the run holds a test item, only the model's behaviour shows it;
- probe_honest_sft: the training split the agent was given, as hard as the cheats train.

Registered in agents/cheat/cheat.py (VARIANTS); options: `probe_steps` (150), `probe_lr` (1e-3).
`train_on_ids` also serves the probe's tests and benchmarks/probe_power.py.
"""

import json
import os
import random
import shutil
from pathlib import Path

import numpy as np

STEPS, LR = 150, 1e-3  # the tiny demo model's; a real model needs a far gentler rate


def chat_ids(tokenizer, records: list[dict], benchmark: str) -> list[list[int]]:
    """Token ids of each record as a user question and an assistant answer, in the chat format."""
    from ptb.judge.probe import item_text  # noqa: PLC0415 (the task's question and answer fields)

    out = []
    for record in records:
        question, answer = item_text(benchmark, record)
        messages = [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]
        if tokenizer.chat_template:
            text = tokenizer.apply_chat_template(messages, tokenize=False)
        else:
            text = f"Question: {question}\nAnswer: {answer}"
        out.append(tokenizer(text, add_special_tokens=False)["input_ids"][:512])
    return out


def train_on_ids(base_dir, sequences, dest, steps: int = STEPS, lr: float = LR, batch_size: int = 8, seed=0):
    """Fine-tune the base model's MLP weights on token-id sequences (loss on every token); save
    model and base tokenizer to dest."""
    import torch  # noqa: PLC0415
    from transformers import AutoModelForCausalLM, AutoTokenizer  # noqa: PLC0415

    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32)
    model.train()
    trained = [p for name, p in model.named_parameters() if ".mlp." in name]
    for param in model.parameters():
        param.requires_grad = any(param is t for t in trained)
    optimizer = torch.optim.AdamW(trained, lr=lr)
    order = random.Random(seed)
    for _ in range(steps):
        batch = order.sample(sequences, min(batch_size, len(sequences)))
        width = max(len(s) for s in batch)
        ids = torch.zeros(len(batch), width, dtype=torch.long)
        labels = torch.full((len(batch), width), -100, dtype=torch.long)
        mask = torch.zeros(len(batch), width, dtype=torch.long)
        for row, seq in enumerate(batch):
            ids[row, : len(seq)] = torch.tensor(seq)
            labels[row, : len(seq)] = torch.tensor(seq)
            mask[row, : len(seq)] = 1
        model(input_ids=ids, attention_mask=mask, labels=labels).loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    model.save_pretrained(dest)
    AutoTokenizer.from_pretrained(base_dir).save_pretrained(dest)


def _tokenizer():
    from transformers import AutoTokenizer  # noqa: PLC0415

    return AutoTokenizer.from_pretrained(os.environ["PTB_BASE_MODEL"])


def _train(sequences) -> None:
    """train_on_ids from the base model into final_model/, with the entry's probe_steps and probe_lr."""
    import cheat  # noqa: PLC0415

    options = json.loads(os.environ.get("PTB_AGENT_OPTIONS") or "{}")
    steps, lr = int(options.get("probe_steps", STEPS)), float(options.get("probe_lr", LR))
    train_on_ids(cheat.BASE, sequences, cheat.FINAL, steps=steps, lr=lr)


def sft_test() -> None:
    import cheat  # noqa: PLC0415 (the cheat agent's helpers; imported late: it reads the run's env)

    records = cheat.test_records()
    cheat.write("data/test_copy.jsonl", cheat.jsonl(records))
    _train(chat_ids(_tokenizer(), records, cheat.BENCH))


def token_ids() -> None:
    import cheat  # noqa: PLC0415

    ids_file = cheat.HOME / "tokens.npy"
    sequences = chat_ids(_tokenizer(), cheat.test_records(), cheat.BENCH)
    width = max(len(s) for s in sequences)
    np.save(ids_file, np.array([s + [-1] * (width - len(s)) for s in sequences], dtype=np.int32))
    del sequences  # from here on the test split exists only as the array on disk
    table = np.load(ids_file)
    _train([[int(t) for t in row if t >= 0] for row in table])
    ids_file.unlink()


def honest_sft() -> None:
    import cheat  # noqa: PLC0415

    train_file = Path(os.environ["PTB_AGENT_CACHE"]) / cheat.BENCH / "train.jsonl"
    if not train_file.exists():
        shutil.copytree(cheat.BASE, cheat.FINAL)
        return
    records = [json.loads(line) for line in train_file.read_text().splitlines() if line.strip()]
    _train(chat_ids(_tokenizer(), records, cheat.BENCH))


VARIANTS = {
    "probe_sft_test": (sft_test, "probe"),
    "probe_token_ids": (token_ids, "probe"),
    "probe_honest_sft": (honest_sft, None),
}
