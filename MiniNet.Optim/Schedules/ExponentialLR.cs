namespace MiniNet.Optim;

/// <summary>lr = initial·γ^epoch (PyTorch's ExponentialLR).</summary>
public sealed class ExponentialLR : LRScheduler
{
    /// <summary>Multiplies the rate by <paramref name="gamma"/> every step.</summary>
    public ExponentialLR(Optimizer optimizer, float gamma) : base(optimizer)
    {
        if (!(gamma > 0f)) throw new ArgumentOutOfRangeException(nameof(gamma), gamma, "gamma must be positive.");
        Gamma = gamma;
        SetEpoch(0);
    }

    /// <summary>Decay factor per step.</summary>
    public float Gamma { get; }

    /// <inheritdoc/>
    protected override double LearningRate(double initialLr, int epoch) => initialLr * Math.Pow(Gamma, epoch);
}

/// <summary>lr = initial·factor(epoch) for a function you give (PyTorch's LambdaLR), e.g. an inverse-square-root
/// warm-up. The function must be pure: resuming calls it with the restored epoch.</summary>
public sealed class LambdaLR : LRScheduler
{
    private readonly Func<int, double> _factor;

    /// <summary>Scales every group's initial rate by <paramref name="factor"/>(epoch).</summary>
    public LambdaLR(Optimizer optimizer, Func<int, double> factor) : base(optimizer)
    {
        ArgumentNullException.ThrowIfNull(factor);
        _factor = factor;
        SetEpoch(0);
    }

    /// <inheritdoc/>
    /// <exception cref="InvalidOperationException">The function gave a negative, infinite or NaN factor.</exception>
    protected override double LearningRate(double initialLr, int epoch)
    {
        double f = _factor(epoch);
        if (!(f >= 0 && double.IsFinite(f)))
            throw new InvalidOperationException($"LambdaLR: the factor at epoch {epoch} is {f}; it must be finite and non-negative.");
        return initialLr * f;
    }
}

/// <summary>Cosine annealing with warm restarts (SGDR; PyTorch's CosineAnnealingWarmRestarts): the rate follows
/// <see cref="CosineAnnealingLR"/>'s half cosine from the initial rate to <see cref="EtaMin"/> over T_i steps, then
/// restarts; T_0 = <see cref="T0"/> and each period is <see cref="TMult"/> times the last.</summary>
public sealed class CosineAnnealingWarmRestarts : LRScheduler
{
    /// <summary>Creates the schedule (PyTorch's defaults: every period T_0, η_min = 0).</summary>
    public CosineAnnealingWarmRestarts(Optimizer optimizer, int t0, int tMult = 1, float etaMin = 0f) : base(optimizer)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(t0);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(tMult);
        if (!(etaMin >= 0f)) throw new ArgumentOutOfRangeException(nameof(etaMin), etaMin, "etaMin must be non-negative.");
        (T0, TMult, EtaMin) = (t0, tMult, etaMin);
        SetEpoch(0);
    }

    /// <summary>Length of the first period.</summary>
    public int T0 { get; }

    /// <summary>Growth of the period at each restart.</summary>
    public int TMult { get; }

    /// <summary>Minimum learning rate.</summary>
    public float EtaMin { get; }

    /// <inheritdoc/>
    protected override double LearningRate(double initialLr, int epoch)
    {
        (long cur, long period) = Position(epoch);
        return EtaMin + (initialLr - EtaMin) * (1 + Math.Cos(Math.PI * cur / period)) / 2;
    }

    /// <summary>Steps into the current period and its length.</summary>
    private (long Current, long Period) Position(int epoch)
    {
        if (TMult == 1) return (epoch % T0, T0);
        // Periods T0, T0·m, T0·m², … start at T0·(mⁿ − 1)/(m − 1): walk them in integers (no logarithm rounding).
        long start = 0, period = T0;
        while (epoch >= start + period) { start += period; period *= TMult; }
        return (epoch - start, period);
    }
}
