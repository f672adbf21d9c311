#!/usr/bin/env python3
"""Write Tests/NeuralTests/Fixtures/sequential-parity.h5: PyTorch reference numbers for a small
`architecture: sequential` network, in the layout of parity.h5 (see make_parity_fixture.py).

The net touches every sequential layer kind: conv with padding, BatchNorm2d, ReLU, max-pool, dropout,
conv with stride 2 and no padding, avg-pool with stride 1, flatten (NCHW order), dense, BatchNorm1d,
dense. Dropout is left in eval mode during the training-mode pass (its masks come from another
generator; SequentialNetTests checks dropout separately). 2 input channels, 16×16, batch 4.

Run with a torch virtualenv (docs/neural.md):  /tmp/torch-venv/bin/python tools/make_sequential_fixture.py
"""
import json
import os
import sys

import h5py
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "Tests", "NeuralTests", "Fixtures", "sequential-parity.h5")
CONFIG = {
    "architecture": "sequential", "name": "sequential-parity", "input_channels": 2, "input_size": 16,
    "layers": [
        {"conv": {"filters": 4, "kernel": 3, "stride": 1, "padding": 1, "bias": True}},
        "batchnorm", "relu",
        {"maxpool": {"kernel": 2, "stride": 2}},
        {"dropout": 0.25},
        {"conv": {"filters": 6, "kernel": 3, "stride": 2, "padding": 0, "bias": True}},
        "relu",
        {"avgpool": {"kernel": 2, "stride": 1}},
        "flatten",
        {"dense": 8}, "batchnorm", "relu",
        {"dense": 3}, "softmax",
    ],
}
LR, MOMENTUM, WEIGHT_DECAY, STEPS = 0.05, 0.9, 1e-3, 3


def build():
    torch.manual_seed(4321)
    m = nn.Sequential(
        nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.25),
        nn.Conv2d(4, 6, 3, stride=2), nn.ReLU(), nn.AvgPool2d(2, stride=1), nn.Flatten(),
        nn.Linear(24, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, (nn.BatchNorm1d, nn.BatchNorm2d)):
                mod.weight.uniform_(0.5, 1.5)
                mod.bias.uniform_(-0.2, 0.2)
                mod.running_mean.uniform_(-0.1, 0.1)
                mod.running_var.uniform_(0.8, 1.2)
    return m


def train_mode(m):
    m.train()
    for mod in m.modules():
        if isinstance(mod, nn.Dropout):
            mod.eval()


def key(name):
    return name.replace(".", "/")


def main():
    torch.set_num_threads(1)
    model = build()
    g = torch.Generator().manual_seed(77)
    x = torch.randn(4, 2, 16, 16, generator=g)
    y = torch.tensor([2, 0, 1, 2])
    initial = {k: v.detach().clone() for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with h5py.File(OUT, "w") as f:
        f.attrs["format"] = "netosis.checkpoint"
        f.attrs["format_version"] = np.int32(1)
        f.attrs["tool_version"] = "make_sequential_fixture.py torch " + torch.__version__
        grp = f.create_group("model")
        grp.attrs["config"] = json.dumps(CONFIG, sort_keys=True)
        for k, v in initial.items():
            grp.create_dataset(key(k), data=v.numpy().astype(np.float32))
        f.create_dataset("input", data=x.numpy())
        f.create_dataset("labels", data=y.numpy())

        train_mode(model)
        xi = x.clone().requires_grad_(True)
        logits = model(xi)
        loss = F.cross_entropy(logits, y)
        loss.backward()
        f.create_dataset("train/logits", data=logits.detach().numpy())
        f.create_dataset("train/loss", data=np.array([loss.item()], dtype=np.float64))
        f.create_dataset("train/input_grad", data=xi.grad.numpy())
        for name, p in model.named_parameters():
            f.create_dataset("train/grad/" + key(name), data=p.grad.numpy())

        model.load_state_dict({**model.state_dict(), **initial})
        opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY)
        for _ in range(STEPS):
            opt.zero_grad()
            F.cross_entropy(model(x), y).backward()
            opt.step()
        sgd = f.create_group("sgd")
        sgd.attrs["lr"], sgd.attrs["momentum"], sgd.attrs["weight_decay"], sgd.attrs["steps"] = LR, MOMENTUM, WEIGHT_DECAY, STEPS
        for k, v in model.state_dict().items():
            if not k.endswith("num_batches_tracked"):
                sgd.create_dataset(key(k), data=v.numpy())
        model.eval()
        with torch.no_grad():
            f.create_dataset("sgd_eval_logits", data=model(x).numpy())
    print("wrote", OUT, os.path.getsize(OUT), "bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
