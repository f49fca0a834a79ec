"""Writes tensor_ops.json: outputs and input gradients of PyTorch's joining, slicing, indexing, comparison and
reduction ops on fixed inputs (ties and zero rows included, where the gradient rules differ).

Run with Debian's PyTorch 1.13 (apt-get install python3-torch):
    /usr/bin/python3 MiniNet.Tests/Fixtures/make_tensor_op_fixtures.py
CI never runs this script; the JSON it writes is committed.
"""
import json
import os

import torch
import torch.nn.functional as F

torch.manual_seed(5)


def r(*shape):
    return torch.randn(*shape)


def i64(values, shape=None):
    t = torch.tensor(values, dtype=torch.int64)
    return t if shape is None else t.reshape(shape)


ties = torch.tensor([[1.0, 3.0, 3.0, -2.0], [0.5, 0.5, 0.5, 0.5], [-1.0, 4.0, 2.0, 4.0]])
with_zero_row = torch.cat([torch.zeros(1, 4), r(2, 4)])

# name: (inputs, function). Float inputs require grad; int64 and bool inputs are indices and masks.
CASES = {
    "cat_0": ([r(2, 3), r(4, 3)], lambda a, b: torch.cat([a, b], 0)),
    "cat_1": ([r(2, 3), r(2, 5), r(2, 1)], lambda a, b, c: torch.cat([a, b, c], 1)),
    "cat_-1_3d": ([r(2, 2, 3), r(2, 2, 1)], lambda a, b: torch.cat([a, b], -1)),
    "stack_1": ([r(2, 3), r(2, 3), r(2, 3)], lambda a, b, c: torch.stack([a, b, c], 1)),
    "stack_-1": ([r(2, 3), r(2, 3)], lambda a, b: torch.stack([a, b], -1)),
    "narrow_1": ([r(3, 5)], lambda a: a.narrow(1, 1, 3)),
    "narrow_0_neg": ([r(4, 2, 3)], lambda a: a.narrow(0, -2, 2)),
    "split_3": ([r(7, 2)], lambda a: list(a.split(3, 0))),
    "split_sizes": ([r(2, 6)], lambda a: list(a.split([1, 3, 2], 1))),
    "chunk_3": ([r(7, 2)], lambda a: list(a.chunk(3, 0))),
    "chunk_4_of_6": ([r(6, 3)], lambda a: list(a.chunk(4, 0))),
    "unsqueeze_squeeze": ([r(3, 1, 4)], lambda a: a.squeeze(1).unsqueeze(0).unsqueeze(-1) * 2),
    "expand": ([r(3, 1)], lambda a: a.expand(2, 3, 4)),
    "expand_keep": ([r(1, 4)], lambda a: a.expand(3, -1)),
    "repeat": ([r(2, 3)], lambda a: a.repeat(2, 1, 2)),
    "index_select_1": ([r(4, 5), i64([4, 0, 4])], lambda a, i: a.index_select(1, i)),
    "index_select_0": ([r(4, 2, 3), i64([3, 1])], lambda a, i: a.index_select(0, i)),
    "gather_1": ([r(3, 4), i64([[0, 3], [2, 2], [1, 0]])], lambda a, i: a.gather(1, i)),
    "gather_0": ([r(3, 4), i64([[2, 0, 1], [0, 0, 2]])], lambda a, i: a.gather(0, i)),
    "index_rows": ([r(5, 3), i64([[0, -1], [2, 2]])], lambda a, i: a[i]),
    "index_mask": ([r(3, 4), torch.tensor([True, False, True])], lambda a, m: a[m]),
    "index_mask_full": ([r(3, 4), torch.tensor([[True, False, True, True], [False] * 4, [False, True, False, False]])],
                        lambda a, m: a[m]),
    "where": ([torch.tensor([[True], [False], [True]]), r(3, 4), r(4)], lambda c, a, b: torch.where(c, a, b)),
    "masked_fill": ([r(2, 3), torch.tensor([True, False, True])], lambda a, m: a.masked_fill(m, -1.5)),
    "maximum": ([ties, torch.tensor([3.0, 3.0, 0.0, 4.0])], lambda a, b: torch.maximum(a, b)),
    "minimum": ([ties, torch.tensor([3.0, 0.5, 2.0, 0.0])], lambda a, b: torch.minimum(a, b)),
    "max_dim1": ([ties], lambda a: a.max(1).values),
    "min_dim0_keep": ([ties], lambda a: a.min(0, keepdim=True).values),
    "max_all_ties": ([ties], lambda a: a.max()),
    "min_all_ties": ([ties], lambda a: a.min()),
    "std_all": ([r(3, 4)], lambda a: a.std()),
    "std_axis_biased": ([r(3, 4)], lambda a: a.std(1, unbiased=False)),
    "std_axes_keep": ([r(2, 3, 4)], lambda a: a.std([0, 2], keepdim=True)),
    "norm2_all": ([r(3, 4)], lambda a: torch.linalg.vector_norm(a)),
    "norm2_rows_zero": ([with_zero_row], lambda a: torch.linalg.vector_norm(a, 2, dim=1)),
    "norm1_axis": ([r(3, 4)], lambda a: torch.linalg.vector_norm(a, 1, dim=0)),
    "norm3_keep": ([r(3, 4)], lambda a: torch.linalg.vector_norm(a, 3, dim=1, keepdim=True)),
    "norminf_axes": ([r(2, 3, 4)], lambda a: torch.linalg.vector_norm(a, float("inf"), dim=[0, 2])),
    "norminf_ties": ([ties * torch.tensor([1.0, -1.0, 1.0, 1.0])], lambda a: torch.linalg.vector_norm(a, float("inf"), dim=1)),
    # Where the gradient rules meet 0·∞ (fixed inputs, so the cases above keep their random draws).
    "std_constant_row": ([torch.tensor([[1.0, 1.0, 1.0], [1.0, 2.0, 4.0]])], lambda a: a.std(1)),
    "std_all_constant": ([torch.full((2, 3), 0.5)], lambda a: a.std()),
    "norm3_zero_row": ([torch.tensor([[0.0, 0.0, 0.0], [1.0, -2.0, 3.0]])], lambda a: torch.linalg.vector_norm(a, 3, dim=1)),
    "norm_half_zero_elements": ([torch.tensor([[0.0, 0.0, 0.0], [1.0, 0.0, -3.0]])], lambda a: torch.linalg.vector_norm(a, 0.5, dim=1)),
    "norm1_5_zero_elements": ([torch.tensor([[0.0, 0.0], [2.0, 0.0]])], lambda a: torch.linalg.vector_norm(a, 1.5, dim=1)),
    "chunk_empty_axis": ([torch.zeros(0, 2)], lambda a: list(a.chunk(3, 0))),
}

