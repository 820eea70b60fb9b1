"""A short real training of the base model, run by the real CLIs when the scripted model
server asks them to (tests/agents/test_real_clis.py). Saves final_model/ after every step.

python tiny_train.py --steps N [--sleep S] [--pid-file F] --out DIR
"""

import argparse
import os
import time
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

parser = argparse.ArgumentParser()
parser.add_argument("--steps", type=int, default=2)
parser.add_argument("--sleep", type=float, default=0.0)
parser.add_argument("--pid-file")
parser.add_argument("--out", default="final_model")
args = parser.parse_args()
if args.pid_file:
    Path(args.pid_file).write_text(str(os.getpid()))
torch.manual_seed(0)
base = os.environ["PTB_BASE_MODEL"]  # the runner's contract reaches the CLI's shell tool
model = AutoModelForCausalLM.from_pretrained(base)
tokenizer = AutoTokenizer.from_pretrained(base)
optimizer = torch.optim.SGD(model.parameters(), lr=1e-2)
batch = tokenizer(["Question: what is 2 + 2? Answer: 4"], return_tensors="pt")
for step in range(args.steps):
    loss = model(**batch, labels=batch["input_ids"]).loss
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
    model.save_pretrained(args.out)
    tokenizer.save_pretrained(args.out)
    print(f"step {step} loss {loss.item():.4f} saved {args.out}", flush=True)
    time.sleep(args.sleep)
