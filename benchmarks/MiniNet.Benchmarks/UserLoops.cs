using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using MiniNet.Data;
using MiniNet.Layers;
using MiniNet.Optim;

namespace MiniNet.Benchmarks;

/// <summary>The loops a user writes, each measured in a process of its own: batches from a <see cref="DataLoader"/>
/// or sliced out of the user's own array, with and without a <see cref="TensorScope"/>, for training and for
/// evaluation. Each reports images/s (median of timed windows), the collections in the timed windows, and the memory
/// the loop adds: the peak working set minus the working set just before its first step.</summary>
public static class UserLoops
{
    /// <summary>Training loops, then evaluation loops (batch 1000 under <c>NoGrad</c>).</summary>
    public static readonly string[] Names = ["loader+scope", "loader", "array+scope", "array", "eval loader+scope", "eval loader", "eval array"];

    /// <summary>The evaluation loops' batch.</summary>
    public const int EvalBatch = 1000;

    /// <summary>Runs every loop of <paramref name="workload"/> in a child process of this benchmark; returns one
    /// result per loop (null where the child failed, with its error printed).</summary>
    public static List<Dictionary<string, object>> RunAll(Workload workload, bool quick, int? threads)
    {
        var results = new List<Dictionary<string, object>>();
        foreach (string loop in Names)
        {
            var start = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true, UseShellExecute = false };
            string? assembly = typeof(UserLoops).Assembly.Location;
            if (!Path.GetFileNameWithoutExtension(Environment.ProcessPath!).Equals("MiniNet.Benchmarks", StringComparison.Ordinal))
                start.ArgumentList.Add(assembly);   // started as `dotnet MiniNet.Benchmarks.dll`
            foreach (string a in (string[])["--user-loop", workload.Name, loop]) start.ArgumentList.Add(a);
            if (quick) start.ArgumentList.Add("--quick");
            if (threads is { } t) { start.ArgumentList.Add("--threads"); start.ArgumentList.Add(t.ToString(CultureInfo.InvariantCulture)); }
            using Process child = Process.Start(start)!;
            string output = child.StandardOutput.ReadToEnd();
            child.WaitForExit();
            string? line = output.Split('\n').LastOrDefault(l => l.StartsWith('{'));
            if (child.ExitCode != 0 || line is null)
            {
                Console.WriteLine($"  {workload.Name} {loop}: the child process failed (exit {child.ExitCode})");
                continue;
            }
            var entry = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(line)!
                .ToDictionary(p => p.Key, p => p.Value.ValueKind == JsonValueKind.Number ? (object)p.Value.GetDouble() : p.Value.GetString()!);
            results.Add(entry);
        }
        return results;
    }

    /// <summary>One loop, in this process (the child's side of <see cref="RunAll"/>); prints its result as a JSON line.</summary>
    public static void RunOne(Workload w, string loop, int windows, double windowSeconds)
    {
        bool eval = loop.StartsWith("eval ", StringComparison.Ordinal);
        bool scoped = loop.EndsWith("+scope", StringComparison.Ordinal);
        bool fromLoader = loop.Contains("loader", StringComparison.Ordinal);
        int batch = eval ? EvalBatch : w.Batch;
        int sampleSize = w.InputShape.Aggregate(1, (a, b) => a * b);
        int count = batch * 8;   // several batches, so that the loader's shuffles and the slices move through memory

        Rng.ManualSeed(0);
        Sequential model = w.Build();
        var optimizer = new SGD(model.Parameters(), lr: 0.01f, momentum: 0.9f);
        float[] images = Tensor.Randn([count * sampleSize], seed: 1).ToArray();   // the user's own array
        int[] labels = Enumerable.Range(0, count).Select(i => i % 10).ToArray();
        var loader = new DataLoader(new TensorDataset(Tensor.Wrap(images, [count, .. w.InputShape]), labels), batch, shuffle: true, seed: 1);
        IEnumerator<(Tensor X, int[] Y)>? batches = null;
        int next = 0;

        (Tensor X, int[] Y) NextBatch()
        {
            if (fromLoader)
            {
                if (batches is null || !batches.MoveNext())
                {
                    batches = loader.GetEnumerator();
                    batches.MoveNext();
                }
                return batches.Current;
            }
            // As a user slices batches out of the arrays they hold: one copy into a new tensor per step.
            int start = next * batch;
            next = (next + 1) % (count / batch);
            return (Tensor.FromSpan(images.AsSpan(start * sampleSize, batch * sampleSize), [batch, .. w.InputShape]),
                labels[start..(start + batch)]);
        }

        void Step()
        {
            using TensorScope? scope = scoped ? TensorScope.Begin() : null;
            (Tensor x, int[] y) = NextBatch();
            if (eval)
            {
                using (Autograd.NoGrad()) model.Forward(x);
                return;
            }
            optimizer.ZeroGrad(setToNone: true);
            Tensor loss = model.Forward(x).CrossEntropy(y);
            loss.Backward();
            optimizer.Step();
        }

        if (eval) model.Eval();
        else model.Train();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        long before = Environment.WorkingSet;
        Measure(Step, 1.0);   // warm-up: JIT tiers, pools, caches
        // As the main benchmark does: the arrays that filled the pools during the warm-up are noticed by the collector
        // at its next collection, a full one; settle that here so that the counts below are the steady state's.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        (int g0, int g1, int g2) = (GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2));
        double[] rates = Enumerable.Range(0, windows).Select(_ => Measure(Step, windowSeconds)).Order().ToArray();
        double rate = rates[rates.Length / 2] * batch;
        double peak = Process.GetCurrentProcess().PeakWorkingSet64;
        var entry = new Dictionary<string, object>
        {
            ["workload"] = w.Name, ["loop"] = loop, ["batch"] = batch, ["images_per_s"] = Math.Round(rate),
            ["gen0"] = GC.CollectionCount(0) - g0, ["gen1"] = GC.CollectionCount(1) - g1, ["gen2"] = GC.CollectionCount(2) - g2,
            ["added_mib"] = Math.Round((peak - before) / 1048576.0, 1), ["seconds"] = Math.Round(windows * windowSeconds, 1),
        };
        if (Environment.GetEnvironmentVariable("MININET_BENCH_DEBUG") is not null)
            Console.WriteLine($"leased {BufferPool.LeasedBytes >> 20} MiB, pooled {BufferPool.PooledBytes >> 20} MiB");
        Console.WriteLine(JsonSerializer.Serialize(entry));
    }

    private static double Measure(Action step, double seconds)
    {
        var clock = Stopwatch.StartNew();
        long steps = 0;
        do { step(); steps++; } while (clock.Elapsed.TotalSeconds < seconds);
        return steps / clock.Elapsed.TotalSeconds;
    }
}
