"""Writes schedules.json: the learning rates PyTorch's schedules give, step by step, to two parameter groups
(initial rates 0.1 and 0.02), read after each scheduler step.

Run with Debian's PyTorch 1.13 (apt-get install python3-torch):
    /usr/bin/python3 MiniNet.Tests/Fixtures/make_schedule_fixtures.py
CI never runs this script; the JSON it writes is committed.
"""
import json
import os
import warnings

import torch
from torch.optim import lr_scheduler as S

warnings.filterwarnings("ignore")
STEPS = 40


def optimizer():
    return torch.optim.SGD([{"params": [torch.zeros(1, requires_grad=True)], "lr": 0.1},
                            {"params": [torch.zeros(1, requires_grad=True)], "lr": 0.02}], lr=0.1, momentum=0.9)


CASES = {
    "exponential": lambda o: S.ExponentialLR(o, 0.9),
    "lambda_invsqrt": lambda o: S.LambdaLR(o, lambda e: 1.0 / (1 + e) ** 0.5),
    "warm_restarts": lambda o: S.CosineAnnealingWarmRestarts(o, 5, eta_min=0.001),
    "warm_restarts_mult2": lambda o: S.CosineAnnealingWarmRestarts(o, 3, T_mult=2, eta_min=0.0),
    "one_cycle": lambda o: S.OneCycleLR(o, max_lr=0.5, total_steps=STEPS, cycle_momentum=False),
    "one_cycle_linear_3phase": lambda o: S.OneCycleLR(o, max_lr=0.3, total_steps=STEPS, pct_start=0.25,
                                                      anneal_strategy="linear", three_phase=True, cycle_momentum=False),
    "sequential_warmup_cosine": lambda o: S.SequentialLR(
        o, [S.LinearLR(o, start_factor=0.1, total_iters=5), S.CosineAnnealingLR(o, T_max=20, eta_min=0.001)], milestones=[5]),
}

# A metric that improves, stalls, and improves a little (below the threshold), for ReduceLROnPlateau.
METRIC = [1.0, 0.8, 0.7, 0.7, 0.71, 0.69, 0.6999, 0.72, 0.5, 0.5, 0.5, 0.5, 0.5, 0.49999, 0.5, 0.5, 0.4, 0.4, 0.4, 0.4]
PLATEAU = {
    "plateau_min": lambda o: S.ReduceLROnPlateau(o, patience=2, factor=0.5),
    "plateau_max_abs_cooldown": lambda o: S.ReduceLROnPlateau(o, mode="max", patience=1, threshold=0.01,
                                                              threshold_mode="abs", cooldown=2, min_lr=0.01),
}

out = {"steps": STEPS, "metric": METRIC}
for name, make in CASES.items():
    o = optimizer()
    s = make(o)
    lrs = [[g["lr"] for g in o.param_groups]]
    for _ in range(STEPS - 1 if name.startswith("one_cycle") else STEPS):
        o.step()
        s.step()
        lrs.append([g["lr"] for g in o.param_groups])
    out[name] = lrs
for name, make in PLATEAU.items():
    o = optimizer()
    s = make(o)
    lrs = []
    for m in METRIC:
        o.step()
        s.step(m)
        lrs.append([g["lr"] for g in o.param_groups])
    out[name] = lrs

with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "schedules.json"), "w") as fh:
    json.dump(out, fh, indent=None)
