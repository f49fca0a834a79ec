"""Writes norm_pool.json: GroupNorm, InstanceNorm1d/2d (with and without running statistics) and
AdaptiveAvgPool2d in PyTorch 1.13, with outputs, input and parameter gradients, and running statistics.

Run with Debian's PyTorch 1.13 (apt-get install python3-torch):
    /usr/bin/python3 MiniNet.Tests/Fixtures/make_norm_pool_fixtures.py
CI never runs this script; the JSON it writes is committed.
"""
import json
import os

import torch
import torch.nn as nn

torch.manual_seed(3)


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def affine(m):
    if getattr(m, "weight", None) is not None:
        with torch.no_grad():
            m.weight.copy_(1 + 0.5 * torch.randn(m.weight.shape))
            m.bias.copy_(0.5 * torch.randn(m.bias.shape))


CASES = {
    "group_norm_2_of_4": (lambda: nn.GroupNorm(2, 4), (3, 4, 2, 3)),
    "group_norm_1_of_6_no_affine": (lambda: nn.GroupNorm(1, 6, affine=False), (2, 6, 5)),
    "group_norm_4_of_4": (lambda: nn.GroupNorm(4, 4, eps=1e-3), (2, 4, 3, 3)),
    "instance_norm_2d": (lambda: nn.InstanceNorm2d(3), (2, 3, 4, 5)),
    "instance_norm_2d_affine_tracked": (lambda: nn.InstanceNorm2d(3, affine=True, track_running_stats=True, momentum=0.2), (4, 3, 3, 4)),
    "instance_norm_1d_tracked": (lambda: nn.InstanceNorm1d(2, track_running_stats=True), (3, 2, 6)),
    "adaptive_avg_pool_3x2": (lambda: nn.AdaptiveAvgPool2d((3, 2)), (2, 3, 7, 5)),
    "adaptive_avg_pool_global": (lambda: nn.AdaptiveAvgPool2d(1), (2, 3, 4, 4)),
    "adaptive_avg_pool_upsampling": (lambda: nn.AdaptiveAvgPool2d((4, 5)), (1, 2, 3, 2)),
}

out = {}
for name, (make, shape) in CASES.items():
    m = make()
    affine(m)
    case = {"shape": list(shape), "state": {k: flat(v) for k, v in m.state_dict().items()}, "train": []}
    for step in range(2):
        x = (2 * torch.randn(shape) + 0.5).requires_grad_(True)
        y = m(x)
        dy = torch.randn(y.shape)
        m.zero_grad()
        y.backward(dy)
        rec = {"x": flat(x), "dy": flat(dy), "y": flat(y), "y_shape": list(y.shape), "dx": flat(x.grad)}
        for pname, p in m.named_parameters():
            rec["d" + pname] = flat(p.grad)
        rec["buffers"] = {k: flat(v) for k, v in m.state_dict().items() if k.startswith("running")}
        case["train"].append(rec)
    m.eval()
    x = 2 * torch.randn(shape)
    case["eval"] = {"x": flat(x), "y": flat(m(x))}
    out[name] = case

with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "norm_pool.json"), "w") as fh:
    json.dump(out, fh, indent=None)
