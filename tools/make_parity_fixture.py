#!/usr/bin/env python3
"""Write Tests/NeuralTests/Fixtures/parity.h5: PyTorch reference numbers for the Swift engine.

Uses torchvision's own DenseNet class on a reduced configuration (growth 4, blocks (2, 2),
bn_size 2, 8 initial features, 3 input channels, 3 classes) and a 4×3×32×32 batch:

  /model/...                initial weights, checkpoint schema (state_dict key '.' -> '/'),
                            /model attribute `config` (JSON, our DenseNetConfig keys)
  /input [4,3,32,32]  /labels [4] int64
  /train/logits [4,3]  /train/loss [1]  training-mode forward (batch statistics)
  /train/input_grad [4,3,32,32]         d(mean cross-entropy)/d(input)
  /train/grad/<param>                   parameter gradients
  /sgd/<tensor>                         every tensor (weights and BN running stats) after three
                                        SGD steps (lr 0.05, momentum 0.9, weight decay 1e-3,
                                        the same batch each step)
  /sgd_eval_logits [4,3]                inference-mode logits after those steps

Run with a torch virtualenv (see docs/neural.md):  /tmp/torch-venv/bin/python tools/make_parity_fixture.py
"""
import os
import sys

import h5py
import torch
from torchvision.models import DenseNet

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_fixture import write_model, write_sgd_steps, write_training_pass  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "Tests", "NeuralTests", "Fixtures", "parity.h5")

CONFIG = dict(name="parity", growth_rate=4, block_config=[2, 2], bn_size=2, compression=0.5,
              num_init_features=8, input_channels=3, num_classes=3, input_size=32, drop_rate=0.0)


def build():
    torch.manual_seed(1234)
    m = DenseNet(growth_rate=CONFIG["growth_rate"], block_config=tuple(CONFIG["block_config"]),
                 num_init_features=CONFIG["num_init_features"], bn_size=CONFIG["bn_size"],
                 drop_rate=0, num_classes=CONFIG["num_classes"])
    # Non-trivial BN affine parameters and running statistics, so parity exercises them.
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, torch.nn.BatchNorm2d):
                mod.weight.uniform_(0.5, 1.5)
                mod.bias.uniform_(-0.2, 0.2)
                mod.running_mean.uniform_(-0.1, 0.1)
                mod.running_var.uniform_(0.8, 1.2)
    return m


def main():
    torch.set_num_threads(1)
    model = build()
    g = torch.Generator().manual_seed(99)
    x = torch.randn(4, 3, 32, 32, generator=g)
    y = torch.tensor([0, 2, 1, 2])
    initial = {k: v.detach().clone() for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}

    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with h5py.File(OUT, "w") as f:
        write_model(f, "make_parity_fixture.py", CONFIG, initial, x, y)
        # Training-mode forward and backward on a copy (BN running stats move during forward).
        model.train()
        write_training_pass(f, model, x, y)
        write_sgd_steps(f, model, initial, x, y)
    print("wrote", OUT, os.path.getsize(OUT), "bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
