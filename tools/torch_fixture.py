"""What the PyTorch parity fixtures share (make_parity_fixture.py, make_sequential_fixture.py,
make_resnet_fixture.py): the checkpoint part, one training-mode pass, three SGD-momentum steps.
Names are state_dict keys with '.' -> '/'."""
import json

import numpy as np
import torch
import torch.nn.functional as F

LR, MOMENTUM, WEIGHT_DECAY, STEPS = 0.05, 0.9, 1e-3, 3


def key(name):
    return name.replace(".", "/")


def write_model(f, tool, config, initial, x, y):
    """File attributes, /model/<tensor> (initial weights) with the config, /input, /labels."""
    f.attrs["format"] = "netosis.checkpoint"
    f.attrs["format_version"] = np.int32(1)
    f.attrs["tool_version"] = tool + " torch " + torch.__version__
    grp = f.create_group("model")
    grp.attrs["config"] = json.dumps(config, sort_keys=True)
    for k, v in initial.items():
        grp.create_dataset(key(k), data=v.numpy().astype(np.float32))
    f.create_dataset("input", data=x.numpy())
    f.create_dataset("labels", data=y.numpy())


def write_training_pass(f, model, x, y):
    """/train/logits, /train/loss, /train/input_grad, /train/grad/<param> of one pass in the
    mode the model is in (the caller puts it in training mode)."""
    xi = x.clone().requires_grad_(True)
    logits = model(xi)
    loss = F.cross_entropy(logits, y)
    loss.backward()
    f.create_dataset("train/logits", data=logits.detach().numpy())
    f.create_dataset("train/loss", data=np.array([loss.item()], dtype=np.float64))
    f.create_dataset("train/input_grad", data=xi.grad.numpy())
    for name, p in model.named_parameters():
        f.create_dataset("train/grad/" + key(name), data=p.grad.numpy())


def write_sgd_steps(f, model, initial, x, y):
    """From the initial weights, three SGD-momentum steps on the same batch: /sgd/<tensor> (with
    the settings as attributes) and the inference-mode logits after them, /sgd_eval_logits."""
    model.load_state_dict({**model.state_dict(), **initial})
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY)
    for _ in range(STEPS):
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    sgd = f.create_group("sgd")
    sgd.attrs["lr"], sgd.attrs["momentum"], sgd.attrs["weight_decay"], sgd.attrs["steps"] = LR, MOMENTUM, WEIGHT_DECAY, STEPS
    for k, v in model.state_dict().items():
        if not k.endswith("num_batches_tracked"):
            sgd.create_dataset(key(k), data=v.numpy())
    model.eval()
    with torch.no_grad():
        f.create_dataset("sgd_eval_logits", data=model(x).numpy())
