namespace MiniNet.Layers;

/// <summary>Negative log-likelihood of log-probabilities (N, K) at integer labels: −w[yₙ]·x[n, yₙ], reduced by the
/// weighted mean (Σ over samples / Σ w[yₙ], as PyTorch), the sum, or not at all; samples labelled
/// <see cref="IgnoreIndex"/> count for nothing (PyTorch's <c>nn.NLLLoss</c>). Give it <c>LogSoftmax</c> outputs.</summary>
public sealed class NLLLoss
{
    private readonly float[]? _weight;

    /// <summary>An NLL loss; <paramref name="weight"/> (one finite, non-negative value per class) rescales each
    /// class, and labels equal to <paramref name="ignoreIndex"/> are skipped.</summary>
    public NLLLoss(Reduction reduction = Reduction.Mean, float[]? weight = null, int ignoreIndex = -100)
    {
        Losses.CheckReduction(reduction);
        foreach (float w in weight ?? [])
            if (!(w >= 0) || !float.IsFinite(w))
                throw new ArgumentOutOfRangeException(nameof(weight), w, "every class weight must be non-negative and finite.");
        (Reduction, _weight, IgnoreIndex) = (reduction, weight?.ToArray(), ignoreIndex);
    }

    /// <summary>How the per-sample values are reduced.</summary>
    public Reduction Reduction { get; }

    /// <summary>The label that marks a sample to skip.</summary>
    public int IgnoreIndex { get; }

    /// <summary>The loss: one element, or (N) for <see cref="Reduction.None"/>.</summary>
    /// <exception cref="ArgumentException">The input is not (N, K), the labels are not N, a label is outside [0, K)
    /// (and not the ignore index), or the weights are not K.</exception>
    public Tensor Forward(Tensor logProbabilities, int[] labels)
    {
        ArgumentNullException.ThrowIfNull(logProbabilities);
        ArgumentNullException.ThrowIfNull(labels);
        if (logProbabilities.Shape.Count != 2)
            throw new ArgumentException($"NLLLoss: expected log-probabilities (N, K), got {Shapes.Format(logProbabilities.Shape)}.", nameof(logProbabilities));
        int n = logProbabilities.Shape[0], k = logProbabilities.Shape[1];
        if (labels.Length != n)
            throw new ArgumentException($"NLLLoss: {labels.Length} labels for {n} samples.", nameof(labels));
        if (_weight is not null && _weight.Length != k)
            throw new ArgumentException($"NLLLoss: {_weight.Length} class weights for {k} classes.", nameof(logProbabilities));
        // The per-sample weights as a mask on the (N, K) input: w[yₙ] at (n, yₙ), zero elsewhere.
        var mask = new float[n * k];
        float total = 0;
        for (int i = 0; i < n; i++)
        {
            int label = labels[i];
            if (label == IgnoreIndex) continue;
            if ((uint)label >= (uint)k)
                throw new ArgumentException($"NLLLoss: label {label} at index {i} is outside [0, {k}).", nameof(labels));
            float w = _weight?[label] ?? 1f;
            mask[i * k + label] = w;
            total += w;
        }
        Tensor perSample = -(logProbabilities * Tensor.FromArray(mask, n, k)).Sum(1);
        return Reduction switch
        {
            // As PyTorch: the weighted mean, NaN when every sample is ignored (0/0).
            Reduction.Mean => perSample.Sum() * (1f / total),
            _ => Losses.Reduce(perSample, Reduction),
        };
    }
}
