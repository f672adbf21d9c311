#!/usr/bin/env python3
"""Write Tests/NeuralTests/Fixtures/saliency.h5: PyTorch references for `netosis saliency` on the
network of sequential-parity.h5 (its weights are read from there), in inference mode:

  /input [4,2,16,16]  /class [4] int64     the images and the class each map explains
  /guided_backprop [4,2,16,16]              d logit_class / d input with guided ReLUs (Springenberg et al.:
                                            a ReLU passes only positive gradients where its input was positive)
  /grad_cam/raw [4,3,3]                     ReLU(Σ_k α_k A_k), α_k = spatial mean of d logit / d A_k, A = the
                                            output of layer 6 (the ReLU after the stride-2 convolution), taken
                                            with forward/backward hooks as pytorch-grad-cam does
  /grad_cam/upsampled [4,16,16]             F.interpolate(bilinear, align_corners=False) to the input size
  /guided_grad_cam [4,2,16,16]              guided backprop × the upsampled map

Run with a torch virtualenv (docs/neural.md):  /tmp/torch-venv/bin/python tools/make_saliency_fixture.py
"""
import os
import sys

import h5py
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "Tests", "NeuralTests", "Fixtures")
LAYER = 6


class GuidedReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.clamp(min=0)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * (x > 0).float() * (g > 0).float()


class GuidedReLUModule(nn.Module):
    def forward(self, x):
        return GuidedReLU.apply(x)


def build(weights):
    m = nn.Sequential(
        nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.25),
        nn.Conv2d(4, 6, 3, stride=2), nn.ReLU(), nn.AvgPool2d(2, stride=1), nn.Flatten(),
        nn.Linear(24, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))
    m.load_state_dict({k: torch.tensor(v) for k, v in weights.items()}, strict=False)
    return m.eval()


def main():
    with h5py.File(os.path.join(FIXTURES, "sequential-parity.h5"), "r") as f:
        weights = {}
        f["model"].visititems(lambda name, obj: weights.__setitem__(name.replace("/", "."), obj[()]) if isinstance(obj, h5py.Dataset) else None)
    model = build(weights)
    g = torch.Generator().manual_seed(5)
    x = torch.randn(4, 2, 16, 16, generator=g)
    cls = torch.tensor([0, 1, 2, 1])

    # Grad-CAM with hooks on layer 6's output.
    store = {}
    h1 = model[LAYER].register_forward_hook(lambda mod, inp, out: store.__setitem__("a", out))
    h2 = model[LAYER].register_full_backward_hook(lambda mod, gin, gout: store.__setitem__("g", gout[0]))
    logits = model(x)
    model.zero_grad()
    logits.gather(1, cls[:, None]).sum().backward()
    h1.remove(); h2.remove()
    a, grad = store["a"].detach(), store["g"].detach()
    alpha = grad.mean(dim=(2, 3), keepdim=True)
    raw = F.relu((alpha * a).sum(dim=1))
    up = F.interpolate(raw[:, None], size=(16, 16), mode="bilinear", align_corners=False)[:, 0]

    # Guided backprop: the same weights with guided ReLUs.
    guided = build(weights)
    for i, mod in enumerate(guided):
        if isinstance(mod, nn.ReLU):
            guided[i] = GuidedReLUModule()
    xi = x.clone().requires_grad_(True)
    guided(xi).gather(1, cls[:, None]).sum().backward()
    gb = xi.grad.detach()

    with h5py.File(os.path.join(FIXTURES, "saliency.h5"), "w") as f:
        f.attrs["tool_version"] = "make_saliency_fixture.py torch " + torch.__version__
        f.attrs["layer"] = LAYER
        f.create_dataset("input", data=x.numpy())
        f.create_dataset("class", data=cls.numpy())
        f.create_dataset("guided_backprop", data=gb.numpy())
        f.create_dataset("grad_cam/raw", data=raw.numpy())
        f.create_dataset("grad_cam/upsampled", data=up.numpy())
        f.create_dataset("guided_grad_cam", data=(gb * up[:, None]).numpy())
    print("wrote saliency.h5", file=sys.stderr)


if __name__ == "__main__":
    main()
