namespace MiniNet.Layers;

/// <summary>How far a batch's statistics are from one BatchNorm layer's running statistics, over its channels.</summary>
/// <param name="Layer">The layer's dotted name in the model.</param>
/// <param name="MeanShift">Mean over channels of |μ_batch − μ_running| / σ_running.</param>
/// <param name="MaxMeanShift">Largest such shift.</param>
/// <param name="StdRatio">Mean over channels of σ_batch / σ_running.</param>
/// <param name="MinStdRatio">Smallest ratio.</param>
/// <param name="MaxStdRatio">Largest ratio.</param>
public sealed record BatchNormDrift(string Layer, double MeanShift, double MaxMeanShift, double StdRatio, double MinStdRatio, double MaxStdRatio);

/// <summary>Shows stale running statistics before evaluation surprises you: compares, per BatchNorm layer, the
/// statistics of a batch with the running ones (σ_running = √(running_var + ε); batch σ biased, without ε).</summary>
public static class BatchNormProbe
{
    /// <summary>One forward pass over <paramref name="batch"/> in evaluation mode (dropout off) in which every BatchNorm layer
    /// reports its batch statistics; nothing in the model changes and its training mode is restored.</summary>
    /// <returns>One row per BatchNorm layer with running statistics, in model order.</returns>
    public static IReadOnlyList<BatchNormDrift> Measure(Module model, Tensor batch)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(batch);
        var layers = model.NamedModules().Where(m => m.Module is BatchNorm { TrackRunningStats: true })
            .Select(m => (m.Name, Layer: (BatchNorm)m.Module)).ToList();
        var results = new BatchNormDrift?[layers.Count];
        var observers = new List<IDisposable>();
        bool wasTraining = model.Training;
        try
        {
            model.Eval();
            for (int i = 0; i < layers.Count; i++)
            {
                int index = i;
                BatchNorm layer = layers[i].Layer;
                observers.Add(layer.ObserveBatchStatistics((mean, variance, _) => results[index] = Drift(layers[index].Name, layer, mean, variance)));
            }
            using (Autograd.NoGrad()) model.Forward(batch);
        }
        finally
        {
            foreach (IDisposable observer in observers) observer.Dispose();
            model.Train(wasTraining);
        }
        return results.Select(r => r!).ToList();
    }

    private static BatchNormDrift Drift(string name, BatchNorm layer, ReadOnlySpan<double> mean, ReadOnlySpan<double> variance)
    {
        ReadOnlySpan<float> rm = layer.RunningMean!.Data, rv = layer.RunningVar!.Data;
        int c = rm.Length;
        double shiftSum = 0, shiftMax = 0, ratioSum = 0, ratioMin = double.PositiveInfinity, ratioMax = 0;
        for (int j = 0; j < c; j++)
        {
            double sigma = Math.Sqrt(rv[j] + layer.Eps);
            double shift = Math.Abs(mean[j] - rm[j]) / sigma, ratio = Math.Sqrt(variance[j]) / sigma;
            shiftSum += shift;
            shiftMax = Math.Max(shiftMax, shift);
            ratioSum += ratio;
            ratioMin = Math.Min(ratioMin, ratio);
            ratioMax = Math.Max(ratioMax, ratio);
        }
        return new BatchNormDrift(name, shiftSum / c, shiftMax, ratioSum / c, ratioMin, ratioMax);
    }
}
