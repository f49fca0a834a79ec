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
}
