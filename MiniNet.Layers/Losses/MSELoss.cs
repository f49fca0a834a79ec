namespace MiniNet.Layers;

/// <summary>Mean squared error, mean((ŷ − y)²). Composite: no backward of its own.</summary>
public sealed class MSELoss
{
    /// <summary>The loss as a one-element tensor.</summary>
    /// <exception cref="ArgumentException">The shapes differ (no silent broadcasting).</exception>
    public Tensor Forward(Tensor prediction, Tensor target)
    {
        ArgumentNullException.ThrowIfNull(prediction);
        ArgumentNullException.ThrowIfNull(target);
        if (!prediction.Shape.SequenceEqual(target.Shape))
            throw new ArgumentException(
                $"MSELoss: prediction {Shapes.Format(prediction.Shape)} and target {Shapes.Format(target.Shape)} differ in shape.", nameof(target));
        return (prediction - target).Square().Mean();
    }
}
