namespace MiniNet.Layers;

/// <summary>Absolute error |ŷ − y|, reduced (PyTorch's <c>nn.L1Loss</c>; the gradient at 0 is 0). Composite.</summary>
public sealed class L1Loss
{
    /// <summary>An absolute-error loss with the given reduction.</summary>
    public L1Loss(Reduction reduction = Reduction.Mean)
    {
        Losses.CheckReduction(reduction);
        Reduction = reduction;
    }

    /// <summary>How the per-element values are reduced.</summary>
    public Reduction Reduction { get; }

    /// <summary>The loss: one element, or the prediction's shape for <see cref="Reduction.None"/>.</summary>
    /// <exception cref="ArgumentException">The shapes differ.</exception>
    public Tensor Forward(Tensor prediction, Tensor target)
    {
        Losses.CheckSameShape(nameof(L1Loss), prediction, target);
        return Losses.Reduce((prediction - target).Abs(), Reduction);
    }
}

/// <summary>Smooth L1: with d = ŷ − y, 0.5·d²/β where |d| &lt; β, else |d| − 0.5·β (PyTorch's
/// <c>nn.SmoothL1Loss</c>; β = 0 is the L1 loss, whose gradient at a zero difference is 0, where PyTorch's β = 0
/// gives −1). Composite.</summary>
public sealed class SmoothL1Loss
{
    /// <summary>A smooth L1 loss; <paramref name="beta"/> ≥ 0 and finite.</summary>
    public SmoothL1Loss(Reduction reduction = Reduction.Mean, float beta = 1f)
    {
        Losses.CheckReduction(reduction);
        if (!(beta >= 0) || !float.IsFinite(beta)) throw new ArgumentOutOfRangeException(nameof(beta), beta, "beta must be non-negative and finite.");
        (Reduction, Beta) = (reduction, beta);
    }

    /// <summary>How the per-element values are reduced.</summary>
    public Reduction Reduction { get; }

    /// <summary>Where the loss turns from quadratic to linear.</summary>
    public float Beta { get; }

    /// <summary>The loss: one element, or the prediction's shape for <see cref="Reduction.None"/>.</summary>
    /// <exception cref="ArgumentException">The shapes differ.</exception>
    public Tensor Forward(Tensor prediction, Tensor target)
    {
        Losses.CheckSameShape(nameof(SmoothL1Loss), prediction, target);
        return Losses.Reduce(PerElement(prediction - target, Beta), Reduction);
    }

    /// <summary>With a = |d| and m = min(a, β): m·(a − m/2)/β, which is 0.5·a²/β below β and a − β/2 above, with the
    /// gradient of each branch (the clamp passes its gradient up to and including β, where both slopes are 1).</summary>
    internal static Tensor PerElement(Tensor difference, float beta)
    {
        Tensor a = difference.Abs();
        if (beta == 0) return a;
        Tensor m = a.Clamp(max: beta);
        return (m * (a - m * 0.5f)) * (1f / beta);
    }
}

/// <summary>Huber loss: with d = ŷ − y, 0.5·d² where |d| &lt; δ, else δ·(|d| − 0.5·δ) (PyTorch's
/// <c>nn.HuberLoss</c>: δ times the smooth L1 loss with β = δ). Composite.</summary>
public sealed class HuberLoss
{
    /// <summary>A Huber loss; <paramref name="delta"/> &gt; 0 and finite.</summary>
    public HuberLoss(Reduction reduction = Reduction.Mean, float delta = 1f)
    {
        Losses.CheckReduction(reduction);
        if (!(delta > 0) || !float.IsFinite(delta)) throw new ArgumentOutOfRangeException(nameof(delta), delta, "delta must be positive and finite.");
        (Reduction, Delta) = (reduction, delta);
    }

    /// <summary>How the per-element values are reduced.</summary>
    public Reduction Reduction { get; }

    /// <summary>Where the loss turns from quadratic to linear.</summary>
    public float Delta { get; }

    /// <summary>The loss: one element, or the prediction's shape for <see cref="Reduction.None"/>.</summary>
    /// <exception cref="ArgumentException">The shapes differ.</exception>
    public Tensor Forward(Tensor prediction, Tensor target)
    {
        Losses.CheckSameShape(nameof(HuberLoss), prediction, target);
        return Losses.Reduce(SmoothL1Loss.PerElement(prediction - target, Delta) * Delta, Reduction);
    }
}

/// <summary>Binary cross-entropy on logits x against targets t in [0, 1]:
/// −[p·t·log σ(x) + (1 − t)·log(1 − σ(x))] = p·t·softplus(−x) + (1 − t)·softplus(x), times an optional per-element
/// weight (PyTorch's <c>nn.BCEWithLogitsLoss</c>, with <c>pos_weight</c> p per class along the last axis).
/// Numerically stable for any logit. Composite.</summary>
public sealed class BCEWithLogitsLoss
{
    private readonly Tensor? _weight, _posWeight;

    /// <summary>A binary cross-entropy loss on logits. <paramref name="weight"/> rescales each element (broadcast
    /// against the logits); <paramref name="posWeight"/> weighs the positive term, one value per class of the last axis.</summary>
    public BCEWithLogitsLoss(Reduction reduction = Reduction.Mean, Tensor? weight = null, Tensor? posWeight = null)
    {
        Losses.CheckReduction(reduction);
        if (posWeight is not null && posWeight.Shape.Count != 1)
            throw new ArgumentException($"BCEWithLogitsLoss: posWeight must be one-dimensional (one value per class), not {Shapes.Format(posWeight.Shape)}.", nameof(posWeight));
        (Reduction, _weight, _posWeight) = (reduction, weight, posWeight);
    }

    /// <summary>How the per-element values are reduced.</summary>
    public Reduction Reduction { get; }

    /// <summary>The loss: one element, or the logits' shape for <see cref="Reduction.None"/>.</summary>
    /// <exception cref="ArgumentException">The shapes differ, or posWeight does not match the last axis.</exception>
    public Tensor Forward(Tensor logits, Tensor target)
    {
        Losses.CheckSameShape(nameof(BCEWithLogitsLoss), logits, target);
        if (_posWeight is not null && (logits.Shape.Count == 0 || logits.Shape[^1] != _posWeight.Shape[0]))
            throw new ArgumentException(
                $"BCEWithLogitsLoss: posWeight has {_posWeight.Shape[0]} values but the logits {Shapes.Format(logits.Shape)} have {(logits.Shape.Count == 0 ? 1 : logits.Shape[^1])} along the last axis.", nameof(logits));
        Tensor positive = (-logits).Softplus() * (_posWeight is null ? target : target * _posWeight);
        Tensor loss = positive + logits.Softplus() * (1f - target);
        if (_weight is not null) loss = loss * _weight;
        return Losses.Reduce(loss, Reduction);
    }
}
