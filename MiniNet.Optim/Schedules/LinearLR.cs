namespace MiniNet.Optim;

/// <summary>Linear warm-up (PyTorch's LinearLR): the factor goes linearly from <see cref="StartFactor"/> to
/// <see cref="EndFactor"/> over <see cref="TotalIters"/> epochs, then stays.</summary>
public sealed class LinearLR : LRScheduler
{
    /// <summary>Creates the schedule (PyTorch's defaults: 1/3 → 1 over 5 epochs).</summary>
    public LinearLR(Optimizer optimizer, float startFactor = 1f / 3f, float endFactor = 1f, int totalIters = 5) : base(optimizer)
    {
        if (!(startFactor > 0f && startFactor <= 1f)) throw new ArgumentOutOfRangeException(nameof(startFactor), startFactor, "startFactor must be in (0, 1].");
        if (!(endFactor >= 0f && endFactor <= 1f)) throw new ArgumentOutOfRangeException(nameof(endFactor), endFactor, "endFactor must be in [0, 1].");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(totalIters);
        (StartFactor, EndFactor, TotalIters) = (startFactor, endFactor, totalIters);
        SetEpoch(0);
    }

    /// <summary>Factor at epoch 0.</summary>
    public float StartFactor { get; }

    /// <summary>Factor from epoch <see cref="TotalIters"/> on.</summary>
    public float EndFactor { get; }

    /// <summary>Length of the ramp in epochs.</summary>
    public int TotalIters { get; }

    /// <inheritdoc/>
    protected override double LearningRate(double initialLr, int epoch) =>
        initialLr * (StartFactor + (EndFactor - StartFactor) * Math.Min(epoch, TotalIters) / (double)TotalIters);
}
