"""PyTorch baseline for MiniNet's performance benchmark: the same workloads, measured the same way.

Run with Debian's PyTorch (apt-get install python3-torch libopenblas0-openmp), OPENBLAS_CORETYPE unset and
GLIBC_TUNABLES=glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=4294967296, e.g. via
benchmarks/compare.sh. Prints a table and writes JSON (--json FILE).
"""
import argparse
import json
import statistics
import subprocess
import sys
import time

import torch
import torch.nn as nn
import torch.utils.mkldnn

torch.set_num_threads(2)


class BasicBlock(nn.Module):
    """ResNet's basic block, as MiniNet's benchmark writes it (a custom module there)."""

    def __init__(self, inc, outc, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(inc, outc, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(outc)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(outc, outc, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(outc)
        self.project = stride != 1 or inc != outc
        if self.project:
            self.shortcut_conv = nn.Conv2d(inc, outc, 1, stride=stride, bias=False)
            self.shortcut_bn = nn.BatchNorm2d(outc)

    def forward(self, x):
        h = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        shortcut = self.shortcut_bn(self.shortcut_conv(x)) if self.project else x
        return torch.relu(h + shortcut)


def workloads():
    return {
        "fig1": (60, (784,), lambda: nn.Sequential(
            nn.Linear(784, 100, bias=False), nn.BatchNorm1d(100), nn.Sigmoid(),
            nn.Linear(100, 100, bias=False), nn.BatchNorm1d(100), nn.Sigmoid(),
            nn.Linear(100, 100, bias=False), nn.BatchNorm1d(100), nn.Sigmoid(),
            nn.Linear(100, 10))),
        "mlp": (128, (784,), lambda: nn.Sequential(
            nn.Linear(784, 1024, bias=False), nn.BatchNorm1d(1024), nn.ReLU(),
            nn.Linear(1024, 1024, bias=False), nn.BatchNorm1d(1024), nn.ReLU(),
            nn.Linear(1024, 10))),
        "cnn": (64, (1, 28, 28), lambda: nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1, bias=False), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(3136, 128, bias=False), nn.BatchNorm1d(128), nn.ReLU(), nn.Linear(128, 10))),
        "resnet": (128, (3, 32, 32), lambda: nn.Sequential(
            nn.Conv2d(3, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
            BasicBlock(16, 16, 1), BasicBlock(16, 16, 1), BasicBlock(16, 16, 1),
            BasicBlock(16, 32, 2), BasicBlock(32, 32, 1), BasicBlock(32, 32, 1),
            BasicBlock(32, 64, 2), BasicBlock(64, 64, 1), BasicBlock(64, 64, 1),
            nn.AvgPool2d(8), nn.Flatten(), nn.Linear(64, 10))),
        "wide": (128, (3, 32, 32), lambda: nn.Sequential(
            nn.Conv2d(3, 64, 3, padding=1, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
            nn.Conv2d(64, 128, 3, padding=1, bias=False), nn.BatchNorm2d(128), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(128, 256, 3, padding=1, bias=False), nn.BatchNorm2d(256), nn.ReLU(),
            nn.Conv2d(256, 256, 3, padding=1, bias=False), nn.BatchNorm2d(256), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(256 * 8 * 8, 10))),
    }


def frozen_variants(model, shape):
    """PyTorch's inference deployment paths for an eval-mode model, to compare with MiniNet's Sequential.Freeze:
    TorchScript frozen, TorchScript frozen and optimised for inference (BatchNorm folded into convolutions, weights
    prepacked for oneDNN), and the Linear layers converted to oneDNN's prepacked MkldnnLinear. Variants this PyTorch
    cannot build or run are left out."""
    variants = {}
    builders = {
        "jit.freeze": lambda: torch.jit.freeze(torch.jit.script(model)),
        "optimize_for_inference": lambda: torch.jit.optimize_for_inference(torch.jit.script(model)),
        "mkldnn Linear": lambda: nn.Sequential(*[torch.utils.mkldnn.to_mkldnn(m) if isinstance(m, nn.Linear) else m for m in model]),
    }
    for name, build in builders.items():
        try:
            variant = build()
            with torch.no_grad():
                variant(torch.randn(2, *shape))   # it runs on this model
            variants[name] = variant
        except Exception as error:   # an unsupported model or build: skip that variant
            print(f"  ({name} unavailable: {type(error).__name__})")
    return variants


def best_eval(module, batch, shape, windows, window_seconds):
    """Eval images/s of `module` under no_grad: the better of batch 1000 and the training batch, and that batch."""
    best, best_batch = 0.0, 0
    for eval_batch in sorted({1000, batch}, reverse=True):
        xe = torch.randn(eval_batch, *shape)

        def eval_step():
            with torch.no_grad():
                module(xe)

        measure(eval_step, 0.5)
        rate = statistics.median(measure(eval_step, window_seconds) for _ in range(windows)) * eval_batch
        if rate > best:
            best, best_batch = rate, eval_batch
    return best, best_batch


def measure(step, seconds):
    start = time.perf_counter()
    count = 0
    while True:
        step()
        count += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return count / elapsed


USER_LOOPS = ["loader", "array", "eval loader", "eval array"]
EVAL_BATCH = 1000


def memory_kib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def user_loop(name, loop, windows, window_seconds):
    """One loop as a user writes it, in this process: batches from torch's DataLoader (shuffled) or sliced out of the
    tensors the user holds; prints images/s and the memory the loop adds (peak resident set minus the resident set
    just before the first step) as a JSON line, as MiniNet's benchmark does for its loops."""
    batch, shape, build = workloads()[name]
    evaluating = loop.startswith("eval ")
    if evaluating:
        batch = EVAL_BATCH
    count = batch * 8
    torch.manual_seed(0)
    model = build()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    images, labels = torch.randn(count, *shape), torch.arange(count) % 10
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(images, labels), batch_size=batch, shuffle=True)
    state = {"it": None, "next": 0}

    def next_batch():
        if "loader" in loop:
            try:
                return next(state["it"])
            except (StopIteration, TypeError):
                state["it"] = iter(loader)
                return next(state["it"])
        start = state["next"] * batch
        state["next"] = (state["next"] + 1) % (count // batch)
        return images[start:start + batch], labels[start:start + batch]

    def step():
        x, y = next_batch()
        if evaluating:
            with torch.no_grad():
                model(x)
            return
        opt.zero_grad(set_to_none=True)
        loss_fn(model(x), y).backward()
        opt.step()

    model.eval() if evaluating else model.train()
    before = memory_kib("VmRSS")
    measure(step, 1.0)
    rate = statistics.median(measure(step, window_seconds) for _ in range(windows)) * batch
    added = (memory_kib("VmHWM") - before) / 1024.0
    print(json.dumps({"workload": name, "loop": loop, "batch": batch, "images_per_s": round(rate), "added_mib": round(added, 1)}))


def user_loops(name, quick):
    results = []
    for loop in USER_LOOPS:
        command = [sys.executable, __file__, "--user-loop", name, loop] + (["--quick"] if quick else [])
        done = subprocess.run(command, capture_output=True, text=True)
        lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
        if done.returncode != 0 or not lines:
            print(f"  {name} {loop}: the child process failed ({done.stderr.strip().splitlines()[-1:]})")
            continue
        results.append(json.loads(lines[-1]))
    return results


def export_onnx(directory, only):
    """The workloads' models in evaluation mode as ONNX (opset 17, a symbolic batch dimension), for ONNX Runtime to
    run in MiniNet's benchmark: the inference bar beside PyTorch's eager and frozen paths."""
    import os
    os.makedirs(directory, exist_ok=True)
    for name, (batch, shape, build) in workloads().items():
        if name not in only:
            continue
        torch.manual_seed(0)
        model = build().eval()
        path = os.path.join(directory, f"{name}.onnx")
        torch.onnx.export(model, torch.randn(batch, *shape), path, opset_version=17, input_names=["input"],
                          output_names=["logits"], dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
        print(f"wrote {path}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", default="fig1,mlp,cnn,resnet,wide,gemm")
    parser.add_argument("--json", default="pytorch-results.json")
    parser.add_argument("--loops", action="store_true", help="also measure the loops users write, each in its own process")
    parser.add_argument("--user-loop", nargs=2, metavar=("WORKLOAD", "LOOP"), help=argparse.SUPPRESS)
    parser.add_argument("--export-onnx", metavar="DIR", help="write each workload's eval-mode model as DIR/<name>.onnx and exit")
    args = parser.parse_args()
    if args.export_onnx:
        export_onnx(args.export_onnx, args.only.split(","))
        return
    if args.user_loop:
        windows, window_seconds = (3, 0.5) if args.quick else (7, 1.5)
        user_loop(args.user_loop[0], args.user_loop[1], windows, window_seconds)
        return
    only = args.only.split(",")
    windows, window_seconds = (3, 0.5) if args.quick else (7, 1.5)
    results = []
    print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"{'workload':<10}{'train img/s':>14}{'eval img/s':>14}{'eval batch':>11}{'frozen img/s':>14}  best frozen variant")
    for name, (batch, shape, build) in workloads().items():
        if name not in only:
            continue
        torch.manual_seed(0)
        model = build()
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        loss_fn = nn.CrossEntropyLoss()
        x = torch.randn(batch, *shape)
        y = torch.arange(batch) % 10

        def train_step():
            opt.zero_grad(set_to_none=True)   # the faster variant (the default from PyTorch 2.0)
            loss_fn(model(x), y).backward()
            opt.step()

        model.train()
        measure(train_step, 1.0)
        train = statistics.median(measure(train_step, window_seconds) for _ in range(windows)) * batch
        model.eval()
        best, best_batch = best_eval(model, batch, shape, windows, window_seconds)
        frozen, frozen_batch, frozen_name = 0.0, 0, "-"
        for variant_name, variant in frozen_variants(model, shape).items():
            rate, rate_batch = best_eval(variant, batch, shape, windows, window_seconds)
            if rate > frozen:
                frozen, frozen_batch, frozen_name = rate, rate_batch, variant_name
        print(f"{name:<10}{train:>14,.0f}{best:>14,.0f}{best_batch:>11}{frozen:>14,.0f}  {frozen_name}")
        entry = {"workload": name, "batch": batch, "train_images_per_s": round(train),
                 "eval_images_per_s": round(best), "eval_batch": best_batch}
        if frozen_batch:   # some variant ran
            entry.update({"frozen_eval_images_per_s": round(frozen), "frozen_eval_batch": frozen_batch, "frozen_variant": frozen_name})
        results.append(entry)
        if args.loops:
            for loop in user_loops(name, args.quick):
                print(f"  {loop['loop']:<20}{loop['images_per_s']:>12,} img/s  added {loop['added_mib']} MiB")
                results.append(loop)
    if "gemm" in only:
        print(f"\n{'GEMM (M×K·K×N)':<28}{'GFLOP/s':>10}")
        # batch 1: one torch.mm; batch 64: the products MiniNet's convolution runs, one per image (torch.bmm, each
        # image its own operands; transposed operands passed as transposed views, as the convolution's backward uses them).
        for label, m, k, n, trans_a, trans_b, batch in [
                ("1024x1024x1024", 1024, 1024, 1024, False, False, 1), ("128x784x1024 (mlp fc1)", 128, 784, 1024, False, False, 1),
                ("128x1024x1024 (mlp fc2)", 128, 1024, 1024, False, False, 1),
                ("128x1024x1024 (mlp fc2 dX)", 128, 1024, 1024, False, False, 1),
                ("1024x128x784 (mlp dW1)", 1024, 128, 784, False, False, 1), ("1024x128x1024 (mlp dW2)", 1024, 128, 1024, False, False, 1),
                ("1000x784x1024 (mlp eval fc1)", 1000, 784, 1024, False, False, 1),
                ("1000x1024x1024 (mlp eval fc2)", 1000, 1024, 1024, False, False, 1),
                ("1000x1024x10 (mlp eval fc3)", 1000, 1024, 10, False, False, 1),
                ("64x12544x288 (cnn conv2)", 64, 288, 12544, False, False, 1), ("32x50176x9 (cnn conv1)", 32, 9, 50176, False, False, 1),
                ("64x288x12544 (conv2 dW)", 64, 12544, 288, False, False, 1),
                ("64 x 32x9x784 (conv1 per image)", 32, 9, 784, False, False, 64),
                ("64 x 64x288x196 (conv2 per image)", 64, 288, 196, False, False, 64),
                ("64 x 64x196x288 (conv2 dW per image)", 64, 196, 288, False, True, 64),
                ("64 x 288x64x196 (conv2 dX per image)", 288, 64, 196, True, False, 64)]:
            a = torch.randn(batch, k, m).transpose(1, 2) if trans_a else torch.randn(batch, m, k)
            b = torch.randn(batch, n, k).transpose(1, 2) if trans_b else torch.randn(batch, k, n)
            c = torch.empty(batch, m, n)
            if batch == 1:
                a, b, c = a[0], b[0], c[0]

            def run():
                if batch == 1:
                    torch.mm(a, b, out=c)
                else:
                    torch.bmm(a, b, out=c)

            measure(run, 0.5)
            gflops = 2.0 * batch * m * n * k * statistics.median(measure(run, window_seconds) for _ in range(windows)) / 1e9
            print(f"{label:<28}{gflops:>10.1f}")
            results.append({"gemm": label, "m": m, "k": k, "n": n, "batch": batch, "gflops": round(gflops, 1)})
    with open(args.json, "w") as f:
        json.dump({"torch": torch.__version__, "threads": torch.get_num_threads(), "results": results}, f, indent=2)
    print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
