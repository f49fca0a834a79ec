namespace MiniNet.Layers;

/// <summary>How a loss reduces its per-element values (PyTorch's <c>reduction</c>).</summary>
public enum Reduction
{
    /// <summary>The mean over the elements (for a weighted NLL or cross-entropy, over the weights).</summary>
    Mean,

    /// <summary>The sum over the elements.</summary>
    Sum,

    /// <summary>No reduction: one value per element (per sample for NLL).</summary>
    None,
}

internal static class Losses
{
    public static Tensor Reduce(Tensor perElement, Reduction reduction) => reduction switch
    {
        Reduction.Mean => perElement.Mean(),
        Reduction.Sum => perElement.Sum(),
        Reduction.None => perElement,
        _ => throw new ArgumentOutOfRangeException(nameof(reduction), reduction, "reduction must be Mean, Sum or None."),
    };

    public static void CheckReduction(Reduction reduction)
    {
        if (!Enum.IsDefined(reduction)) throw new ArgumentOutOfRangeException(nameof(reduction), reduction, "reduction must be Mean, Sum or None.");
    }

    /// <summary>Refuses a target whose shape differs from the prediction's (no silent broadcasting, unlike a
    /// mistaken (N,) against (N, 1) in PyTorch, which broadcasts to (N, N) with a warning).</summary>
    public static void CheckSameShape(string loss, Tensor prediction, Tensor target)
    {
        ArgumentNullException.ThrowIfNull(prediction);
        ArgumentNullException.ThrowIfNull(target);
        if (!prediction.Shape.SequenceEqual(target.Shape))
            throw new ArgumentException(
                $"{loss}: prediction {Shapes.Format(prediction.Shape)} and target {Shapes.Format(target.Shape)} differ in shape.", nameof(target));
    }

    /// <summary>Refuses a class weight that is negative, NaN or infinite.</summary>
    public static float[]? CheckClassWeights(float[]? weight)
    {
        foreach (float w in weight ?? [])
            if (!(w >= 0) || !float.IsFinite(w))
                throw new ArgumentOutOfRangeException(nameof(weight), w, "every class weight must be non-negative and finite.");
        return weight?.ToArray();
    }

    /// <summary>The classification losses over log-probabilities (N, K) as one product with a constant mask: for each
    /// kept sample, (1 − ε)·w[yₙ] at its label plus ε·w[k]/K at every class k; per sample the negated sum of its row.
    /// The mean divides by Σ w[yₙ] over the kept samples (NaN when every sample is ignored, as in PyTorch).</summary>
    public static Tensor LabelLoss(string loss, Tensor logProbabilities, int[] labels, float[]? weight, int ignoreIndex,
        float smoothing, Reduction reduction)
    {
        ArgumentNullException.ThrowIfNull(logProbabilities);
        ArgumentNullException.ThrowIfNull(labels);
        if (logProbabilities.Shape.Count != 2)
            throw new ArgumentException($"{loss}: expected (N, K) inputs, got {Shapes.Format(logProbabilities.Shape)}.", nameof(logProbabilities));
        int n = logProbabilities.Shape[0], k = logProbabilities.Shape[1];
        if (labels.Length != n)
            throw new ArgumentException($"{loss}: {labels.Length} labels for {n} samples (one per sample, or per position of (N, K, d1, ...) scores, in row-major order).", nameof(labels));
        if (weight is not null && weight.Length != k)
            throw new ArgumentException($"{loss}: {weight.Length} class weights for {k} classes.", nameof(logProbabilities));
        if (smoothing == 0) return PickedLoss(loss, logProbabilities, labels, weight, ignoreIndex, reduction);
        var mask = new float[n * k];
        float total = 0, spread = smoothing / k;
        for (int i = 0; i < n; i++)
        {
            int label = labels[i];
            if (label == ignoreIndex) continue;
            if ((uint)label >= (uint)k)
                throw new ArgumentException($"{loss}: label {label} at index {i} is outside [0, {k}).", nameof(labels));
            if (spread != 0)
                for (int c = 0; c < k; c++) mask[i * k + c] = spread * (weight?[c] ?? 1f);
            float w = weight?[label] ?? 1f;
            mask[i * k + label] += (1 - smoothing) * w;
            total += w;
        }
        Tensor perSample = -(logProbabilities * Tensor.FromArray(mask, n, k)).Sum(1);
        return reduction == Reduction.Mean ? perSample.Sum() * (1f / total) : Reduce(perSample, reduction);
    }

