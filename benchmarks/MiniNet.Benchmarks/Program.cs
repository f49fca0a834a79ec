// MiniNet's performance benchmark: training and eval images/s for the issue's workloads (median of timed windows
// after warm-up), garbage collections and peak working set, and GEMM GFLOP/s at the workloads' shapes, with the CPU
// and its measured multiply-add peak.
// Usage: dotnet run -c Release --project benchmarks/MiniNet.Benchmarks -- [--quick] [--only fig1,mlp,cnn,resnet,wide,gemm,loader]
//        [--threads N] [--eval-only] [--loops] [--onnx DIR] [--onnx-own] [--json FILE]
// --onnx DIR: also run ONNX Runtime on DIR/<workload>.onnx (written by pytorch_baseline.py --export-onnx DIR).
// --onnx-own: also run ONNX Runtime on MiniNet's own export of the trained model (the same weights; outputs checked).
// --distributed: data-parallel training steps instead (run under mpirun -np N; see DistributedStep).
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using MiniNet;
using MiniNet.Benchmarks;
using MiniNet.Kernels;
using MiniNet.Layers;
using MiniNet.Optim;

bool quick = args.Contains("--quick");
// Eval alone, in a process that never trains: as a deployed model runs, with the JIT's profile from inference only.
bool evalOnly = args.Contains("--eval-only");
string[] only = OptionValue("--only")?.Split(',') ?? ["fig1", "mlp", "cnn", "resnet", "wide", "gemm", "loader"];
string json = OptionValue("--json") ?? "benchmark-results.json";
if (OptionValue("--threads") is { } threadCount) Threads.MaxCount = int.Parse(threadCount, CultureInfo.InvariantCulture);
int windows = quick ? 3 : 7;
double windowSeconds = quick ? 0.5 : 1.5;
if (Array.IndexOf(args, "--user-loop") is int childAt and >= 0)
{
    // A child process measuring one user loop (see UserLoops.RunAll).
    UserLoops.RunOne(Workload.All.Single(w => w.Name == args[childAt + 1]), args[childAt + 2], windows, windowSeconds);
    return 0;
}
if (args.Contains("--distributed"))
{
    // Data-parallel steps, under mpirun -np N (see DistributedStep).
    DistributedStep.Run(Workload.All.Where(w => only.Contains(w.Name)), quick ? 3 : 10);
    return 0;
}
bool userLoops = args.Contains("--loops");

