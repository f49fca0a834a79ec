"""Writes losses.json: values and input gradients of PyTorch's losses on fixed inputs, for every reduction.

Run with Debian's PyTorch 1.13 (apt-get install python3-torch):
    /usr/bin/python3 MiniNet.Tests/Fixtures/make_loss_fixtures.py
CI never runs this script; the JSON it writes is committed.
"""
import json
import os

import torch
import torch.nn as nn

torch.manual_seed(5)
N, K = 6, 4
pred = 2 * torch.randn(N, K)
pred[0, 0] = 0.0
target = 2 * torch.randn(N, K)
target[0, 0] = 0.0  # a zero difference: the L1 gradient there is 0
target[1, 1] = pred[1, 1] + 1.0  # exactly at beta = 1
prob_target = torch.rand(N, K)
logits = 4 * torch.randn(N, K)
logits[0, 0], logits[0, 1] = 40.0, -40.0
labels = torch.tensor([0, 3, 1, 2, 3, 1])
labels_ignored = torch.tensor([0, 3, -100, 2, 3, -100])
class_weight = torch.tensor([0.5, 1.0, 2.0, 0.25])
elem_weight = torch.rand(K)
pos_weight = torch.tensor([1.0, 3.0, 0.5, 2.0])


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


out = {"pred": flat(pred), "target": flat(target), "prob_target": flat(prob_target), "logits": flat(logits),
       "labels": labels.tolist(), "labels_ignored": labels_ignored.tolist(), "class_weight": flat(class_weight),
       "elem_weight": flat(elem_weight), "pos_weight": flat(pos_weight), "cases": {}}


def case(name, loss, x, *rest):
    for reduction in ["mean", "sum", "none"]:
        v = x.clone().requires_grad_(True)
        y = loss(reduction)(v, *rest)
        y.backward(torch.ones_like(y) if reduction == "none" else None)
        out["cases"][f"{name}/{reduction}"] = {"y": flat(y), "dx": flat(v.grad)}


case("mse", lambda r: nn.MSELoss(reduction=r), pred, target)
case("l1", lambda r: nn.L1Loss(reduction=r), pred, target)
case("smooth_l1", lambda r: nn.SmoothL1Loss(reduction=r), pred, target)
case("smooth_l1_0.5", lambda r: nn.SmoothL1Loss(reduction=r, beta=0.5), pred, target)
case("smooth_l1_0", lambda r: nn.SmoothL1Loss(reduction=r, beta=0.0), pred, target)
case("huber_2", lambda r: nn.HuberLoss(reduction=r, delta=2.0), pred, target)
case("bce", lambda r: nn.BCEWithLogitsLoss(reduction=r), logits, prob_target)
case("bce_weighted", lambda r: nn.BCEWithLogitsLoss(reduction=r, weight=elem_weight, pos_weight=pos_weight), logits, prob_target)
logp = torch.log_softmax(logits, 1)
case("nll", lambda r: nn.NLLLoss(reduction=r), logp, labels)
case("nll_weighted_ignored", lambda r: nn.NLLLoss(reduction=r, weight=class_weight), logp, labels_ignored)
case("ce", lambda r: nn.CrossEntropyLoss(reduction=r), logits, labels)
case("ce_weighted_ignored", lambda r: nn.CrossEntropyLoss(reduction=r, weight=class_weight), logits, labels_ignored)
case("ce_smoothed", lambda r: nn.CrossEntropyLoss(reduction=r, label_smoothing=0.1), logits, labels)
case("ce_all", lambda r: nn.CrossEntropyLoss(reduction=r, weight=class_weight, label_smoothing=0.2), logits, labels_ignored)
out["logp"] = flat(logp)

# (N, K, d1, d2) scores: a class score per position, labels (N, d1, d2) with ignored positions (drawn after the
# cases above, so their inputs stay as they were).
logits4 = 3 * torch.randn(2, 4, 3, 2)
labels4 = torch.randint(0, 4, (2, 3, 2))
labels4[0, 1, 0] = -100
labels4[1, 2, 1] = -100
out["logits4"] = flat(logits4)
out["labels4"] = labels4.reshape(-1).tolist()
case("ce_spatial", lambda r: nn.CrossEntropyLoss(reduction=r), logits4, labels4)
case("ce_spatial_all", lambda r: nn.CrossEntropyLoss(reduction=r, weight=class_weight, label_smoothing=0.1), logits4, labels4)
logp4 = torch.log_softmax(logits4, 1)
out["logp4"] = flat(logp4)
case("nll_spatial", lambda r: nn.NLLLoss(reduction=r, weight=class_weight), logp4, labels4)

with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "losses.json"), "w") as fh:
    json.dump(out, fh, indent=1)
