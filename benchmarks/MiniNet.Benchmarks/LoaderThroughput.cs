using System.Diagnostics;
using MiniNet.Data;

namespace MiniNet.Benchmarks;

/// <summary>The loader alone: samples/s of enumerating a <see cref="DataLoader"/> over an MNIST-sized dataset held in
/// memory (60000 samples of 784 values), shuffled, with and without prefetch, and the bytes it allocates per epoch
/// (on every thread, so the prefetch task's allocations count).</summary>
public static class LoaderThroughput
{
    /// <summary>Prints one line per configuration and returns them for the results file.</summary>
    public static List<Dictionary<string, object>> Run(int windows, double windowSeconds)
    {
        const int count = 60000, size = 784;
        float[] images = Tensor.Randn([count * size], seed: 1).ToArray();
        int[] labels = [.. Enumerable.Range(0, count).Select(i => i % 10)];
        var labeled = new TensorDataset(Tensor.Wrap(images, [count, size]), labels);
        var results = new List<Dictionary<string, object>>();
        Console.WriteLine($"\n{"loader",-34}{"samples/s",14}{"bytes/epoch",14}");
        foreach (int batch in (int[])[64, 128])
            foreach (bool prefetch in (bool[])[false, true])
            {
                var loader = new DataLoader(labeled, batch, shuffle: true, seed: 1, prefetch: prefetch);
                results.Add(Report($"labeled batch {batch}{(prefetch ? " prefetch" : "")}", count,
                    () => { foreach ((Tensor x, int[] y) in loader) Sink(x.Data[0] + y[0]); }, windows, windowSeconds));
            }
        // Float targets (a regression's batches) and a random crop with padding, as a training script runs them.
        var pairs = new TensorPairDataset(Tensor.Wrap(images, [count, size]), Tensor.Randn([count, 3], seed: 2));
        var pairLoader = DataLoader.Create(pairs, 128, shuffle: true, seed: 1);
        results.Add(Report("float targets batch 128", count,
            () => { foreach ((Tensor x, Tensor y) in pairLoader) Sink(x.Data[0] + y.Data[0]); }, windows, windowSeconds));
        var images3d = new TensorDataset(Tensor.Wrap(images, [count, 1, 28, 28]), labels);
        var augment = new MiniNet.Data.Transforms.Compose(new MiniNet.Data.Transforms.RandomCrop(28, padding: 4), new MiniNet.Data.Transforms.RandomHorizontalFlip());
        foreach (bool prefetch in (bool[])[false, true])
        {
            var augmented = new DataLoader(images3d, 128, shuffle: true, seed: 1, prefetch: prefetch, transform: augment);
            results.Add(Report($"crop+flip batch 128{(prefetch ? " prefetch" : "")}", count,
                () => { foreach ((Tensor x, int[] y) in augmented) Sink(x.Data[0] + y[0]); }, windows, windowSeconds));
        }
        return results;
    }

    private static float _sink;

    private static void Sink(float value) => _sink += value;

    internal static Dictionary<string, object> Report(string name, int count, Action epoch, int windows, double windowSeconds)
    {
        epoch();   // warm-up
        long allocated = GC.GetTotalAllocatedBytes(precise: true);
        epoch();
        long perEpoch = GC.GetTotalAllocatedBytes(precise: true) - allocated;
        var rates = new List<double>();
        for (int w = 0; w < windows; w++)
        {
            var clock = Stopwatch.StartNew();
            int epochs = 0;
            do { epoch(); epochs++; } while (clock.Elapsed.TotalSeconds < windowSeconds);
            rates.Add(epochs * (double)count / clock.Elapsed.TotalSeconds);
        }
        double median = rates.Order().ElementAt(rates.Count / 2);
        Console.WriteLine($"{name,-34}{median,14:N0}{perEpoch,14:N0}");
        return new Dictionary<string, object> { ["loader"] = name, ["samples_per_s"] = Math.Round(median), ["bytes_per_epoch"] = perEpoch };
    }
}
