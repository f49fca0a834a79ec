namespace MiniNet.Layers;

/// <summary>Negative log-likelihood of log-probabilities (N, K) (or (N, K, d₁, …)) at integer labels: −w[yₙ]·x[n, yₙ], reduced by the
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

    /// <summary>The loss: one element, or the samples' shape ((N), or (N, d₁, …)) for <see cref="Reduction.None"/>.</summary>
    /// <param name="logProbabilities">(N, K), or (N, K, d₁, …) with the classes along axis 1.</param>
    /// <param name="labels">One label per sample in row-major order: N, or N·d₁·….</param>
    /// <exception cref="ArgumentException">The input has rank below 2, the labels are not one per sample, a label is
    /// outside [0, K) (and not the ignore index), or the weights are not K.</exception>
    public Tensor Forward(Tensor logProbabilities, int[] labels)
    {
        (Tensor rows, int[] sampleShape) = Losses.ClassesLast(nameof(NLLLoss), logProbabilities);
        return Losses.InSampleShape(Losses.LabelLoss(nameof(NLLLoss), rows, labels, _weight, IgnoreIndex, smoothing: 0f, Reduction), Reduction, sampleShape);
    }

    /// <summary>The loss with the labels as an int64 tensor of the samples' shape ((N) or (N, d₁, …)).</summary>
    /// <exception cref="ArgumentException">Labels of another dtype or shape, or as <see cref="Forward(Tensor, int[])"/>.</exception>
    public Tensor Forward(Tensor logProbabilities, Tensor labels) => Forward(logProbabilities, Losses.LabelArray(nameof(NLLLoss), logProbabilities, labels));
}