    /// <summary>Without smoothing, each sample's −w[yₙ]·log p[n, yₙ] is one gathered value: memory for N values, not
    /// the mask's N·K (which (N, K, H, W) segmentation scores make large). The same sums as the mask's row sums, whose
    /// other terms are zeros.</summary>
    private static Tensor PickedLoss(string loss, Tensor logProbabilities, int[] labels, float[]? weight, int ignoreIndex, Reduction reduction)
    {
        int n = logProbabilities.Shape[0], k = logProbabilities.Shape[1];
        var index = new long[n];
        var weights = new float[n];
        float total = 0;
        for (int i = 0; i < n; i++)
        {
            int label = labels[i];
            if (label == ignoreIndex) continue;   // index 0 with weight 0: counts for nothing
            if ((uint)label >= (uint)k)
                throw new ArgumentException($"{loss}: label {label} at index {i} is outside [0, {k}).", nameof(labels));
            (index[i], weights[i]) = (label, weight?[label] ?? 1f);
            total += weights[i];
        }
        Tensor picked = logProbabilities.Gather(1, Tensor.FromInt64Array(index, n, 1)).Reshape(n);
        Tensor perSample = -(picked * Tensor.FromArray(weights, n));
        return reduction == Reduction.Mean ? perSample.Sum() * (1f / total) : Reduce(perSample, reduction);
    }

    /// <summary>(N, K, d₁, …) scores as (N·d₁·…, K) rows with the classes last, as PyTorch's classification losses read
    /// them (each position its own sample); (N, K) is returned as it is. Also the shape a per-sample result takes back.</summary>
    /// <exception cref="ArgumentException">Scores of rank below 2.</exception>
    public static (Tensor Rows, int[] SampleShape) ClassesLast(string loss, Tensor scores)
    {
        ArgumentNullException.ThrowIfNull(scores);
        if (scores.Rank < 2)
            throw new ArgumentException($"{loss}: expected (N, K) or (N, K, d1, ...) inputs, got {Shapes.Format(scores.Shape)}.", nameof(scores));
        if (scores.Rank == 2) return (scores, [scores.Shape[0]]);
        int k = scores.Shape[1];
        int[] order = [0, .. Enumerable.Range(2, scores.Rank - 2), 1];
        int[] sampleShape = [scores.Shape[0], .. scores.Shape.Skip(2)];
        return (scores.Permute(order).Reshape(Shapes.Numel(sampleShape), k), sampleShape);
    }

    /// <summary>Labels given as an int64 tensor of the samples' shape, as an array; the shape must be (N) for (N, K)
    /// scores or (N, d₁, …) for (N, K, d₁, …).</summary>
    /// <exception cref="ArgumentException">Labels of another dtype or shape.</exception>
    public static int[] LabelArray(string loss, Tensor scores, Tensor labels)
    {
        ArgumentNullException.ThrowIfNull(scores);
        ArgumentNullException.ThrowIfNull(labels);
        int[] expected = [scores.Shape[0], .. scores.Shape.Skip(2)];
        if (labels.DType != DType.Int64)
            throw new ArgumentException($"{loss}: labels must be an int64 tensor, got {labels.DType}.", nameof(labels));
        if (!labels.Shape.SequenceEqual(expected))
            throw new ArgumentException(
                $"{loss}: labels {Shapes.Format(labels.Shape)} do not match scores {Shapes.Format(scores.Shape)}: expected {Shapes.Format(expected)}.", nameof(labels));
        ReadOnlySpan<long> values = labels.Int64Data;
        var result = new int[values.Length];
        for (int i = 0; i < result.Length; i++)
            result[i] = values[i] is >= int.MinValue and <= int.MaxValue ? (int)values[i]
                : throw new ArgumentException($"{loss}: label {values[i]} at index {i} is outside the int range of class labels.", nameof(labels));
        return result;
    }

    /// <summary>A per-sample result (Reduction.None) back in the samples' shape.</summary>
    public static Tensor InSampleShape(Tensor result, Reduction reduction, int[] sampleShape) =>
        reduction == Reduction.None && sampleShape.Length > 1 ? result.Reshape(sampleShape) : result;
}
