"""Writes conv_general.json: outputs and gradients of PyTorch's F.conv2d with groups, dilation, per-axis strides and
padding, and padding="same", on fixed random inputs.

Run with Debian's PyTorch 1.13 (apt-get install python3-torch):
    /usr/bin/python3 MiniNet.Tests/Fixtures/make_conv_fixtures.py
CI never runs this script; the JSON it writes is committed.
"""
import json
import os

import torch
import torch.nn.functional as F

torch.manual_seed(11)

# name: (x shape, weight shape, bias?, conv2d keyword arguments)
CASES = {
    "groups_2": ((2, 4, 5, 6), (6, 2, 3, 3), True, dict(padding=1, groups=2)),
    "depthwise_stride_2": ((2, 3, 7, 6), (3, 1, 3, 3), False, dict(stride=2, padding=1, groups=3)),
    "depthwise_multiplier_2": ((1, 2, 5, 5), (4, 1, 3, 3), True, dict(padding=1, groups=2)),
    "dilation_2": ((1, 2, 7, 7), (4, 2, 3, 3), False, dict(padding=2, dilation=2)),
    "rectangular": ((2, 3, 6, 8), (5, 3, 2, 4), True, dict(stride=(2, 1), padding=(1, 2))),
    "same_even_kernel": ((2, 2, 5, 6), (3, 2, 4, 2), False, dict(padding="same")),
    "same_dilated": ((1, 2, 6, 6), (2, 2, 3, 3), True, dict(padding="same", dilation=2)),
    "valid": ((1, 3, 5, 5), (2, 3, 3, 3), False, dict(padding="valid")),
    "everything": ((2, 4, 9, 8), (6, 2, 3, 2), True, dict(stride=(1, 3), padding=(2, 1), dilation=(2, 3), groups=2)),
}


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


out = {}
for name, (xs, ws, with_bias, kwargs) in CASES.items():
    x = torch.randn(*xs, requires_grad=True)
    w = torch.randn(*ws, requires_grad=True)
    b = torch.randn(ws[0], requires_grad=True) if with_bias else None
    y = F.conv2d(x, w, b, **kwargs)
    dy = torch.randn(y.shape)
    (y * dy).sum().backward()
    args = {k: (list(v) if isinstance(v, tuple) else v) for k, v in kwargs.items()}
    out[name] = {
        "args": args,
        "x": flat(x), "x_shape": list(xs), "w": flat(w), "w_shape": list(ws), "b": flat(b) if with_bias else None,
        "y": flat(y), "y_shape": list(y.shape), "dy": flat(dy),
        "dx": flat(x.grad), "dw": flat(w.grad), "db": flat(b.grad) if with_bias else None,
    }

with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "conv_general.json"), "w") as fh:
    json.dump(out, fh, indent=None, separators=(",", ":"))
