"""Writes optim.json: parameter trajectories of SGD/Adam/AdamW and learning-rate schedules from PyTorch.

Run with Debian's PyTorch 1.13 (apt-get install python3-torch):
    /usr/bin/python3 MiniNet.Tests/Fixtures/make_optim_fixtures.py
CI never runs this script; the JSON it writes is committed.
"""
import json
import os

import torch

torch.manual_seed(7)
SHAPES = [(3, 2), (4,)]
STEPS = 6


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


initial = [torch.randn(*s) for s in SHAPES]
grads = [[torch.randn(*s) for s in SHAPES] for _ in range(STEPS)]


def trajectory(name, make, groups=None):
    params = [p.clone().requires_grad_(True) for p in initial]
    if groups is None:
        opt = make(params)
    else:
        opt = make([{"params": [params[0]], "lr": groups[0]}, {"params": [params[1]], "lr": groups[1]}])
    out = []
    for t in range(STEPS):
        for p, g in zip(params, grads[t]):
            p.grad = g.clone()
        opt.step()
        out.append([flat(p) for p in params])
    return {"name": name, "after_each_step": out}


optimizers = [
    trajectory("sgd", lambda p: torch.optim.SGD(p, lr=0.1)),
    trajectory("sgd_momentum", lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9)),
    trajectory("sgd_dampening_wd", lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.01)),
    trajectory("sgd_nesterov_wd", lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.05)),
    trajectory("sgd_groups", lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.5), groups=[0.1, 0.01]),
    trajectory("adam", lambda p: torch.optim.Adam(p, lr=0.01)),
    trajectory("adam_wd_amsgrad", lambda p: torch.optim.Adam(p, lr=0.02, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1, amsgrad=True)),
    trajectory("adamw", lambda p: torch.optim.AdamW(p, lr=0.01, weight_decay=0.1)),
    trajectory("rmsprop", lambda p: torch.optim.RMSprop(p, lr=0.01)),
    trajectory("rmsprop_centered_momentum_wd", lambda p: torch.optim.RMSprop(p, lr=0.005, alpha=0.9, eps=1e-6, weight_decay=0.05, momentum=0.8, centered=True)),
    trajectory("adagrad", lambda p: torch.optim.Adagrad(p, lr=0.1)),
    trajectory("adam_maximize", lambda p: torch.optim.Adam(p, lr=0.01, weight_decay=0.1, maximize=True)),
    trajectory("adamw_maximize_amsgrad", lambda p: torch.optim.AdamW(p, lr=0.01, amsgrad=True, maximize=True)),
    trajectory("adagrad_decay_wd_init", lambda p: torch.optim.Adagrad(p, lr=0.1, lr_decay=0.05, weight_decay=0.1, initial_accumulator_value=0.5, eps=1e-6)),
]


def schedule(name, make, epochs=12):
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=0.1)
    sched = make(opt)
    lrs = []
    for _ in range(epochs):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return {"name": name, "lrs": lrs}


schedules = [
    schedule("step", lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.5)),
    schedule("multistep", lambda o: torch.optim.lr_scheduler.MultiStepLR(o, milestones=[2, 5], gamma=0.1)),
    schedule("cosine", lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=6, eta_min=0.001)),
    schedule("linear", lambda o: torch.optim.lr_scheduler.LinearLR(o, start_factor=0.25, end_factor=1.0, total_iters=4)),
]

# Gradient clipping by global norm.
clip_params = [torch.randn(3, 4, requires_grad=True), torch.randn(5, requires_grad=True)]
for p in clip_params:
    p.grad = torch.randn_like(p) * 3
before = [flat(p.grad) for p in clip_params]
total = float(torch.nn.utils.clip_grad_norm_(clip_params, max_norm=1.5))
clip = {"grads": before, "max_norm": 1.5, "total_norm": total, "clipped": [flat(p.grad) for p in clip_params]}

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "optim.json")
with open(path, "w") as f:
    json.dump({
        "generator": "make_optim_fixtures.py", "torch": torch.__version__,
        "shapes": [list(s) for s in SHAPES], "initial": [flat(p) for p in initial],
        "grads": [[flat(g) for g in step] for step in grads],
        "optimizers": optimizers, "schedules": schedules, "clip": clip,
    }, f)
print("wrote", path)
