#!/usr/bin/env python3
"""Write Tests/NeuralTests/Fixtures/resnet-{basic,bottleneck,basic-fastai}-parity.h5: PyTorch reference numbers
for the engine's ResNet, built from torchvision's own BasicBlock / Bottleneck classes.

torchvision's ResNet class fixes the stem and stage widths at 64…512; a kilobyte fixture needs a
narrow one, so `NarrowResNet` below repeats torchvision's ResNet.__init__ / _make_layer with a
`width` argument (same modules, same registration order, hence the same state_dict names).
Configurations: width 4, layers [2, 1, 2] (identity and projection shortcuts, stride 2 in stages
2 and 3), 3 input channels, 3 classes; a 3×3×40×48 batch (not square). The -fastai fixture puts
fastai's create_head (concat pooling, BN, Linear 16, ReLU, BN, Linear; dropout 0) on the basic net.

  /model/...                initial weights (state_dict key '.' -> '/'), attribute `config` (JSON)
  /input [3,3,40,48]  /labels [3] int64
  /train/logits /train/loss /train/input_grad /train/grad/<param>   training-mode pass
  /eval/logits                                                      inference mode, initial weights
  resnet-saliency.h5: /resnet-basic and /resnet-basic-fastai: input, class, guided_backprop,
                    grad_cam/upsampled (at the last stage's output, hooks), eval mode
  /sgd/<tensor>, /sgd_eval_logits   after three SGD-momentum steps (lr 0.05, momentum 0.9, wd 1e-3);
                                    basic only (the optimizer path does not depend on the block)

Run with a torch virtualenv:  /tmp/torch-venv/bin/python tools/make_resnet_fixture.py
"""
import copy
import os
import sys

import h5py
import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision.models.resnet import BasicBlock, Bottleneck, conv1x1

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_saliency_fixture import GuidedReLUModule  # noqa: E402
from torch_fixture import write_model, write_sgd_steps, write_training_pass  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SALIENCY = {}   # fixture name → (model with its initial weights, input)


class AdaptiveConcatPool2d(nn.Module):
    """fastai's: max pool then average pool, concatenated on channels."""
    def forward(self, x):
        return torch.cat([F.adaptive_max_pool2d(x, 1), F.adaptive_avg_pool2d(x, 1)], 1)


def fastai_head(nf, n_out, hidden, ps):
    """fastai's create_head(nf, n_out, lin_ftrs=[hidden], ps, concat_pool=True, first_bn=True):
    indices 2, 4, 6, 8 hold the BatchNorm1d / Linear tensors."""
    return nn.Sequential(AdaptiveConcatPool2d(), nn.Flatten(), nn.BatchNorm1d(2 * nf), nn.Dropout(ps / 2),
                         nn.Linear(2 * nf, hidden, bias=False), nn.ReLU(inplace=True), nn.BatchNorm1d(hidden),
                         nn.Dropout(ps), nn.Linear(hidden, n_out, bias=False))