var results = new List<Dictionary<string, object>>();
Console.WriteLine($"MiniNet benchmark, {Threads.MaxCount} threads, Vector512 {System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
Machine machine = Machine.Measure();
Console.WriteLine(machine);
Console.WriteLine($"{"workload",-10}{"train img/s",14}{"eval img/s",14}{"eval batch",11}{"frozen img/s",14}{"gen0",7}{"gen1",7}{"gen2",7}{"peak MiB",10}");

foreach (Workload w in Workload.All.Where(w => only.Contains(w.Name)))
{
    Rng.ManualSeed(0);
    Sequential model = w.Build();
    var optimizer = new SGD(model.Parameters(), lr: 0.01f, momentum: 0.9f);
    Tensor x = Tensor.Randn([w.Batch, .. w.InputShape], seed: 1);
    int[] y = Enumerable.Range(0, w.Batch).Select(i => i % 10).ToArray();

    void TrainStep()
    {
        using var scope = TensorScope.Begin();   // activations go back to the pool at the end of the step
        optimizer.ZeroGrad(setToNone: true);   // as the baseline: zero_grad(set_to_none=True)
        Tensor loss = model.Forward(x).CrossEntropy(y);
        loss.Backward();
        optimizer.Step();
    }

    Training? training = evalOnly ? null : MeasureTraining();
    Training MeasureTraining()
    {
        model.Train();
        Measure(TrainStep, 1.0);   // warm-up: JIT tiers, pools, caches
        // Filling the pools allocates large arrays during the warm-up; the collector only notices at its next
        // collection, which then is a full one. A full collection here settles that, so the counts below are the
        // steady state's.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        (int g0, int g1, int g2) = (GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2));
        double steps = Median(Enumerable.Range(0, windows).Select(_ => Measure(TrainStep, windowSeconds)));
        return new Training(steps * w.Batch, GC.CollectionCount(0) - g0, GC.CollectionCount(1) - g1, GC.CollectionCount(2) - g2);
    }

    model.Eval();
    (double bestEval, int bestBatch) = BestEval(model);
    // The deployment path: a frozen snapshot with prepacked weights (a model Freeze cannot fold would skip it).
    FrozenSequential? frozen = null;
    try { frozen = model.Freeze(); }
    catch (NotSupportedException) { }
    (double frozenEval, int frozenBatch) = frozen is null ? (double.NaN, 0) : BestEval(frozen);
    double peakMiB = Process.GetCurrentProcess().PeakWorkingSet64 / 1024.0 / 1024.0;
    string Figure(double? value, string format = "N0") => value?.ToString(format, CultureInfo.InvariantCulture) ?? "-";
    Console.WriteLine($"{w.Name,-10}{Figure(training?.ImagesPerSecond),14}{bestEval,14:N0}{bestBatch,11}{Figure(frozen is null ? null : frozenEval),14}" +
        $"{Figure(training?.Gen0, "0"),7}{Figure(training?.Gen1, "0"),7}{Figure(training?.Gen2, "0"),7}{peakMiB,10:N0}");
    var entry = new Dictionary<string, object>
    {
        ["workload"] = w.Name, ["batch"] = w.Batch, ["eval_images_per_s"] = Math.Round(bestEval),
        ["eval_batch"] = bestBatch, ["peak_working_set_mib"] = Math.Round(peakMiB),
    };
    if (training is { } t)
        (entry["train_images_per_s"], entry["gen0"], entry["gen1"], entry["gen2"]) = (Math.Round(t.ImagesPerSecond), t.Gen0, t.Gen1, t.Gen2);
    if (frozen is not null) (entry["frozen_eval_images_per_s"], entry["frozen_eval_batch"]) = (Math.Round(frozenEval), frozenBatch);
    if (OptionValue("--onnx") is { } onnxDirectory
        && OnnxRuntimeBar.Measure(onnxDirectory, w, [1000, w.Batch], windows, windowSeconds) is { } ort)
    {
        (entry["ort_eval_images_per_s"], entry["ort_eval_batch"]) = (Math.Round(ort.Rate), ort.Batch);
        Console.WriteLine($"  ONNX Runtime eval {ort.Rate,12:N0} img/s at batch {ort.Batch}");
    }
    if (args.Contains("--onnx-own"))
    {
        ((double Rate, int Batch) own, float difference) = OnnxRuntimeBar.MeasureOwnExport(model, w, [1000, w.Batch], windows, windowSeconds);
        (entry["ort_own_eval_images_per_s"], entry["ort_own_eval_batch"], entry["ort_own_max_abs_difference"]) = (Math.Round(own.Rate), own.Batch, difference);
        Console.WriteLine($"  ONNX Runtime eval of MiniNet's export {own.Rate,12:N0} img/s at batch {own.Batch} (outputs within {difference:E1} of MiniNet's)");
    }
    results.Add(entry);
    if (userLoops)
        foreach (Dictionary<string, object> loop in UserLoops.RunAll(w, quick, OptionValue("--threads") is { } n ? int.Parse(n, CultureInfo.InvariantCulture) : null))
        {
            Console.WriteLine($"  {loop["loop"],-20}{loop["images_per_s"],12:N0} img/s  gen0 {loop["gen0"]}  gen1 {loop["gen1"]}  gen2 {loop["gen2"]}  added {loop["added_mib"]} MiB");
            results.Add(loop);
        }

    // Evaluation images/s of `module` under NoGrad: the better of batch 1000 and the training batch.
    (double Rate, int Batch) BestEval(Module module)
    {
        (double Rate, int Batch) best = (0, 0);
        foreach (int batch in new[] { 1000, w.Batch }.Distinct())
        {
            Tensor xe = Tensor.Randn([batch, .. w.InputShape], seed: 2);
            void EvalStep()
            {
                using var scope = TensorScope.Begin();
                using (Autograd.NoGrad()) module.Forward(xe);
            }
            Measure(EvalStep, 0.5);
            double rate = Median(Enumerable.Range(0, windows).Select(_ => Measure(EvalStep, windowSeconds))) * batch;
            if (rate > best.Rate) best = (rate, batch);
        }
        return best;
    }
}

if (only.Contains("loader")) results.AddRange(LoaderThroughput.Run(windows, windowSeconds));

if (only.Contains("gemm"))
{
    Console.WriteLine($"\n{"GEMM (M×K·K×N)",-28}{"GFLOP/s",10}");
    // Batch 1: one product on all threads. Batch 64: the products the convolution actually runs, one per image of a
    // batch, the images split between the threads and each product on one thread (as Conv2d does), each image with
    // its own operands.
    (string Name, int M, int K, int N, bool TransA, bool TransB, int Batch)[] shapes =
    [
        ("1024x1024x1024", 1024, 1024, 1024, false, false, 1),
        ("128x784x1024 (mlp fc1)", 128, 784, 1024, false, true, 1),
        ("128x1024x1024 (mlp fc2)", 128, 1024, 1024, false, true, 1),
        ("128x1024x1024 (mlp fc2 dX)", 128, 1024, 1024, false, false, 1),
        ("1024x128x784 (mlp dW1)", 1024, 128, 784, true, false, 1),
        ("1024x128x1024 (mlp dW2)", 1024, 128, 1024, true, false, 1),
        ("1000x784x1024 (mlp eval fc1)", 1000, 784, 1024, false, true, 1),
        ("1000x1024x1024 (mlp eval fc2)", 1000, 1024, 1024, false, true, 1),
        ("1000x1024x10 (mlp eval fc3)", 1000, 1024, 10, false, true, 1),
        ("64x12544x288 (cnn conv2)", 64, 288, 12544, false, false, 1),
        ("32x50176x9 (cnn conv1)", 32, 9, 50176, false, false, 1),
        ("64x288x12544 (conv2 dW)", 64, 12544, 288, false, true, 1),
        ("64 x 32x9x784 (conv1 per image)", 32, 9, 784, false, false, 64),
        ("64 x 64x288x196 (conv2 per image)", 64, 288, 196, false, false, 64),
        ("64 x 64x196x288 (conv2 dW per image)", 64, 196, 288, false, true, 64),
        ("64 x 288x64x196 (conv2 dX per image)", 288, 64, 196, true, false, 64),
    ];
    foreach (var s in shapes)
    {
        int aSize = s.M * s.K, bSize = s.K * s.N, cSize = s.M * s.N, batch = s.Batch, threads = Parallelism.MaxThreads;
        float[] a = Tensor.Randn([batch * aSize], seed: 3).ToArray(), b = Tensor.Randn([batch * bSize], seed: 4).ToArray();
        float[] c = new float[batch * cSize];
        int lda = s.TransA ? s.M : s.K, ldb = s.TransB ? s.K : s.N;
        void Product(int i, bool parallel) => Gemm.Multiply(s.TransA, s.TransB, s.M, s.N, s.K, a.AsSpan(i * aSize, aSize), lda,
            b.AsSpan(i * bSize, bSize), ldb, c.AsSpan(i * cSize, cSize), s.N, accumulate: false, parallel);
        Action run = batch == 1
            ? () => Product(0, parallel: true)
            : () => Parallelism.For(threads, t =>
            {
                for (int i = batch * t / threads; i < batch * (t + 1) / threads; i++) Product(i, parallel: false);
            });
        Measure(run, 0.5);
        double perSecond = Median(Enumerable.Range(0, windows).Select(_ => Measure(run, windowSeconds)));
        double gflops = 2.0 * batch * s.M * s.N * s.K * perSecond / 1e9;
        Console.WriteLine($"{s.Name,-28}{gflops,10:F1}");
        results.Add(new() { ["gemm"] = s.Name, ["m"] = s.M, ["k"] = s.K, ["n"] = s.N, ["batch"] = batch, ["gflops"] = Math.Round(gflops, 1) });
    }
}

var report = new Dictionary<string, object>
{
    ["date"] = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture), ["threads"] = Environment.ProcessorCount,
    ["cpu"] = machine.Cpu, ["results"] = results,
};
if (machine.HasPeak)
    (report["fma_peak_gflops_1thread"], report["fma_peak_gflops"], report["fma_peak_threads"]) =
        (Math.Round(machine.PeakOneThread, 1), Math.Round(machine.PeakAllThreads, 1), machine.Threads);
File.WriteAllText(json, JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }));
Console.WriteLine($"\nwrote {json}");
return 0;

// Runs `step` repeatedly for about `seconds`; returns steps per second.
static double Measure(Action step, double seconds)
{
    var clock = Stopwatch.StartNew();
    long count = 0;
    do { step(); count++; } while (clock.Elapsed.TotalSeconds < seconds);
    return count / clock.Elapsed.TotalSeconds;
}

static double Median(IEnumerable<double> values)
{
    double[] sorted = values.Order().ToArray();
    return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
}

string? OptionValue(string name)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}

/// <summary>A workload's training figures: images per second (median of the timed windows) and the collections in them.</summary>
internal sealed record Training(double ImagesPerSecond, int Gen0, int Gen1, int Gen2);
