namespace MiniNet.Layers;

/// <summary>How <see cref="BatchNormStatistics.Recompute"/> turns per-batch statistics into population statistics.</summary>
public enum PopulationEstimator
{
    /// <summary>The exact mean and unbiased variance of every value each layer saw, merged batch by batch in double
    /// precision (Chan et al.'s parallel update), so unequal batch sizes are weighted correctly.</summary>
    Pooled,

    /// <summary>The BN paper's estimator (Algorithm 2): E[x] = mean over batches of μ_B; Var[x] = mean over batches of
    /// m/(m − 1)·σ²_B.</summary>
    PaperAverage,
}

/// <summary>Population statistics for inference: the notes' alternative to running averages.</summary>
public static class BatchNormStatistics
{
    /// <summary>Recomputes <c>running_mean</c> and <c>running_var</c> of every BatchNorm layer in <paramref name="model"/>
    /// from one pass over <paramref name="batches"/>, then leaves the model in evaluation mode.</summary>
    /// <remarks>During the pass each BatchNorm normalises with its batch statistics, exactly as in training, while
    /// every other layer is in evaluation mode (dropout off); no parameter, running statistic or batch counter changes
    /// until the pass has finished. Layers without running statistics are skipped. Batches need at least two values
    /// per channel.</remarks>
    /// <returns>The number of BatchNorm layers updated.</returns>
    /// <exception cref="ArgumentException"><paramref name="batches"/> is empty.</exception>
    public static int Recompute(Module model, IEnumerable<Tensor> batches, PopulationEstimator estimator = PopulationEstimator.Pooled)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(batches);
        var layers = model.Modules().OfType<BatchNorm>().Where(b => b.TrackRunningStats).ToList();
        var accumulators = layers.Select(l => new Accumulator(l.NumFeatures)).ToList();
        int seen = 0;
        var observers = new List<IDisposable>();
        try
        {
            model.Eval();
            for (int i = 0; i < layers.Count; i++) observers.Add(layers[i].ObserveBatchStatistics(accumulators[i].Add));
            using (Autograd.NoGrad())
            {
                foreach (Tensor batch in batches)
                {
                    model.Forward(batch);
                    seen++;
                }
            }
        }
        finally
        {
            foreach (IDisposable observer in observers) observer.Dispose();
        }
        if (seen == 0) throw new ArgumentException("BatchNormStatistics.Recompute: no batches were given.", nameof(batches));
        for (int i = 0; i < layers.Count; i++) accumulators[i].WriteTo(layers[i], estimator);
        return layers.Count;
    }

    /// <summary>Per-channel running sums in double: Chan's (count, mean, M2) and the paper's sums of batch moments.</summary>
    private sealed class Accumulator(int channels)
    {
        private readonly double[] _mean = new double[channels], _m2 = new double[channels];
        private readonly double[] _sumBatchMeans = new double[channels], _sumUnbiasedVars = new double[channels];
        private long _count;
        private int _batches;

        public void Add(ReadOnlySpan<double> mean, ReadOnlySpan<double> biasedVariance, int m)
        {
            long total = _count + m;
            for (int c = 0; c < channels; c++)
            {
                double delta = mean[c] - _mean[c];
                _mean[c] += delta * m / total;
                _m2[c] += biasedVariance[c] * m + delta * delta * _count * m / total;
                _sumBatchMeans[c] += mean[c];
                _sumUnbiasedVars[c] += biasedVariance[c] * m / (m - 1.0);
            }
            _count = total;
            _batches++;
        }

        public void WriteTo(BatchNorm layer, PopulationEstimator estimator)
        {
            Span<float> rm = layer.RunningMean!.Data, rv = layer.RunningVar!.Data;
            for (int c = 0; c < channels; c++)
            {
                if (estimator == PopulationEstimator.Pooled)
                {
                    rm[c] = (float)_mean[c];
                    rv[c] = (float)(_m2[c] / (_count - 1));
                }
                else
                {
                    rm[c] = (float)(_sumBatchMeans[c] / _batches);
                    rv[c] = (float)(_sumUnbiasedVars[c] / _batches);
                }
            }
        }
    }
}
