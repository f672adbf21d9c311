#!/usr/bin/env python3
"""PyTorch reference for `netosis train` + `netosis evaluate` on one patches.h5 (issue 9, point 11).

Trains the same DenseNet (config/models/*.yaml numbers) from scratch on the file's train split with the
same recipe as our trainer — per-patch z-score, ±max_degrees rotation (bilinear, reflected border) and
random flips, class weights n / (classes · n_c), Adam or SGD with L2 weight decay on conv/linear weights
only, Keras time decay lr / (1 + decay · step), early stopping on validation loss keeping the best
weights — then reports test accuracy, balanced accuracy and per-class recall as one JSON line.

  /tmp/torch-venv/bin/python bench/torch_train_patches.py patches.h5 --growth 12 --blocks 6,12,8 \
      --init-features 32 --epochs 20 --seed 1

Needs torch and numpy (h5py if present, else `h5dump -b`). Not used by `make test`.
"""
import argparse, json, math, os, subprocess, sys, tempfile, time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def read_patches(path):
    """Returns patches [N,S,S] uint16, labels [N], split [N]."""
    try:
        import h5py
        with h5py.File(path, "r") as f:
            return f["patches"][:], f["labels"][:].astype(np.int64), f["split"][:]
    except ImportError:
        pass
    out = {}
    shape = None
    with tempfile.TemporaryDirectory() as tmp:
        for name, dtype in (("patches", np.uint16), ("labels", np.int8), ("split", np.uint8)):
            binary = os.path.join(tmp, name + ".bin")
            subprocess.run(["h5dump", "-d", "/" + name, "-b", "LE", "-o", binary, path],
                           check=True, stdout=subprocess.DEVNULL)
            out[name] = np.fromfile(binary, dtype=dtype)
        header = subprocess.run(["h5dump", "-H", "-d", "/patches", path], check=True, capture_output=True,
                                text=True).stdout
        dims = header.split("DATASPACE", 1)[1].split("(", 1)[1].split(")", 1)[0]
        shape = [int(v) for v in dims.split(",")]
    return out["patches"].reshape(shape), out["labels"].astype(np.int64), out["split"]


class DenseLayer(nn.Module):
    def __init__(self, cin, growth, bn_size):
        super().__init__()
        self.norm1, self.conv1 = nn.BatchNorm2d(cin), nn.Conv2d(cin, bn_size * growth, 1, bias=False)
        self.norm2 = nn.BatchNorm2d(bn_size * growth)
        self.conv2 = nn.Conv2d(bn_size * growth, growth, 3, padding=1, bias=False)

    def forward(self, x):
        y = self.conv1(F.relu(self.norm1(x)))
        return torch.cat([x, self.conv2(F.relu(self.norm2(y)))], 1)


