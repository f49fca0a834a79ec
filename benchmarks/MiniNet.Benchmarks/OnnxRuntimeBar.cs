using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace MiniNet.Benchmarks;

/// <summary>ONNX Runtime as the inference bar: a workload's model as PyTorch's twin exports it
/// (<c>pytorch_baseline.py --export-onnx DIR</c>, evaluation mode, a symbolic batch dimension), run with 2 intra-op
/// threads and every graph optimisation, at the same batches and in the same windows as MiniNet's eval.</summary>
public static class OnnxRuntimeBar
{
    /// <summary>Images/s of the best of <paramref name="batches"/>, or null when the model file is absent.</summary>
    public static (double Rate, int Batch)? Measure(string directory, Workload w, IEnumerable<int> batches, int windows, double windowSeconds)
    {
        string path = Path.Combine(directory, w.Name + ".onnx");
        if (!File.Exists(path)) return null;
        using var options = new SessionOptions
        {
            IntraOpNumThreads = 2, InterOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
        };
        using var session = new InferenceSession(path, options);
        string input = session.InputMetadata.Keys.Single();
        (double Rate, int Batch) best = (0, 0);
        foreach (int batch in batches.Distinct())
        {
            float[] data = Tensor.Randn([batch * w.InputShape.Aggregate(1, (a, b) => a * b)], seed: 2).ToArray();
            var x = new DenseTensor<float>(data, [batch, .. w.InputShape]);
            var inputs = new[] { NamedOnnxValue.CreateFromTensor(input, x) };
            void Step()
            {
                using var results = session.Run(inputs);
            }
            Time(Step, 0.5);
            double[] rates = Enumerable.Range(0, windows).Select(_ => Time(Step, windowSeconds)).Order().ToArray();
            double rate = rates[rates.Length / 2] * batch;
            if (rate > best.Rate) best = (rate, batch);
        }
        return best;
    }

    private static double Time(Action step, double seconds)
    {
        var clock = Stopwatch.StartNew();
        long count = 0;
        do { step(); count++; } while (clock.Elapsed.TotalSeconds < seconds);
        return count / clock.Elapsed.TotalSeconds;
    }
}
