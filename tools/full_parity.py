#!/usr/bin/env python3
"""Full DenseNet-121, ResNet-18 and ResNet-50 parity, end to end through the CLI (`make parity`).

torchvision's densenet121(num_classes=3) with random weights and randomised BatchNorm statistics
→ tools/import_torchvision.py → netosis checkpoint; 8 random 3×112×112 patches → `netosis infer
--normalize none`; the logits must match torch's eval-mode logits (relative error ≤ 1e-4).
A second check sums the stem to one channel and compares on grey patches. ResNet-18 and ResNet-50
(torchvision's, random weights, randomised BatchNorm statistics, 2 classes) the same way on 3×112×112.

  tools/full_parity.py [--netosis .build/release/netosis] [--work DIR]
Needs torch, torchvision, h5py (a virtualenv; see docs/neural.md). Exit status 0 = parity.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np
import torch
import torchvision

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import import_torchvision  # noqa: E402


def rel(a, b):
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-30))


def run(netosis, work, channels, arch="densenet121"):
    torch.manual_seed(7)
    model = getattr(torchvision.models, arch)(weights=None, num_classes=3 if arch.startswith("densenet") else 2)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5); m.bias.uniform_(-0.2, 0.2)
                m.running_mean.uniform_(-0.2, 0.2); m.running_var.uniform_(0.5, 1.5)
    model.eval()
    g = torch.Generator().manual_seed(3)
    if channels == 1:
        grey = torch.randn(8, 1, 112, 112, generator=g)
        x_torch, x_file = grey.expand(-1, 3, -1, -1), grey[:, 0].numpy()     # [N,H,W] file layout
    else:
        x_torch = torch.randn(8, 3, 112, 112, generator=g)
        x_file = x_torch.numpy()
    with torch.no_grad():
        ref = model(x_torch).numpy()
    state, config = import_torchvision.convert(model.state_dict(), channels=channels, name=arch)
    ck = os.path.join(work, f"{arch}-{channels}ch.h5")
    import_torchvision.write_checkpoint(state, config, ck, tool="full_parity.py")
    patches = os.path.join(work, f"patches-{arch}-{channels}ch.h5")
    with h5py.File(patches, "w") as f:
        f.create_dataset("patches", data=x_file.astype(np.float32))
    out = os.path.join(work, f"out-{arch}-{channels}ch.h5")
    subprocess.run([netosis, "infer", "--checkpoint", ck, "--patches", patches, "--out", out,
                    "--normalize", "none", "--batch-size", "4"], check=True)
    with h5py.File(out) as f:
        logits = f["logits"][()]
        probs = f["probs"][()]
    e = rel(logits, ref)
    ok = e <= 1e-4 and np.allclose(probs.sum(1), 1, atol=1e-5)
    print(f"{arch} {channels}-channel: logits relative error {e:.2e} (limit 1e-4) -> {'OK' if ok else 'FAIL'}")
    return ok


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--netosis", default=".build/release/netosis")
    ap.add_argument("--work", default=None)
    a = ap.parse_args()
    work = a.work or tempfile.mkdtemp(prefix="netosis-parity-")
    os.makedirs(work, exist_ok=True)
    torch.set_num_threads(2)
    ok = all([run(a.netosis, work, 3), run(a.netosis, work, 1),
              run(a.netosis, work, 3, "resnet18"), run(a.netosis, work, 3, "resnet50")])
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
