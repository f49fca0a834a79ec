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
        return File.Exists(path) ? MeasureFile(path, w, batches, windows, windowSeconds) : null;
    }

    /// <summary>MiniNet's own export of the trained <paramref name="model"/> run by ONNX Runtime: the same weights, so the
    /// ratio compares engines. Its outputs are first checked against MiniNet's (within 1e-5 absolute plus 1e-4
    /// relative, on a batch of 37); the largest difference is returned with the rate.</summary>
    public static ((double Rate, int Batch) Best, float MaxDifference) MeasureOwnExport(MiniNet.Layers.Module model, Workload w,
        IEnumerable<int> batches, int windows, double windowSeconds)
    {
        string path = Path.Combine(Path.GetTempPath(), $"mininet-bench-{w.Name}-{Environment.ProcessId}.onnx");
        try
        {
            MiniNet.Layers.Onnx.OnnxExport.ExportOnnx(model, path, w.InputShape);
            Tensor x = Tensor.Randn([37, .. w.InputShape], seed: 5);
            float[] expected;
            using (MiniNet.Autograd.NoGrad()) expected = model.Call(x).ToArray();
            using var session = new InferenceSession(path);
            using var results = session.Run([NamedOnnxValue.CreateFromTensor(session.InputMetadata.Keys.Single(),
                new DenseTensor<float>(x.ToArray(), [37, .. w.InputShape]))]);
            float[] actual = results.Single().AsTensor<float>().ToArray();
            float worst = 0;
            for (int i = 0; i < expected.Length; i++)
            {
                float excess = Math.Abs(actual[i] - expected[i]) - (1e-5f + 1e-4f * Math.Abs(expected[i]));
                worst = Math.Max(worst, Math.Abs(actual[i] - expected[i]));
                if (excess > 0)
                    throw new InvalidOperationException($"{w.Name}: ONNX Runtime's output {i} is {actual[i]}, MiniNet's {expected[i]}: the export disagrees.");
            }
            return (MeasureFile(path, w, batches, windows, windowSeconds), worst);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static (double Rate, int Batch) MeasureFile(string path, Workload w, IEnumerable<int> batches, int windows, double windowSeconds)
    {
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