class DenseNet(nn.Module):
    """torchvision's DenseNet layout with one input channel (as ours)."""

    def __init__(self, growth, blocks, bn_size, init_features, classes):
        super().__init__()
        layers = [nn.Conv2d(1, init_features, 7, 2, 3, bias=False), nn.BatchNorm2d(init_features), nn.ReLU(),
                  nn.MaxPool2d(3, 2, 1)]
        c = init_features
        for i, n in enumerate(blocks):
            for _ in range(n):
                layers.append(DenseLayer(c, growth, bn_size))
                c += growth
            if i + 1 < len(blocks):
                layers += [nn.BatchNorm2d(c), nn.ReLU(), nn.Conv2d(c, c // 2, 1, bias=False), nn.AvgPool2d(2, 2)]
                c //= 2
        layers += [nn.BatchNorm2d(c), nn.ReLU()]
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(c, classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight)
            elif isinstance(m, nn.Linear):
                nn.init.constant_(m.bias, 0)

    def forward(self, x):
        return self.classifier(torch.flatten(F.adaptive_avg_pool2d(self.features(x), 1), 1))


def zscore(x):
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    std = x.std(dim=(1, 2, 3), keepdim=True, unbiased=False)
    return torch.where(std > 0, (x - mean) / std.clamp_min(1e-12), torch.zeros_like(x))


def augment(x, generator, max_degrees):
    n = x.shape[0]
    theta = (torch.rand(n, generator=generator) * 2 - 1) * max_degrees * math.pi / 180
    c, s = torch.cos(theta), torch.sin(theta)
    matrix = torch.stack([torch.stack([c, -s, torch.zeros(n)], 1), torch.stack([s, c, torch.zeros(n)], 1)], 1)
    grid = F.affine_grid(matrix, list(x.shape), align_corners=True)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=True)
    flips = torch.randint(0, 4, (n,), generator=generator)
    x = torch.where((flips & 1).bool()[:, None, None, None], x.flip(3), x)
    return torch.where((flips & 2).bool()[:, None, None, None], x.flip(2), x)


def evaluate(model, x, y, classes, weights=None, batch=256):
    model.eval()
    logits = []
    with torch.no_grad():
        for i in range(0, len(x), batch):
            logits.append(model(zscore(x[i:i + batch])))
    logits = torch.cat(logits)
    loss = F.cross_entropy(logits, y, weight=weights).item()
    pred = logits.argmax(1)
    recall = [((pred == k) & (y == k)).sum().item() / max((y == k).sum().item(), 1) for k in range(classes)]
    present = [k for k in range(classes) if (y == k).sum().item() > 0]
    return {"loss": loss, "accuracy": (pred == y).float().mean().item(),
            "balanced_accuracy": sum(recall[k] for k in present) / len(present), "recall": recall}


def main():
    a = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    a.add_argument("patches")
    a.add_argument("--growth", type=int, default=12)
    a.add_argument("--blocks", default="6,12,8")
    a.add_argument("--bn-size", type=int, default=4)
    a.add_argument("--init-features", type=int, default=32)
    a.add_argument("--classes", type=int, default=3)
    a.add_argument("--epochs", type=int, default=20)
    a.add_argument("--batch-size", type=int, default=32)
    a.add_argument("--optimizer", choices=["adam", "sgd"], default="adam")
    a.add_argument("--lr", type=float, default=1e-3)
    a.add_argument("--momentum", type=float, default=0.9)
    a.add_argument("--weight-decay", type=float, default=1e-4)
    a.add_argument("--lr-decay", type=float, default=0.002)
    a.add_argument("--class-weights", choices=["auto", "none"], default="auto")
    a.add_argument("--max-degrees", type=float, default=10)
    a.add_argument("--patience", type=int, default=8)
    a.add_argument("--seed", type=int, default=1)
    a.add_argument("--threads", type=int, default=2)
    args = a.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    patches, labels, split = read_patches(args.patches)
    x = torch.from_numpy(patches.astype(np.float32))[:, None]
    y = torch.from_numpy(labels)
    tr, va, te = (torch.from_numpy(np.flatnonzero(split == s)) for s in (0, 1, 2))
    counts = torch.bincount(y[tr], minlength=args.classes).double()
    weights = None
    if args.class_weights == "auto":
        weights = (len(tr) / (args.classes * counts.clamp_min(1))).float()
    model = DenseNet(args.growth, [int(v) for v in args.blocks.split(",")], args.bn_size, args.init_features,
                     args.classes)
    decay = [p for p in model.parameters() if p.dim() > 1]
    plain = [p for p in model.parameters() if p.dim() <= 1]
    groups = [{"params": decay, "weight_decay": args.weight_decay}, {"params": plain, "weight_decay": 0}]
    opt = (torch.optim.Adam(groups, lr=args.lr) if args.optimizer == "adam"
           else torch.optim.SGD(groups, lr=args.lr, momentum=args.momentum))
    schedule = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: 1 / (1 + args.lr_decay * step))
    generator = torch.Generator().manual_seed(args.seed)
    best, best_state, waited, epochs_run = math.inf, None, 0, 0
    start = time.time()
    for epoch in range(args.epochs):
        model.train()
        order = tr[torch.randperm(len(tr), generator=generator)]
        usable = len(order) - len(order) % args.batch_size  # whole batches, as ours
        for i in range(0, usable, args.batch_size):
            idx = order[i:i + args.batch_size]
            batch = zscore(augment(x[idx], generator, args.max_degrees))
            loss = F.cross_entropy(model(batch), y[idx], weight=weights)
            opt.zero_grad()
            loss.backward()
            opt.step()
            schedule.step()
        epochs_run += 1
        val = evaluate(model, x[va], y[va], args.classes, weights)
        if val["loss"] < best:
            best, waited = val["loss"], 0
            best_state = {k: v.clone() for k, v in model.state_dict().items()}
        else:
            waited += 1
            if waited >= args.patience:
                break
    model.load_state_dict(best_state)
    test = evaluate(model, x[te], y[te], args.classes)
    print(json.dumps({"system": "pytorch", "seed": args.seed, "epochs_run": epochs_run,
                      "seconds": round(time.time() - start, 1), "best_val_loss": best, "test_n": len(te),
                      "test_accuracy": test["accuracy"], "test_balanced_accuracy": test["balanced_accuracy"],
                      "test_recall": test["recall"]}))


if __name__ == "__main__":
    sys.exit(main())
