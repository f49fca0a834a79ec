"""Writes pool_general.json: outputs and input gradients of PyTorch's max_pool2d and avg_pool2d with ceil_mode,
count_include_pad and per-axis kernel, stride and padding, on fixed random inputs.

Run with Debian's PyTorch 1.13 (apt-get install python3-torch):
    /usr/bin/python3 MiniNet.Tests/Fixtures/make_pool_fixtures.py
CI never runs this script; the JSON it writes is committed.
"""
import json
import os

import torch
import torch.nn.functional as F

torch.manual_seed(13)

# name: (x shape, "max" or "avg", keyword arguments)
CASES = {
    "max_ceil": ((2, 2, 7, 6), "max", dict(kernel_size=3, stride=2, ceil_mode=True)),
    "max_ceil_padded": ((1, 2, 5, 5), "max", dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    "max_ceil_2x2_odd": ((1, 2, 5, 7), "max", dict(kernel_size=2, stride=2, ceil_mode=True)),
    "max_tuple": ((2, 3, 6, 8), "max", dict(kernel_size=(2, 3), stride=(2, 1), padding=(1, 1))),
    "avg_without_padding_count": ((2, 2, 6, 6), "avg", dict(kernel_size=3, stride=2, padding=1, count_include_pad=False)),
    "avg_ceil": ((1, 2, 7, 7), "avg", dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    "avg_ceil_without_padding_count": ((1, 2, 6, 5), "avg",
                                       dict(kernel_size=(3, 2), stride=2, padding=(1, 0), ceil_mode=True, count_include_pad=False)),
    "avg_tuple": ((2, 2, 7, 6), "avg", dict(kernel_size=(3, 2), stride=(1, 2), padding=(1, 1))),
    # A last window overhanging the padding, counted with it: the divisor stops at the padded edge.
    "avg_ceil_overhang_counting_padding": ((1, 2, 6, 6), "avg", dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
}


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


out = {}
for name, (shape, kind, kwargs) in CASES.items():
    x = torch.randn(*shape, requires_grad=True)
    y = (F.max_pool2d if kind == "max" else F.avg_pool2d)(x, **kwargs)
    dy = torch.randn(y.shape)
    (y * dy).sum().backward()
    args = {k: (list(v) if isinstance(v, tuple) else v) for k, v in kwargs.items()}
    out[name] = {"kind": kind, "args": args, "x": flat(x), "x_shape": list(shape), "y": flat(y), "y_shape": list(y.shape),
                 "dy": flat(dy), "dx": flat(x.grad)}

with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "pool_general.json"), "w") as fh:
    json.dump(out, fh, indent=None, separators=(",", ":"))
