namespace MiniNet.Layers;

/// <summary>Squared error (ŷ − y)², reduced by its mean (default), its sum, or not at all. Composite: no backward of
/// its own.</summary>
public sealed class MSELoss
{
    /// <summary>A squared-error loss with the given reduction.</summary>
    public MSELoss(Reduction reduction = Reduction.Mean)
    {
        Losses.CheckReduction(reduction);
        Reduction = reduction;
    }

    /// <summary>How the per-element values are reduced.</summary>
    public Reduction Reduction { get; }

    /// <summary>The loss: one element, or the prediction's shape for <see cref="Reduction.None"/>.</summary>
    /// <exception cref="ArgumentException">The shapes differ (no silent broadcasting).</exception>
    public Tensor Forward(Tensor prediction, Tensor target)
    {
        Losses.CheckSameShape(nameof(MSELoss), prediction, target);
        return Losses.Reduce((prediction - target).Square(), Reduction);
    }
}
