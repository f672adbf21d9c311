#!/usr/bin/env python3
"""PyTorch side of bench/compare_resnet.sh: torchvision ResNet training (SGD step) or inference
(inference_mode) images/s on random 3×H×W input, channels-last, median of timed iterations.
Prints one JSON line. Needs torch + torchvision (a venv under /tmp, never in the repo).

  torch_resnet.py --model resnet50 --threads 2 --mode train|infer --batch 4 --height 480 --width 640
"""
import argparse
import json
import resource
import statistics
import time

import torch
import torch.nn.functional as F
import torchvision


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="resnet50")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--mode", choices=["train", "infer"], required=True)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--height", type=int, default=480)
    ap.add_argument("--width", type=int, default=640)
    ap.add_argument("--iters", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = getattr(torchvision.models, a.model)(weights=None, num_classes=2).to(memory_format=torch.channels_last)
    x = torch.randn(a.batch, 3, a.height, a.width).contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, 2, (a.batch,))
    if a.mode == "train":
        model.train()
        opt = torch.optim.SGD(model.parameters(), lr=0.001, momentum=0.9)

        def run():
            opt.zero_grad(set_to_none=True)
            F.cross_entropy(model(x), y).backward()
            opt.step()
    else:
        model.eval()

        def run():
            with torch.inference_mode():
                model(x)
    for _ in range(a.warmup):
        run()
    times = []
    for _ in range(a.iters):
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
    print(json.dumps(dict(model=a.model, mode=a.mode, threads=a.threads, batch=a.batch, height=a.height, width=a.width,
                          img_per_s=a.batch / statistics.median(times), times=times, torch=torch.__version__,
                          rss_peak_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)))


if __name__ == "__main__":
    main()
