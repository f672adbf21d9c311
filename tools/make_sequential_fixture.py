#!/usr/bin/env python3
"""Write Tests/NeuralTests/Fixtures/sequential-parity.h5: PyTorch reference numbers for a small
`architecture: sequential` network, in the layout of parity.h5 (see make_parity_fixture.py).

The net touches every sequential layer kind: conv with padding, BatchNorm2d, ReLU, max-pool, dropout,
conv with stride 2 and no padding, avg-pool with stride 1, flatten (NCHW order), dense, BatchNorm1d,
dense. Dropout is left in eval mode during the training-mode pass (its masks come from another
generator; SequentialNetTests checks dropout separately). 2 input channels, 16×16, batch 4.

Run with a torch virtualenv (docs/neural.md):  /tmp/torch-venv/bin/python tools/make_sequential_fixture.py
"""
import os
import sys

import h5py
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_fixture import write_model, write_sgd_steps, write_training_pass  # noqa: E402

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


def main():
    torch.set_num_threads(1)
    model = build()
    g = torch.Generator().manual_seed(77)
    x = torch.randn(4, 2, 16, 16, generator=g)
    y = torch.tensor([2, 0, 1, 2])
    initial = {k: v.detach().clone() for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with h5py.File(OUT, "w") as f:
        write_model(f, "make_sequential_fixture.py", CONFIG, initial, x, y)
        train_mode(model)
        write_training_pass(f, model, x, y)
        write_sgd_steps(f, model, initial, x, y)
    print("wrote", OUT, os.path.getsize(OUT), "bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
