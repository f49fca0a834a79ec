namespace MiniNet.Layers;

/// <summary>Cross-entropy between logits (N, K) (or (N, K, d₁, …), a class score per position) and integer labels in [0, K): −log softmax(x)ₙ,yₙ per sample,
/// optionally with class weights, an ignored label and label smoothing, reduced by the (weighted) mean, the sum or
/// not at all (PyTorch's <c>nn.CrossEntropyLoss</c>).</summary>
/// <remarks>With the defaults it is the fused, numerically stable <see cref="Ops.CrossEntropy"/>. With options it is
/// log-softmax times one mask: for each kept sample, (1 − ε)·w[yₙ] at its label plus ε·w[k]/K at every class k, so
/// the loss is (1 − ε)·NLL + ε·(the weighted mean of −log pₖ), as PyTorch defines label smoothing; the mean divides by
/// Σ w[yₙ] over the kept samples. An out-of-range label throws, naming it.</remarks>
public sealed class CrossEntropyLoss
{
    private readonly float[]? _weight;

    /// <summary>A cross-entropy loss. <paramref name="weight"/>: one non-negative finite value per class;
    /// <paramref name="ignoreIndex"/>: a label whose samples count for nothing; <paramref name="labelSmoothing"/>:
    /// ε in [0, 1].</summary>
    public CrossEntropyLoss(Reduction reduction = Reduction.Mean, float[]? weight = null, int ignoreIndex = -100, float labelSmoothing = 0f)
    {
        Losses.CheckReduction(reduction);
        if (!(labelSmoothing >= 0 && labelSmoothing <= 1))
            throw new ArgumentOutOfRangeException(nameof(labelSmoothing), labelSmoothing, "labelSmoothing must be in [0, 1].");
        (Reduction, _weight, IgnoreIndex, LabelSmoothing) = (reduction, Losses.CheckClassWeights(weight), ignoreIndex, labelSmoothing);
    }

    /// <summary>How the per-sample values are reduced.</summary>
    public Reduction Reduction { get; }

    /// <summary>The label that marks a sample to skip.</summary>
    public int IgnoreIndex { get; }

    /// <summary>ε: the share of each target spread evenly over the classes.</summary>
    public float LabelSmoothing { get; }

    /// <summary>The loss: one element, or the samples' shape ((N), or (N, d₁, …)) for <see cref="Reduction.None"/>.</summary>
    /// <param name="logits">(N, K) scores, or (N, K, d₁, …) with a class score per position (segmentation: (N, K, H, W)).</param>
    /// <param name="labels">One label per sample in row-major order: N, or N·d₁·… for (N, K, d₁, …) logits.</param>
    /// <exception cref="ArgumentException">The logits have rank below 2, the labels are not one per sample, a label is
    /// outside [0, K) (and not the ignore index), or the weights are not K.</exception>
    public Tensor Forward(Tensor logits, int[] labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        (Tensor rows, int[] sampleShape) = Losses.ClassesLast(nameof(CrossEntropyLoss), logits);
        bool plain = Reduction == Reduction.Mean && _weight is null && LabelSmoothing == 0 && !labels.AsSpan().Contains(IgnoreIndex);
        if (plain) return rows.CrossEntropy(labels);
        Tensor loss = Losses.LabelLoss(nameof(CrossEntropyLoss), rows.LogSoftmax(1), labels, _weight, IgnoreIndex, LabelSmoothing, Reduction);
        return Losses.InSampleShape(loss, Reduction, sampleShape);
    }

    /// <summary>The loss with the labels as an int64 tensor of the samples' shape: (N) for (N, K) logits, (N, d₁, …) for
    /// (N, K, d₁, …), as PyTorch takes them.</summary>
    /// <exception cref="ArgumentException">Labels of another dtype or shape, or as <see cref="Forward(Tensor, int[])"/>.</exception>
    public Tensor Forward(Tensor logits, Tensor labels) => Forward(logits, Losses.LabelArray(nameof(CrossEntropyLoss), logits, labels));
}