class NarrowResNet(nn.Module):
    def __init__(self, block, layers, width, in_channels, num_classes, head_hidden=None):
        super().__init__()
        self.inplanes = width
        self.conv1 = nn.Conv2d(in_channels, width, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        for i, count in enumerate(layers):
            setattr(self, f"layer{i + 1}", self._make_layer(block, width << i, count, stride=1 if i == 0 else 2))
        features = (width << (len(layers) - 1)) * block.expansion
        if head_hidden:
            self.head = fastai_head(features, num_classes, head_hidden, 0.0)
        else:
            self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
            self.fc = nn.Linear(features, num_classes)
        self.stages = len(layers)

    def _make_layer(self, block, planes, blocks, stride):
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(conv1x1(self.inplanes, planes * block.expansion, stride),
                                       nn.BatchNorm2d(planes * block.expansion))
        layers = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * block.expansion
        layers += [block(self.inplanes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        for i in range(self.stages):
            x = getattr(self, f"layer{i + 1}")(x)
        if hasattr(self, "head"):
            return self.head(x)
        return self.fc(torch.flatten(self.avgpool(x), 1))


def saliency(group, model, x, cls):
    """Grad-CAM at the last stage's output (forward/backward hooks, as pytorch-grad-cam at
    model.layer{N}), upsampled bilinearly; guided backprop with every ReLU guided; eval mode."""
    import copy
    model = copy.deepcopy(model).eval()
    stage = getattr(model, f"layer{model.stages}")
    store = {}
    stage.register_forward_hook(lambda mod, inp, out: store.__setitem__("a", out))
    stage.register_full_backward_hook(lambda mod, gin, gout: store.__setitem__("g", gout[0]))
    model(x).gather(1, cls[:, None]).sum().backward()
    a, grad = store["a"].detach(), store["g"].detach()
    raw = F.relu((grad.mean(dim=(2, 3), keepdim=True) * a).sum(dim=1))
    up = F.interpolate(raw[:, None], size=x.shape[2:], mode="bilinear", align_corners=False)[:, 0]
    guided = copy.deepcopy(model).eval()
    for mod in guided.modules():
        for name, child in list(mod.named_children()):
            if isinstance(child, nn.ReLU):
                setattr(mod, name, GuidedReLUModule())
    xi = x.clone().requires_grad_(True)
    guided(xi).gather(1, cls[:, None]).sum().backward()
    group.create_dataset("input", data=x.numpy())
    group.create_dataset("class", data=cls.numpy())
    group.create_dataset("guided_backprop", data=xi.grad.numpy())
    group.create_dataset("grad_cam/upsampled", data=up.numpy())


def write(kind, block, seed, sgd_steps=True, head_hidden=None):
    name = f"resnet-{kind}" + ("-fastai" if head_hidden else "")
    config = dict(architecture="resnet", name=f"{name}-parity", block=kind, layers=[2, 1, 2], width=4,
                  input_channels=3, num_classes=3, input_size=40, input_width=48)
    if head_hidden:
        config.update(head="fastai", head_hidden=head_hidden, head_dropout=0.0)
    torch.manual_seed(seed)
    model = NarrowResNet(block, config["layers"], config["width"], 3, 3, head_hidden)
    with torch.no_grad():
        for mod in model.modules():
            if isinstance(mod, (nn.BatchNorm2d, nn.BatchNorm1d)):
                mod.weight.uniform_(0.5, 1.5)
                mod.bias.uniform_(-0.2, 0.2)
                mod.running_mean.uniform_(-0.1, 0.1)
                mod.running_var.uniform_(0.8, 1.2)
    g = torch.Generator().manual_seed(seed + 1)
    x = torch.randn(3, 3, 40, 48, generator=g)
    y = torch.tensor([0, 2, 1])
    initial = {k: v.detach().clone() for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}
    out = os.path.join(HERE, "..", "Tests", "NeuralTests", "Fixtures", f"{name}-parity.h5")
    with h5py.File(out, "w") as f:
        write_model(f, "make_resnet_fixture.py", config, initial, x, y)
        model.eval()
        with torch.no_grad():
            f.create_dataset("eval/logits", data=model(x).numpy())
        SALIENCY[name] = (copy.deepcopy(model), x.clone())
        model.train()
        write_training_pass(f, model, x, y)
        if sgd_steps:
            write_sgd_steps(f, model, initial, x, y)
    print("wrote", out, os.path.getsize(out), "bytes", file=sys.stderr)


def main():
    torch.set_num_threads(1)
    write("basic", BasicBlock, 2024)
    write("bottleneck", Bottleneck, 2025, sgd_steps=False)   # the optimizer path is the same: keep it small
    write("basic", BasicBlock, 2026, sgd_steps=False, head_hidden=16)   # fastai's head (dropout 0: masks differ)
    out = os.path.join(HERE, "..", "Tests", "NeuralTests", "Fixtures", "resnet-saliency.h5")
    with h5py.File(out, "w") as f:
        for name in ("resnet-basic", "resnet-basic-fastai"):
            model, x = SALIENCY[name]
            saliency(f.create_group(name), model, x, torch.tensor([2, 0, 1]))
    print("wrote", out, os.path.getsize(out), "bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
