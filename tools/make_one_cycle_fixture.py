#!/usr/bin/env python3
"""Write Tests/NeuralTests/Fixtures/one-cycle.json: PyTorch's OneCycleLR (cosine annealing, two
phases) driving SGD (momentum cycled), Adam (β₁ cycled, L2 weight decay) and AdamW (decoupled weight
decay) on a fixed quadratic:
per-step learning rates and momenta, and the weights after every step.

  loss(w) = Σ a_i·w_i² + b_i·w_i  →  grad = 2·a·w + b
Run: /tmp/torch-venv/bin/python tools/make_one_cycle_fixture.py
"""
import json
import os

import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "NeuralTests", "Fixtures", "one-cycle.json")
A = [0.5, 1.0, 2.0, 0.25, 3.0]
B = [0.1, -0.2, 0.3, -0.4, 0.05]
W0 = [1.0, -1.0, 0.5, 2.0, -0.3]
SETTINGS = dict(max_lr=0.1, total_steps=20, pct_start=0.25, div_factor=25.0, final_div_factor=1e4,
                base_momentum=0.85, max_momentum=0.95)


def run(kind):
    w = torch.tensor(W0, dtype=torch.float64, requires_grad=True)
    a, b = torch.tensor(A, dtype=torch.float64), torch.tensor(B, dtype=torch.float64)
    if kind == "sgd":
        opt = torch.optim.SGD([w], lr=0.1, momentum=0.9, weight_decay=0.01)
    elif kind == "adamw":
        opt = torch.optim.AdamW([w], lr=0.1, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)
    else:
        opt = torch.optim.Adam([w], lr=0.1, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, anneal_strategy="cos", three_phase=False, **SETTINGS)
    lrs, moms, weights = [], [], []
    for _ in range(SETTINGS["total_steps"]):
        group = opt.param_groups[0]
        lrs.append(group["lr"])
        moms.append(group["momentum"] if kind == "sgd" else group["betas"][0])
        opt.zero_grad()
        (a * w * w + b * w).sum().backward()
        opt.step()
        sched.step()
        weights.append(w.detach().tolist())
    return dict(lr=lrs, momentum=moms, weights=weights)


def main():
    data = dict(settings=SETTINGS, a=A, b=B, w0=W0, weight_decay=0.01, sgd=run("sgd"), adam=run("adam"), adamw=run("adamw"),
                torch=torch.__version__)
    with open(OUT, "w") as f:
        json.dump(data, f, indent=1)
    print("wrote", OUT, os.path.getsize(OUT), "bytes")


if __name__ == "__main__":
    main()
