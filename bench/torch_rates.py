#!/usr/bin/env python3
"""PyTorch's training and inference images/s for DenseNet-121 (1 input channel, 3 classes, 112×112), the
reference `bench/pipeline.sh` puts next to `netosis train` and `netosis screen` when torchvision is not
importable (../shared/bench/torch_densenet.py needs it). The model is bench/torch_train_patches.py's
pure-torch DenseNet, torchvision's layout. PyTorch's best CPU mode: channels_last, inference_mode for
inference; SGD with momentum for training. Prints the median of --iters timed batches after 2 warm-ups.

  OMP_NUM_THREADS=2 /tmp/torch-venv/bin/python bench/torch_rates.py --threads 2 --batch 32 --iters 8
"""
import argparse, os, statistics, sys, time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_train_patches import DenseNet  # noqa: E402

p = argparse.ArgumentParser()
p.add_argument("--threads", type=int, default=2)
p.add_argument("--batch", type=int, default=32)
p.add_argument("--iters", type=int, default=8)
p.add_argument("--size", type=int, default=112)
a = p.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(0)
model = DenseNet(32, [6, 12, 24, 16], 4, 64, 3).to(memory_format=torch.channels_last)
x = torch.randn(a.batch, 1, a.size, a.size).to(memory_format=torch.channels_last)
y = torch.randint(0, 3, (a.batch,))

def timed(step):
    for _ in range(2): step()
    times = []
    for _ in range(a.iters):
        t = time.perf_counter(); step(); times.append(time.perf_counter() - t)
    return a.batch / statistics.median(times)

model.eval()
def infer():
    with torch.inference_mode(): model(x)
inference = timed(infer)
model.train()
opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
def train():
    opt.zero_grad(set_to_none=True); F.cross_entropy(model(x), y).backward(); opt.step()
training = timed(train)
print(f"torch {torch.__version__}, {a.threads} threads, batch {a.batch}, {a.size}px: training {training:.1f} img/s, inference {inference:.1f} img/s")
