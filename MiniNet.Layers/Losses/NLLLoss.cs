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
        (Reduction, _weight, IgnoreIndex) = (reduction, Losses.CheckClassWeights(weight), ignoreIndex);
    }

    /// <summary>How the per-sample values are reduced.</summary>
    public Reduction Reduction { get; }

    /// <summary>The label that marks a sample to skip.</summary>
    public int IgnoreIndex { get; }

    /// <summary>The loss: one element, or (N) for <see cref="Reduction.None"/>.</summary>
    /// <exception cref="ArgumentException">The input is not (N, K), the labels are not N, a label is outside [0, K)
    /// (and not the ignore index), or the weights are not K.</exception>
    public Tensor Forward(Tensor logProbabilities, int[] labels) =>
        Losses.LabelLoss(nameof(NLLLoss), logProbabilities, labels, _weight, IgnoreIndex, smoothing: 0f, Reduction);
}