# Ops without gradients: their outputs only.
VALUES = {
    "gt": ([ties, torch.tensor([1.0, 3.0, 0.5, 4.0])], lambda a, b: a > b),
    "ge": ([ties, torch.tensor([1.0, 3.0, 0.5, 4.0])], lambda a, b: a >= b),
    "lt_scalar": ([ties], lambda a: a < 0.5),
    "le_scalar": ([ties], lambda a: a <= 0.5),
    "eq": ([ties, torch.tensor([[1.0], [0.5], [4.0]])], lambda a, b: a == b),
    "ne_scalar": ([ties], lambda a: a != 3.0),
    "eq_int64": ([i64([1, 2, 3, 2]), i64([2])], lambda a, b: a == b),
    "gt_int64_float": ([i64([1, 2, 3, 2])], lambda a: a > 1.5),
    "argmax_1": ([ties], lambda a: a.argmax(1)),
    "argmin_0_keep": ([ties], lambda a: a.argmin(0, keepdim=True)),
    "one_hot": ([i64([2, 0, 1, 2])], lambda a: F.one_hot(a)),
    "one_hot_5": ([i64([[2, 0], [4, 1]])], lambda a: F.one_hot(a, 5)),
    "index_select_int64": ([i64([10, 20, 30, 40]), i64([3, 0, 3])], lambda a, i: a.index_select(0, i)),
    "cat_int64": ([i64([1, 2]), i64([3])], lambda a, b: torch.cat([a, b])),
    "logical": ([torch.tensor([True, False, True]), torch.tensor([[True], [False]])],
                lambda a, b: torch.logical_or(torch.logical_and(a, b), ~b)),
}


def encode(t):
    kind = {torch.float32: "float32", torch.int64: "int64", torch.bool: "bool"}[t.dtype]
    values = t.detach().reshape(-1).tolist()
    if kind == "float32":
        values = [float(v) for v in values]
    elif kind == "bool":
        values = [1 if v else 0 for v in values]
    return {"dtype": kind, "shape": list(t.shape), "values": values}


out = {}
for name, (inputs, f) in CASES.items():
    leaves = [t.clone().requires_grad_(t.dtype == torch.float32) for t in inputs]
    result = f(*leaves)
    outputs = result if isinstance(result, list) else [result]
    dys = [torch.randn(o.shape) for o in outputs]
    sum((o * d).sum() for o, d in zip(outputs, dys)).backward()
    out[name] = {
        "inputs": [encode(t) for t in inputs],
        "outputs": [encode(o) for o in outputs],
        "dys": [encode(d) for d in dys],
        "grads": [encode(t.grad) if t.grad is not None else None for t in leaves],
    }
for name, (inputs, f) in VALUES.items():
    out[name] = {"inputs": [encode(t) for t in inputs], "outputs": [encode(f(*inputs))]}

with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "tensor_ops.json"), "w") as fh:
    json.dump(out, fh, indent=None, separators=(",", ":"))
