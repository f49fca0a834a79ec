"""Writes batchnorm.json: BatchNorm1d/2d outputs, gradients and running statistics from PyTorch.

Run with Debian's PyTorch 1.13 (apt-get install python3-torch):
    /usr/bin/python3 MiniNet.Tests/Fixtures/make_batchnorm_fixtures.py
CI never runs this script; the JSON it writes is committed.
"""
import json
import os

import torch

torch.manual_seed(20261122)


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def case(name, layer, shape, steps=3):
    c = shape[1]
    with torch.no_grad():
        if layer.affine:
            layer.weight.copy_(torch.rand(c) + 0.5)
            layer.bias.copy_(torch.randn(c) * 0.5)
    out = {
        "name": name,
        "kind": type(layer).__name__,
        "num_features": c,
        "eps": layer.eps,
        "momentum": layer.momentum,
        "affine": layer.affine,
        "track_running_stats": layer.track_running_stats,
        "shape": list(shape),
        "weight": flat(layer.weight) if layer.affine else None,
        "bias": flat(layer.bias) if layer.affine else None,
        "steps": [],
    }
    layer.train()
    for step in range(steps):
        x = (torch.randn(*shape) * (1.0 + step) + step).requires_grad_(True)
        r = torch.randn(*shape)
        if layer.affine:
            layer.weight.grad = None
            layer.bias.grad = None
        y = layer(x)
        (y * r).sum().backward()
        entry = {
            "x": flat(x), "r": flat(r), "y": flat(y), "dx": flat(x.grad),
        }
        if layer.affine:
            entry["dweight"] = flat(layer.weight.grad)
            entry["dbias"] = flat(layer.bias.grad)
        if layer.track_running_stats:
            entry["running_mean"] = flat(layer.running_mean)
            entry["running_var"] = flat(layer.running_var)
            entry["num_batches_tracked"] = int(layer.num_batches_tracked)
        out["steps"].append(entry)
    layer.eval()
    x = torch.randn(*shape) * 2 + 1
    with torch.no_grad():
        out["eval_x"] = flat(x)
        out["eval_y"] = flat(layer(x))
    return out


cases = [
    case("bn1d_nc", torch.nn.BatchNorm1d(4), (6, 4)),
    case("bn1d_ncl_cumulative", torch.nn.BatchNorm1d(3, momentum=None), (4, 3, 5)),
    case("bn2d_overrides", torch.nn.BatchNorm2d(2, eps=1e-3, momentum=0.3), (3, 2, 4, 5)),
    case("bn2d_no_affine", torch.nn.BatchNorm2d(3, affine=False), (2, 3, 3, 3)),
    case("bn1d_no_running_stats", torch.nn.BatchNorm1d(5, track_running_stats=False), (7, 5)),
]

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "batchnorm.json")
with open(path, "w") as f:
    json.dump({"generator": "make_batchnorm_fixtures.py", "torch": torch.__version__, "cases": cases}, f)
print("wrote", path)
