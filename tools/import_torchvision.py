#!/usr/bin/env python3
"""Convert a torchvision DenseNet or ResNet state_dict into a netosis checkpoint (the /model part of the
checkpoint schema in docs: /model/<key with '.' -> '/'> float32, PyTorch layouts, BatchNorm
running statistics included; /model attribute `config` = our model configuration as JSON).

Needs torch and h5py (see docs/neural.md for a virtualenv under /tmp). Examples:

  # ImageNet weights a user downloaded (torchvision's densenet121-a639ec97.pth), for 1-channel
  # patches and 3 classes: the RGB stem is summed to one channel, the classifier is re-initialised.
  python tools/import_torchvision.py --state-dict densenet121-a639ec97.pth --channels 1 --num-classes 3 --out ck.h5

  # A model trained with torchvision: keep everything.
  python tools/import_torchvision.py --state-dict my_model.pth --out ck.h5

  # ImageNet ResNet-50 weights (resnet50-11ad3fa6.pth) for the celldeath method's 480×640 RGB
  # tiles and 2 classes: the fc layer is re-initialised, the architecture read from the keys.
  python tools/import_torchvision.py --state-dict resnet50-11ad3fa6.pth --num-classes 2 \
      --input-size 480 --input-width 640 --name resnet50 --out resnet50-imagenet.h5
"""
import argparse
import json
import re
import sys
from datetime import datetime, timezone

import h5py
import numpy as np

MODELS = {
    "densenet121": dict(growth_rate=32, block_config=[6, 12, 24, 16], num_init_features=64),
    "densenet-small": dict(growth_rate=12, block_config=[6, 12, 8], num_init_features=32),
}

# Old torchvision checkpoints name layers 'norm.1' instead of 'norm1' (torchvision fixes them the same way).
LEGACY = re.compile(r"^(.*denselayer\d+\.(?:norm|relu|conv))\.((?:[12])\.(?:weight|bias|running_mean|running_var))$")


def fix_keys(state):
    out = {}
    for k, v in state.items():
        m = LEGACY.match(k)
        out[(m.group(1) + m.group(2)) if m else k] = v
    return out


def infer_config(state, name, channels, num_classes, input_size, bn_size=4):
    """Read the structure back from the tensors, so any torchvision DenseNet converts."""
    blocks = []
    b = 1
    while any(k.startswith(f"features.denseblock{b}.") for k in state):
        layers = {int(m.group(1)) for k in state for m in [re.match(rf"features\.denseblock{b}\.denselayer(\d+)\.", k)] if m}
        blocks.append(max(layers))
        b += 1
    init = state["features.conv0.weight"].shape[0]
    growth = state["features.denseblock1.denselayer1.conv2.weight"].shape[0]
    bottleneck = state["features.denseblock1.denselayer1.conv1.weight"].shape[0]
    return dict(name=name, growth_rate=int(growth), block_config=blocks, bn_size=int(bottleneck // growth),
                compression=0.5, num_init_features=int(init), input_channels=channels,
                num_classes=num_classes, input_size=input_size, drop_rate=0.0)


def write_checkpoint(state, config, out, tool="import_torchvision.py"):
    """state: dict of numpy arrays with torchvision keys (num_batches_tracked is dropped)."""
    with h5py.File(out, "w") as f:
        f.attrs["format"] = "netosis.checkpoint"
        f.attrs["format_version"] = np.int32(1)
        f.attrs["created"] = datetime.now(timezone.utc).isoformat()
        f.attrs["tool_version"] = tool
        f.attrs["config"] = json.dumps(config, sort_keys=True)
        g = f.create_group("model")
        g.attrs["config"] = json.dumps(config, sort_keys=True)
        for k, v in state.items():
            if k.endswith("num_batches_tracked"):
                continue
            a = np.ascontiguousarray(np.asarray(v, dtype=np.float32))
            g.create_dataset(k.replace(".", "/"), data=a, chunks=a.shape if a.ndim else None, fletcher32=a.ndim > 0)


def infer_resnet_config(state, name, channels, num_classes, input_size, input_width):
    """A torchvision ResNet's structure from its keys: block kind, blocks per stage, stem width."""
    layers = []
    while any(k.startswith(f"layer{len(layers) + 1}.") for k in state):
        i = len(layers) + 1
        layers.append(1 + max(int(m.group(1)) for k in state for m in [re.match(rf"layer{i}\.(\d+)\.", k)] if m))
    block = "bottleneck" if "layer1.0.conv3.weight" in state else "basic"
    return dict(architecture="resnet", name=name, block=block, layers=layers, width=int(state["conv1.weight"].shape[0]),
                input_channels=channels, num_classes=num_classes, input_size=input_size,
                input_width=input_width or input_size)


def convert(state, channels=None, num_classes=None, input_size=112, name="densenet121", seed=0, input_width=None):
    import torch
    state = {k: (v.detach().cpu().numpy() if hasattr(v, "detach") else np.asarray(v)) for k, v in fix_keys(state).items()}
    resnet = "conv1.weight" in state and "layer1.0.conv1.weight" in state
    stem_key, head_key = ("conv1.weight", "fc") if resnet else ("features.conv0.weight", "classifier")
    stem = state[stem_key]
    if channels is not None and channels != stem.shape[1]:
        if channels != 1:
            raise SystemExit(f"can only sum the {stem.shape[1]}-channel stem to 1 channel, not {channels}")
        state[stem_key] = stem.sum(axis=1, keepdims=True)
    classes = state[head_key + ".weight"].shape[0]
    if num_classes is not None and num_classes != classes:
        # New head, initialised like torch.nn.Linear (U(-1/sqrt(in), 1/sqrt(in))), seeded.
        features = state[head_key + ".weight"].shape[1]
        g = torch.Generator().manual_seed(seed)
        bound = 1 / np.sqrt(features)
        state[head_key + ".weight"] = ((torch.rand(num_classes, features, generator=g) * 2 - 1) * bound).numpy()
        state[head_key + ".bias"] = ((torch.rand(num_classes, generator=g) * 2 - 1) * bound).numpy()
        classes = num_classes
    in_channels = int(state[stem_key].shape[1])
    if resnet:
        config = infer_resnet_config(state, name, in_channels, int(classes), input_size, input_width)
    else:
        config = infer_config(state, name, in_channels, int(classes), input_size)
    return state, config


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--state-dict", required=True, help="torch.save'd state_dict (.pth) of a torchvision DenseNet or ResNet")
    ap.add_argument("--out", required=True, help="netosis checkpoint to write (.h5)")
    ap.add_argument("--channels", type=int, help="input channels of the converted model (1: sum the RGB stem)")
    ap.add_argument("--num-classes", type=int, help="classes of the converted model (a new classifier if it differs)")
    ap.add_argument("--input-size", type=int, default=112, help="input height (and width unless --input-width)")
    ap.add_argument("--input-width", type=int, help="input width of a ResNet (e.g. 640 for 480×640 tiles)")
    ap.add_argument("--name", default="densenet121")
    ap.add_argument("--seed", type=int, default=0, help="seed for a re-initialised classifier")
    a = ap.parse_args()
    import torch
    state = torch.load(a.state_dict, map_location="cpu", weights_only=True)
    if "state_dict" in state and not any(k.startswith(("features.", "conv1.")) for k in state):
        state = state["state_dict"]
    state, config = convert(state, a.channels, a.num_classes, a.input_size, a.name, a.seed, a.input_width)
    write_checkpoint(state, config, a.out)
    print(f"wrote {a.out}: {config}", file=sys.stderr)


if __name__ == "__main__":
    main()
