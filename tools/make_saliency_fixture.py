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
  /densenet/...                             the same for the DenseNet of parity.h5 (torchvision's structure and
                                            state_dict names, written out here because torchvision does not load in
                                            this venv): /densenet/input [4,3,32,32], /class, /guided_backprop,
                                            /grad_cam/upsampled (at features.norm5, hooks), /guided_grad_cam

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


class DenseNet(nn.Module):
    """torchvision.models.DenseNet's layers and names (memory-efficient off, drop rate 0)."""

    def __init__(self, growth, blocks, bn_size, init, in_ch, classes, relu):
        super().__init__()
        self.relu = relu
        f = nn.Sequential()
        f.add_module("conv0", nn.Conv2d(in_ch, init, 7, 2, 3, bias=False))
        f.add_module("norm0", nn.BatchNorm2d(init))
        f.add_module("relu0", relu())
        f.add_module("pool0", nn.MaxPool2d(3, 2, 1))
        c = init
        for i, n in enumerate(blocks):
            block = nn.Module()
            for j in range(n):
                layer = nn.Module()
                layer.norm1 = nn.BatchNorm2d(c + j * growth)
                layer.conv1 = nn.Conv2d(c + j * growth, bn_size * growth, 1, bias=False)
                layer.norm2 = nn.BatchNorm2d(bn_size * growth)
                layer.conv2 = nn.Conv2d(bn_size * growth, growth, 3, 1, 1, bias=False)
                block.add_module("denselayer%d" % (j + 1), layer)
            f.add_module("denseblock%d" % (i + 1), block)
            c += n * growth
            if i + 1 < len(blocks):
                t = nn.Sequential()
                t.add_module("norm", nn.BatchNorm2d(c))
                t.add_module("relu", relu())
                t.add_module("conv", nn.Conv2d(c, c // 2, 1, bias=False))
                t.add_module("pool", nn.AvgPool2d(2, 2))
                f.add_module("transition%d" % (i + 1), t)
                c //= 2
        f.add_module("norm5", nn.BatchNorm2d(c))
        self.features = f
        self.classifier = nn.Linear(c, classes)
        self.act = relu()

    def forward(self, x):
        f = self.features
        x = f.pool0(f.relu0(f.norm0(f.conv0(x))))
        for name, mod in f.named_children():
            if name.startswith("denseblock"):
                feats = [x]
                for layer in mod.children():
                    h = torch.cat(feats, 1)
                    h = layer.conv1(self.act(layer.norm1(h)))
                    feats.append(layer.conv2(self.act(layer.norm2(h))))
                x = torch.cat(feats, 1)
            elif name.startswith("transition"):
                x = mod(x)
        x = f.norm5(x)
        return self.classifier(torch.flatten(F.adaptive_avg_pool2d(self.act(x), 1), 1))


def densenet_references(f):
    with h5py.File(os.path.join(FIXTURES, "parity.h5"), "r") as p:
        weights = {}
        p["model"].visititems(lambda name, obj: weights.__setitem__(name.replace("/", "."), obj[()]) if isinstance(obj, h5py.Dataset) else None)
        x = torch.tensor(p["input"][()])

    def build(relu):
        m = DenseNet(4, [2, 2], 2, 8, 3, 3, relu)
        missing = m.load_state_dict({k: torch.tensor(v) for k, v in weights.items()}, strict=False)
        assert not [k for k in missing.missing_keys if not k.endswith("num_batches_tracked")], missing
        return m.eval()

    cls = torch.tensor([2, 0, 1, 1])
    check = build(nn.ReLU).train()   # the same network as torchvision's: its training-mode logits in parity.h5
    with h5py.File(os.path.join(FIXTURES, "parity.h5"), "r") as p:
        assert np.allclose(check(x).detach().numpy(), p["train/logits"][()], rtol=1e-4, atol=1e-5)
    model = build(nn.ReLU)
    store = {}
    model.features.norm5.register_forward_hook(lambda mod, inp, out: store.__setitem__("a", out))
    model.features.norm5.register_full_backward_hook(lambda mod, gin, gout: store.__setitem__("g", gout[0]))
    model(x).gather(1, cls[:, None]).sum().backward()
    a, grad = store["a"].detach(), store["g"].detach()
    raw = F.relu((grad.mean(dim=(2, 3), keepdim=True) * a).sum(dim=1))
    up = F.interpolate(raw[:, None], size=x.shape[2:], mode="bilinear", align_corners=False)[:, 0]
    guided = build(GuidedReLUModule)
    xi = x.clone().requires_grad_(True)
    guided(xi).gather(1, cls[:, None]).sum().backward()
    gb = xi.grad.detach()
    g = f.create_group("densenet")
    g.create_dataset("input", data=x.numpy())
    g.create_dataset("class", data=cls.numpy())
    g.create_dataset("guided_backprop", data=gb.numpy())
    g.create_dataset("grad_cam/upsampled", data=up.numpy())
    g.create_dataset("guided_grad_cam", data=(gb * up[:, None]).numpy())


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
        densenet_references(f)
    print("wrote saliency.h5", file=sys.stderr)


if __name__ == "__main__":
    main()
