"""Reference SFT agent: teach the base model the answer format on training items.

Reads the training split from $PTB_AGENT_CACHE/<benchmark>/train.jsonl (never a test
set), formats each item as a chat turn that ends in the format the benchmark's
scorer reads, fine-tunes with TRL's SFTTrainer, and saves final_model/. It stops
early enough to save before $PTB_DEADLINE. Options (config `options:`): max_steps and
epochs (whichever ends first), learning_rate, batch_size, max_items, train_layers (train only the top N
decoder layers: on a CPU this halves the cost of a step, since backward stops there).
The loss scores the reply's tokens only (ReplyOnlyLoss); each step prints a line (the job's heartbeat).
"""

import json
import math
import os
import shutil
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from datasets import Dataset
from inspect_evals.gsm8k.gsm8k import MATH_PROMPT_TEMPLATE
from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback
from trl import SFTConfig, SFTTrainer

BENCH = os.environ["PTB_BENCHMARK"]
OPTIONS = {
    "max_steps": 60,
    "epochs": 3,
    "learning_rate": 5e-5,
    "batch_size": 8,
    "max_items": 400,
    "train_layers": None,
    **json.loads(os.environ.get("PTB_AGENT_OPTIONS") or "{}"),
}
SAFETY_MARGIN_S = 60  # leave time to save before the budget ends


def gsm8k_chat(record):
    # the question as the evaluation asks it (inspect_evals' public prompt), so that the trained
    # reply format is the one the prompt asks for: the reasoning, then a final "ANSWER: n" line
    reasoning, _, final = record["answer"].partition("####")
    return [
        {"role": "user", "content": MATH_PROMPT_TEMPLATE.format(prompt=record["question"])},
        {"role": "assistant", "content": f"{reasoning.strip()}\nANSWER: {final.strip()}"},
    ]


def humaneval_chat(record):
    code = record["prompt"] + record["canonical_solution"]
    return [
        {"role": "user", "content": record["prompt"]},
        {"role": "assistant", "content": f"```python\n{code.rstrip()}\n```"},
    ]


FORMATS = {"gsm8k": gsm8k_chat, "humaneval": humaneval_chat}


class Deadline(TrainerCallback):
    """Stop in time to save; print a line a step (the log shows where the run is, what a step costs)."""

    def on_step_begin(self, args, state, control, **kwargs):
        self.started = (time.perf_counter(), time.process_time())

    def on_step_end(self, args, state, control, **kwargs):
        wall, cpu = (
            now - then for now, then in zip((time.perf_counter(), time.process_time()), self.started)
        )
        print(f"sft: step {state.global_step}/{state.max_steps}: {wall:.1f} s ({cpu:.1f} s CPU)", flush=True)
        if time.time() > float(os.environ["PTB_DEADLINE"]) - SAFETY_MARGIN_S:
            print("sft: stopping early to save before the deadline", flush=True)
            control.should_training_stop = True


class ReplyOnlyLoss(SFTTrainer):
    """The loss on the reply's tokens, the LM head applied to those positions only. On a CPU, TRL's
    fused head scores every position (it keeps only the labelled ones on Triton devices): with the
    GSM8K prompt 5x the reply, that was about a third of a step. The mean over labelled tokens, as TRL's."""

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        labels = inputs["labels"][:, 1:]
        labelled = labels != -100
        hidden = model.get_decoder()(
            input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"], use_cache=False
        ).last_hidden_state[:, :-1]
        logits = model.get_output_embeddings()(hidden[labelled]).float()
        tokens = labelled.sum() if num_items_in_batch is None else num_items_in_batch
        loss = F.cross_entropy(logits, labels[labelled], reduction="sum") / torch.as_tensor(tokens).clamp(
            min=1
        )
        return (loss, None) if return_outputs else loss


def steps_for_epochs(items: int) -> int:
    return max(1, math.ceil(OPTIONS["epochs"] * items / OPTIONS["batch_size"]))


def freeze_below(model, top_layers: int) -> None:
    """Train only the last `top_layers` decoder layers and the final norm."""
    layers = model.model.layers
    for param in model.parameters():
        param.requires_grad = False
    for module in list(layers[-top_layers:]) + [model.model.norm]:
        for param in module.parameters():
            param.requires_grad = True


def main():
    base = os.environ["PTB_BASE_MODEL"]
    train_file = Path(os.environ["PTB_AGENT_CACHE"]) / BENCH / "train.jsonl"
    if BENCH not in FORMATS or not train_file.exists():
        print(f"sft: no training data for {BENCH}; submitting the base model")
        shutil.copytree(base, "final_model")
        return
    records = [json.loads(line) for line in open(train_file) if line.strip()][: OPTIONS["max_items"]]
    tokenizer = AutoTokenizer.from_pretrained(base)
    # train with the chat template the evaluator uses (handed out in templates/)
    tokenizer.chat_template = next(Path("templates").glob("*.jinja")).read_text()
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    if OPTIONS["train_layers"]:
        freeze_below(model, OPTIONS["train_layers"])
    rows = [{"messages": FORMATS[BENCH](r)} for r in records]
    # keep the training set in the job dir, as real agents do: the judge reads it
    Path("data").mkdir(exist_ok=True)
    Path("data/sft_train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    # prompt/completion pairs: TRL then trains on the reply only (completion_only_loss); a loss on
    # the prompt too teaches a small model to repeat the prompt's last line ("Reasoning:")
    dataset = Dataset.from_list(
        [{"prompt": r["messages"][:1], "completion": r["messages"][1:]} for r in rows]
    )
    args = SFTConfig(
        output_dir="checkpoints",
        max_steps=min(OPTIONS["max_steps"], steps_for_epochs(len(rows))),
        learning_rate=OPTIONS["learning_rate"],
        per_device_train_batch_size=OPTIONS["batch_size"],
        max_length=512,
        logging_steps=5,
        save_strategy="no",
        report_to=[],
        gradient_checkpointing=False,
        use_cpu=not torch.cuda.is_available(),
        seed=int(os.environ.get("PTB_SEED", 0)),
        assistant_only_loss=False,
        dataloader_num_workers=0,
    )
    trainer = ReplyOnlyLoss(
        model=model, args=args, train_dataset=dataset, processing_class=tokenizer, callbacks=[Deadline()]
    )
    started = time.perf_counter()
    trainer.train()
    trainer.save_model("final_model")
    tokenizer.save_pretrained("final_model")
    print(
        f"sft: trained {trainer.state.global_step} of {args.max_steps} steps on {len(records)} items "
        f"({args.per_device_train_batch_size} a step) in {time.perf_counter() - started:.0f} s; "
        "saved final_model/"
    )


if __name__ == "__main__":
    main()
