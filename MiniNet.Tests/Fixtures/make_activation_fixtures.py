"""Writes activations.json: outputs and input gradients of PyTorch's activations and elementwise ops on fixed inputs.

Run with Debian's PyTorch 1.13 (apt-get install python3-torch):
    /usr/bin/python3 MiniNet.Tests/Fixtures/make_activation_fixtures.py
CI never runs this script; the JSON it writes is committed.
"""
import json
import os

import torch
import torch.nn.functional as F

torch.manual_seed(11)
# Zero, both sides of it, the tails, and values beyond Softplus's threshold.
x = torch.cat([torch.tensor([0.0, -0.0, 1e-4, -1e-4, 5.0, -5.0, 12.0, -12.0, 25.0, -25.0]), 3 * torch.randn(40)])
dy = torch.randn(x.shape)

CASES = {
    "leaky_relu": lambda v: F.leaky_relu(v),
    "leaky_relu_0.2": lambda v: F.leaky_relu(v, 0.2),
    "elu": lambda v: F.elu(v),
    "elu_0.5": lambda v: F.elu(v, 0.5),
    "gelu": lambda v: F.gelu(v),
    "gelu_tanh": lambda v: F.gelu(v, approximate="tanh"),
    "silu": lambda v: F.silu(v),
    "softplus": lambda v: F.softplus(v),
    "softplus_2_5": lambda v: F.softplus(v, beta=2.0, threshold=5.0),
    "clamp_-1_2": lambda v: v.clamp(-1.0, 2.0),
    "clamp_min_0.5": lambda v: v.clamp(min=0.5),
    "clamp_max_-0.5": lambda v: v.clamp(max=-0.5),
    "clamp_5_-1": lambda v: v.clamp(5.0, -1.0),
    "sign": lambda v: v.sign(),
    "rsqrt_abs": lambda v: (v.abs() + 0.1).rsqrt(),
}


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


out = {"x": flat(x), "dy": flat(dy)}
for name, f in CASES.items():
    v = x.clone().requires_grad_(True)
    y = f(v)
    y.backward(dy)
    out[name] = {"y": flat(y), "dx": flat(v.grad)}

with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "activations.json"), "w") as fh:
    json.dump(out, fh, indent=1)
