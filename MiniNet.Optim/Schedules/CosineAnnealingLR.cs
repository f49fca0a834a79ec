namespace MiniNet.Optim;

/// <summary>lr = η_min + (initial − η_min)·(1 + cos(π·epoch/T_max))/2, PyTorch's cosine annealing (it keeps following the cosine past T_max).</summary>
public sealed class CosineAnnealingLR : LRScheduler
{
    /// <summary>Anneals from the initial rate to <paramref name="etaMin"/> over <paramref name="tMax"/> epochs.</summary>
    public CosineAnnealingLR(Optimizer optimizer, int tMax, float etaMin = 0f) : base(optimizer)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(tMax);
        if (!(etaMin >= 0f)) throw new ArgumentOutOfRangeException(nameof(etaMin), etaMin, "etaMin must be non-negative.");
        (TMax, EtaMin) = (tMax, etaMin);
        SetEpoch(0);
    }

    /// <summary>Half period in epochs.</summary>
    public int TMax { get; }

    /// <summary>Minimum learning rate.</summary>
    public float EtaMin { get; }

    /// <inheritdoc/>
    protected override double LearningRate(double initialLr, int epoch) =>
        EtaMin + (initialLr - EtaMin) * (1 + Math.Cos(Math.PI * epoch / TMax)) / 2;
}
