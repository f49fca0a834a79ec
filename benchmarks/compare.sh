#!/usr/bin/env bash
# Runs MiniNet's benchmark and the PyTorch baseline alternately in one sitting (the machine is shared and noisy)
# and prints MiniNet/PyTorch ratios of the medians. Usage: bash benchmarks/compare.sh [rounds] [--quick] [--loops]
# (--loops adds the loops users write, each in a process of its own: DataLoader or own-array batches, with and
# without a TensorScope, and the memory each adds).
# Needs Debian's python3-torch and libopenblas0-openmp (apt-get install python3-torch libopenblas0-openmp).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-2}
quick=${2:-}
loops=${3:-}
out=${BENCH_OUT:-benchmarks/results}
mkdir -p "$out"
unset OPENBLAS_CORETYPE   # otherwise OpenBLAS falls back to its AVX2 kernels
export GLIBC_TUNABLES=glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=4294967296
dotnet build -c Release benchmarks/MiniNet.Benchmarks >/dev/null
# The same models for ONNX Runtime, exported by PyTorch (the inference bar is the better of eager PyTorch and ORT).
/usr/bin/python3 benchmarks/pytorch_baseline.py --export-onnx "$out/onnx" >/dev/null
for r in $(seq 1 "$rounds"); do
    dotnet run -c Release --no-build --project benchmarks/MiniNet.Benchmarks -- $quick $loops --onnx "$out/onnx" --onnx-own --json "$out/mininet-$r.json"
    /usr/bin/python3 benchmarks/pytorch_baseline.py $quick $loops --json "$out/pytorch-$r.json"
done
/usr/bin/python3 - "$out" "$rounds" <<'PY'
import json, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
def load(kind):
    return [json.load(open(f"{out}/{kind}-{r}.json"))["results"] for r in range(1, rounds + 1)]
mini, torch = load("mininet"), load("pytorch")
def med(runs, key, field):
    vals = [e[field] for run in runs for e in run if e.get("workload", e.get("gemm")) == key and field in e]
    return statistics.median(vals) if vals else float("nan")
def bar_eval(key):
    # PyTorch's side of the inference bar: each round's better of its eager eval and ONNX Runtime's.
    vals = [max(t["eval_images_per_s"], m.get("ort_eval_images_per_s", 0)) for tr, mr in zip(torch, mini)
            for t in tr if t.get("workload") == key and "loop" not in t for m in mr if m.get("workload") == key and "loop" not in m]
    return statistics.median(vals) if vals else float("nan")
def best_eval(runs, key):
    # Each round's better of the module's eval and the frozen snapshot's (a model that cannot be frozen: its eval).
    vals = [max(e["eval_images_per_s"], e.get("frozen_eval_images_per_s", 0)) for run in runs for e in run if e.get("workload") == key and "loop" not in e]
    return statistics.median(vals) if vals else float("nan")
runs = [json.load(open(f"{out}/mininet-{r}.json")) for r in range(1, rounds + 1)]
described = [d for d in runs if "fma_peak_gflops" in d]   # files written before the benchmark recorded its machine lack it
if described:
    peaks = [d["fma_peak_gflops"] for d in described]
    d = described[0]
    print(f"\n{d['cpu']}; FMA peak {statistics.median(peaks):.0f} GFLOP/s on {d.get('fma_peak_threads', d['threads'])} threads (median of the rounds)")
print(f"\n{'':<28}{'MiniNet':>12}{'PyTorch':>12}{'ratio':>8}   (medians over {rounds} alternating rounds)")
def row(label, m, t):
    if m != m or t != t or t == 0:   # NaN: that side has no such figure
        print(f"{label:<28}{'-' if m != m else f'{m:,.0f}':>12}{'-' if t != t else f'{t:,.0f}':>12}{'-':>8}")
    else:
        print(f"{label:<28}{m:>12,.0f}{t:>12,.0f}{m / t:>8.2f}")
for w in ["fig1", "mlp", "cnn", "resnet", "wide"]:
    for field, label in [("train_images_per_s", "train img/s"), ("eval_images_per_s", "eval img/s"),
                         ("frozen_eval_images_per_s", "frozen eval img/s")]:
        row(f"{w} {label}", med(mini, w, field), med(torch, w, field))
    row(f"{w} best eval img/s", best_eval(mini, w), best_eval(torch, w))
    if any("ort_eval_images_per_s" in e for run in mini for e in run):
        row(f"{w} ORT eval img/s", float("nan"), med(mini, w, "ort_eval_images_per_s"))
        row(f"{w} eval vs bar", med(mini, w, "eval_images_per_s"), bar_eval(w))
        row(f"{w} frozen vs bar", med(mini, w, "frozen_eval_images_per_s"), bar_eval(w))
def loop_med(runs, workload, loop, field):
    vals = [e[field] for run in runs for e in run if e.get("workload") == workload and e.get("loop") == loop and field in e]
    return statistics.median(vals) if vals else float("nan")
if any("loop" in e for run in mini for e in run):
    print(f"\n{'user loop':<28}{'MiniNet':>12}{'PyTorch':>12}{'ratio':>8}{'vs ref':>8}{'gen2':>6}{'MiB':>8}{'torch MiB':>10}{'MiB ratio':>10}")
    for w in ["fig1", "mlp", "cnn", "resnet", "wide"]:
        for loop in ["loader+scope", "loader", "array+scope", "array", "eval loader+scope", "eval loader", "eval array"]:
            m = loop_med(mini, w, loop, "images_per_s")
            if m != m:
                continue
            ref = loop_med(mini, w, "eval loader+scope" if loop.startswith("eval") else "loader+scope", "images_per_s")
            twin = loop.replace("+scope", "")
            t = loop_med(torch, w, twin, "images_per_s")
            mm, tm = loop_med(mini, w, loop, "added_mib"), loop_med(torch, w, twin, "added_mib")
            g2 = max((e["gen2"] for run in mini for e in run if e.get("workload") == w and e.get("loop") == loop), default=0)
            print(f"{w + ' ' + loop:<28}{m:>12,.0f}{t:>12,.0f}{m / t:>8.2f}{m / ref:>8.2f}{g2:>6.0f}{mm:>8.0f}{tm:>10.0f}{mm / tm if tm > 0 else float('nan'):>10.2f}")
for key in sorted({e["gemm"] for run in mini for e in run if "gemm" in e}):
    m, t = med(mini, key, "gflops"), med(torch, key, "gflops")
    print(f"{'GEMM ' + key:<28}{m:>12.1f}{t:>12.1f}{m / t:>8.2f}")
PY
